/**
 * The leak corpus, end to end: `scripts/accuracy.js` runs `leak-lens run --track-allocations` on a selection of
 * corpus apps (one of each hard kind) and scores every report against the app's expected answer (class, owner
 * file:line, allocation file:line, first group). The whole corpus, three runs each, is `npm run accuracy`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/fixtures';

const apps = [
  'undo-history-chain',
  'closure-replace-chain',
  'dedupe-set',
  'bus-listeners',
  'dataloader-cache',
  'worker-jobs',
  'esm-cachebust-reimport',
  'control-lru',
];

test(`corpus apps are answered right: ${apps.join(', ')}`, () => {
  const r = spawnSync(
    process.execPath,
    [path.join(repoRoot, 'scripts', 'accuracy.js'), '--only', apps.join(','), '--runs', '1'],
    { cwd: repoRoot, encoding: 'utf8', timeout: 15 * 60_000 },
  );
  const out = `${r.stdout}\n${r.stderr}`;
  assert.match(out, new RegExp(`^${apps.length}/${apps.length} correct`, 'm'), out);
  assert.equal(r.status, 0, out);
});
