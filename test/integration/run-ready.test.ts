/**
 * `leak-lens run` waits for the program's own ready line: the inspector's banner ("Debugger listening on ws://...")
 * matches the default pattern and `--ready listening`, yet must not start the action, which needs TARGET_URL.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/fixtures';

const cli = path.join(repoRoot, 'bin', 'leak-lens.js');

for (const ready of [undefined, 'listening']) {
  test(`the action gets TARGET_URL from a URL printed well after the inspector banner (${ready ? `--ready ${ready}` : 'default ready pattern'})`, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-lens-run-ready-'));
    try {
      const app = path.join(dir, 'late.js');
      // The server starts listening only after a while, as one that first loads its configuration would.
      fs.writeFileSync(
        app,
        `setTimeout(() => {
  require('http').createServer((q, s) => s.end('ok'))
    .listen(0, '127.0.0.1', function () { console.log('api listening on http://127.0.0.1:' + this.address().port + '/'); });
}, 500);
`,
      );
      const action = `node -e "process.exit(process.env.TARGET_URL ? 0 : 3)"`;
      const args = [
        cli,
        'run',
        '--snapshots',
        '2',
        '--action',
        action,
        ...(ready ? ['--ready', ready] : []),
        '--',
        'node',
        app,
      ];
      const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /failed \(exit code 3\)/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
