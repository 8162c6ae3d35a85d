/**
 * `leak-lens run` when things go wrong, with real programs: each case ends with exit status 2, one clear line, no
 * process left running and no snapshot left behind.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/fixtures';
import { tempDir } from '../helpers/temp';

const cli = path.join(repoRoot, 'bin', 'leak-lens.js');

function run(args: string[]) {
  return spawnSync(process.execPath, [cli, 'run', ...args], { encoding: 'utf8', timeout: 60_000 });
}

/** A killed process may take a moment to be reaped by init once its parent is gone. */
function assertGone(pid: number, what: string): void {
  const until = Date.now() + 3000;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > until) assert.fail(`${what} (pid ${pid}) is still running`);
    spawnSync('sleep', ['0.05']);
  }
}

test('a program that crashes mid-run: the crash is named, not the action that saw it', (t) => {
  const dir = tempDir(t, 'run-errors');
  const app = path.join(dir, 'crashy.js');
  fs.writeFileSync(
    app,
    `let n = 0;
require('http').createServer((req, res) => { if (++n === 150) process.exit(7); res.end('ok'); })
  .listen(0, '127.0.0.1', function () { console.log('listening on http://127.0.0.1:' + this.address().port); });
`,
  );
  const out = path.join(dir, 'snaps');
  const r = run(['--out', out, '--action', `node ${path.join(repoRoot, 'demo', 'load.js')}`, '--', 'node', app]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /leak-lens: the program exited with code 7 during the run/);
  assertGone(Number(/pid (\d+)/.exec(r.stderr)![1]), 'the program');
  const left = fs.existsSync(out) ? fs.readdirSync(out).filter((f) => f.endsWith('.part')) : [];
  assert.deepEqual(left, [], 'no partial snapshot');
});

test('an action that hangs is stopped at its time limit, with everything it started', (t) => {
  const dir = tempDir(t, 'run-errors');
  const app = path.join(dir, 'server.js');
  fs.writeFileSync(
    app,
    `require('http').createServer((q, s) => s.end('ok')).listen(0, '127.0.0.1', () => console.log('listening'));\n`,
  );
  const marker = path.join(dir, 'sleeper.pid');
  const r = run(['--action', `sh -c 'echo $$ > ${marker}; exec sleep 30'`, '--action-timeout', '1', '--', 'node', app]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /leak-lens: the action .* did not finish within 1 s and was stopped; raise --action-timeout/);
  assertGone(Number(fs.readFileSync(marker, 'utf8')), 'the action');
  assertGone(Number(/pid (\d+)/.exec(r.stderr)![1]), 'the program');
});

test('a program that is not Node.js, or no program at all, is refused with what to type instead', (t) => {
  const r1 = run(['--', '/bin/sleep', '10']);
  assert.equal(r1.status, 2);
  assert.match(
    r1.stderr,
    /leak-lens: leak-lens run measures Node\.js programs, and "\/bin\/sleep" is not one: start it as `-- node app\.js`/,
  );
  const r2 = run(['--', 'node']);
  assert.equal(r2.status, 2);
  assert.match(r2.stderr, /no script to run after node/);
  const r3 = run(['--', 'node', path.join(tempDir(t, 'run-errors'), 'missing.js')]);
  assert.equal(r3.status, 2);
  assert.match(r3.stderr, /leak-lens: .*(exited with code 1|ran to the end)/);
});

test('a program that dies at once, with or without --track-allocations: its exit status and last output, not a socket error', (t) => {
  const dir = tempDir(t, 'run-errors');
  {
    const app = path.join(dir, 'no-config.js');
    fs.writeFileSync(
      app,
      `console.log('loading config');\nconsole.error('config: DATABASE_URL is not set');\nprocess.exit(3);\n`,
    );
    const thrower = path.join(dir, 'thrower.js');
    fs.writeFileSync(thrower, `throw new Error('boom while starting');\n`);
    for (const [script, code, last] of [
      [app, 3, 'config: DATABASE_URL is not set'],
      [thrower, 1, 'Error: boom while starting'],
    ] as const) {
      for (const flags of [['--track-allocations'], []]) {
        const r = run([...flags, '--', 'node', script]);
        assert.equal(r.status, 2, r.stderr);
        const message = r.stderr.trimEnd().split('\n').at(-1)!;
        assert.doesNotMatch(r.stderr, /WebSocket|could not send/);
        // Depending on timing the exit is seen before the capture session attaches or after.
        assert.match(
          message,
          new RegExp(
            `^leak-lens: (could not start .*: )?the program exited with code ${code} (during the run|before a capture session could attach to it).* \\(last output: "${last}"\\)`,
          ),
        );
        const pid = /pid (\d+)/.exec(r.stderr)?.[1];
        if (pid) assertGone(Number(pid), 'the program');
      }
    }
  }
});
