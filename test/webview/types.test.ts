import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';

const repoRoot = path.resolve(__dirname, '..', '..', '..');

// The bundle step (scripts/build-media.js) is esbuild alone, which does not check types; this does, with the DOM lib.
test('the webview source type-checks under media/tsconfig.json', () => {
  const tsc = require.resolve('typescript/bin/tsc', { paths: [repoRoot] });
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(repoRoot, 'media', 'tsconfig.json')], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
