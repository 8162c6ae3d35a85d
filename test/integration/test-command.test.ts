/**
 * `leak-lens test <scenario>` on real scenario modules (test/fixtures/scenarios): a module-level cache that grows per
 * call is reported with its class, owner line and allocation line (exit 1); a bounded cache is clean (exit 0); a
 * scenario without an action or with a throwing one gets one line and exit 2. The scenario's process is gone and its
 * snapshots removed when the command ends, also when it is stopped by a signal in the middle of a round.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/fixtures';
import { groupMembers, isRunning, watch } from '../helpers/processes';
import { tempDir } from '../helpers/temp';

const cli = path.join(repoRoot, 'bin', 'leak-lens.js');
const scenarios = path.join(repoRoot, 'test', 'fixtures', 'scenarios');

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `leak-lens test ...` with its own TMPDIR, and resolves when it has exited. */
function leakLensTest(tmp: string, args: string[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'test', ...args], {
      cwd: repoRoot,
      env: { ...process.env, TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** The scenario process the command started, from its "started ... (pid N)" line: it must be gone. */
function assertProgramGone(stderr: string): void {
  const pid = Number(/started node .* \(pid (\d+)\)/.exec(stderr)?.[1]);
  assert.ok(pid > 0, `no "started" line in:\n${stderr}`);
  assert.equal(fs.existsSync(`/proc/${pid}`), false, `the scenario's process ${pid} outlived leak-lens test`);
}

/** The last line on stderr: the one-line error of a failed command. */
function lastLine(text: string): string {
  return text.trimEnd().split('\n').pop() ?? '';
}

test('a scenario whose cache grows per call is reported with its class, owner line and allocation line (exit 1)', async (t) => {
  const tmp = tempDir(t, 'test-leaky');
  const r = await leakLensTest(tmp, [path.join(scenarios, 'leaky-cache.js')]);
  assert.equal(r.status, 1, r.stderr + r.stdout);
  // 15 calls per round (the scenario's own `iterations`), 3 snapshots.
  assert.match(r.stdout, /^1 leak found across 3 snapshots/m);
  assert.match(r.stdout, /^1\. RenderedPage x\d+ \(\+15 per round\)/m);
  assert.match(r.stdout, /held by pageCache \[variable\] {2}test\/fixtures\/scenarios\/leaky-cache\.js:13$/m);
  assert.match(r.stdout, /allocated in render\(\) {2}test\/fixtures\/scenarios\/leaky-cache\.js:17 /m);
  assert.match(r.stderr, /scenario leaky-cache\.js: 15 calls of action per round/);
  assertProgramGone(r.stderr);
  assert.deepEqual(fs.readdirSync(tmp), [], 'snapshots left in TMPDIR');
});

test('a scenario with a bounded cache, setup and teardown is clean (exit 0, JSON report)', async (t) => {
  const tmp = tempDir(t, 'test-clean');
  const r = await leakLensTest(tmp, [
    path.join(scenarios, 'bounded-cache.mjs'),
    '--format',
    'json',
    '--iterations',
    '12',
  ]);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const report = JSON.parse(r.stdout) as { verdict: string; leaks: unknown[]; snapshots: unknown[] };
  assert.equal(report.verdict, 'clean');
  assert.equal(report.leaks.length, 0);
  assert.equal(report.snapshots.length, 3);
  assert.match(r.stderr, /scenario bounded-cache\.mjs: 12 calls of action per round, with setup, with teardown/);
  assertProgramGone(r.stderr);
  assert.deepEqual(fs.readdirSync(tmp), [], 'snapshots left in TMPDIR');
});

test('a scenario without an action, or whose action throws, gets one line and exit 2', async (t) => {
  const tmp = tempDir(t, 'test-bad');
  const dir = tempDir(t, 'test-bad-scenarios');
  const noAction = path.join(dir, 'no-action.mjs');
  fs.writeFileSync(noAction, 'export const iterations = 5;\n');
  const throwing = path.join(dir, 'throwing.js');
  fs.writeFileSync(
    throwing,
    "let calls = 0;\nexports.action = () => { if (++calls > 3) throw new TypeError('the pool is closed'); };\n",
  );

  const a = await leakLensTest(tmp, [noAction]);
  assert.equal(a.status, 2, a.stderr);
  assert.equal(a.stdout, '');
  assert.match(
    lastLine(a.stderr),
    /^leak-lens: scenario no-action\.mjs: it exports no action function; export the work to repeat/,
  );
  assertProgramGone(a.stderr);

  const b = await leakLensTest(tmp, [throwing]);
  assert.equal(b.status, 2, b.stderr);
  assert.equal(b.stdout, '');
  assert.match(
    lastLine(b.stderr),
    /^leak-lens: scenario throwing\.js: action threw on call 4 of 20: TypeError: the pool is closed \(.*throwing\.js:2:\d+ in exports\.action\)$/,
  );
  assertProgramGone(b.stderr);

  const c = await leakLensTest(tmp, [path.join(dir, 'missing.js')]);
  assert.equal(c.status, 2);
  assert.match(
    c.stderr,
    /^leak-lens: the scenario .*missing\.js does not exist; name a \.js or \.mjs file that exports an action function\n$/,
  );
  assert.deepEqual(fs.readdirSync(tmp), [], 'snapshots left in TMPDIR');
});

test("SIGTERM while a round runs: exit 143, the scenario's process and the child it started stopped, the snapshot taken removed", async (t) => {
  const tmp = tempDir(t, 'test-sigterm');
  const dir = tempDir(t, 'test-sigterm-scenario');
  const scenario = path.join(dir, 'hangs.js');
  // Two calls to warm up and two before the baseline are quick; the fifth starts a child and never settles.
  fs.writeFileSync(
    scenario,
    `let calls = 0;
exports.iterations = 2;
exports.action = async () => {
  if (++calls < 5) return;
  const child = require('child_process').spawn('sleep', ['60'], { stdio: 'ignore' });
  console.log('scenario-child ' + child.pid);
  await new Promise(() => undefined);
};
`,
  );
  const run = watch(process.execPath, [cli, 'test', scenario], { cwd: dir, env: { ...process.env, TMPDIR: tmp } });
  const program = Number((await run.waitFor(/started node .* \(pid (\d+)\)/))[1]);
  t.after(() => {
    try {
      process.kill(-program, 'SIGKILL');
    } catch {
      // Gone, as it should be.
    }
  });
  await run.waitFor(/snapshot 1\/3: /);
  const child = Number((await run.waitFor(/scenario-child (\d+)/))[1]);
  assert.ok(isRunning(child), "the scenario's child runs when the signal is sent");
  run.child.kill('SIGTERM');
  const { code } = await run.exited;
  assert.equal(code, 143, run.stderr());
  assert.match(
    run.stderr(),
    /leak-lens: stopped \(SIGTERM\): the scenario's process was stopped with everything it started and the snapshots removed\n$/,
  );
  assert.deepEqual(groupMembers(program), [], "the scenario's process group is empty");
  assert.equal(isRunning(child), false, 'the child the scenario started is gone');
  assert.deepEqual(fs.readdirSync(tmp), [], 'the snapshot taken is removed with the folder');
});
