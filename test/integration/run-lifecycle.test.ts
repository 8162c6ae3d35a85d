/**
 * `leak-lens run` from start to a stop it did not choose, with real programs: it waits for the program's own ready
 * line (never the inspector's), and on SIGINT, SIGTERM, SIGHUP or the loss of its parent it stops the program and
 * the action with their whole process groups, removes its snapshots and exits with 128 + the signal number.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { repoRoot } from '../helpers/fixtures';
import { groupMembers, isRunning, watch, type Watched } from '../helpers/processes';

const cli = path.join(repoRoot, 'bin', 'leak-lens.js');
const bigHeap = path.join(repoRoot, 'test', 'vscode', 'fixtures', 'workspace', 'big-heap.js');

let dir: string;
/** The TMPDIR of the leak-lens under test: its temporary snapshot folder is made here, and must be gone after. */
let tmp: string;
/** Process groups the test saw started; any still alive at the end is killed, and fails the test that left it. */
let groups: number[];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-lens-lifecycle-'));
  tmp = path.join(dir, 'tmp');
  fs.mkdirSync(tmp);
  groups = [];
});

afterEach(() => {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Already gone, as it should be.
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

const server = `require('http').createServer((q, s) => s.end('ok')).listen(0, '127.0.0.1', function () {
  console.log('server listening on http://127.0.0.1:' + this.address().port);
});
setInterval(() => undefined, 1000);
`;

function startRun(args: string[], options: { cwd?: string } = {}): Watched {
  return watch(process.execPath, [cli, 'run', ...args], {
    cwd: options.cwd ?? dir,
    env: { ...process.env, TMPDIR: tmp },
  });
}

/** An action that says its pid (its process group: the shell leads one of its own) and then waits a minute. */
const slowAction = `echo "action-pid $$"; exec sleep 60`;

async function assertAllGone(run: Watched, programPgid: number, actionPgid?: number): Promise<void> {
  assert.deepEqual(groupMembers(programPgid), [], `the program's process group ${programPgid} is empty`);
  if (actionPgid !== undefined)
    assert.deepEqual(groupMembers(actionPgid), [], `the action's process group ${actionPgid} is empty`);
  assert.deepEqual(fs.readdirSync(tmp), [], 'the temporary snapshot folder is removed');
  assert.equal(run.child.exitCode !== null || run.child.signalCode !== null, true, 'leak-lens itself has ended');
}

test("a program that takes seconds to start: the action runs only after its own ready line, not the inspector's", async () => {
  const app = path.join(dir, 'slow-start.js');
  const mark = path.join(dir, 'ready.mark');
  // Builds a table for two seconds (the inspector is listening all along), then marks itself ready and listens.
  fs.writeFileSync(
    app,
    `const t0 = Date.now(); const table = new Map(); let i = 0;
while (Date.now() - t0 < 2000) table.set(i, 'entry ' + i++);
require('fs').writeFileSync(${JSON.stringify(mark)}, String(table.size));
${server}`,
  );
  const check = path.join(dir, 'check.js');
  fs.writeFileSync(
    check,
    `const fs = require('fs');
if (!fs.existsSync(${JSON.stringify(mark)})) { console.error('ACTION BEFORE READY'); process.exit(3); }
require('http').get(process.env.TARGET_URL, (r) => { r.resume(); r.on('end', () => process.exit(r.statusCode === 200 ? 0 : 4)); })
  .on('error', (e) => { console.error('ACTION FAILED ' + e.message); process.exit(5); });
`,
  );
  const run = startRun(['--snapshots', '2', '--action', `node ${check}`, '--', 'node', app]);
  const program = Number((await run.waitFor(/started .* \(pid (\d+)\)/))[1]);
  groups.push(program);
  const { code } = await run.exited;
  const err = run.stderr();
  assert.ok(code === 0 || code === 1, `a report (exit ${code}): ${err}`);
  assert.doesNotMatch(err, /ACTION BEFORE READY|ACTION FAILED/);
  const readyAt = err.indexOf('server listening on http://');
  const firstAction = err.indexOf('leak-lens: action (');
  assert.ok(readyAt >= 0 && firstAction > readyAt, `the first action comes after the program's ready line:\n${err}`);
  assert.ok(err.indexOf('Debugger listening on ws://') < readyAt, 'the inspector line came first and did not count');
  await assertAllGone(run, program);
});

test('SIGINT while the warm-up action runs: exit 130, program and action stopped, snapshots removed', async () => {
  const app = path.join(dir, 'server.js');
  fs.writeFileSync(app, server);
  const run = startRun(['--action', slowAction, '--', 'node', app]);
  const program = Number((await run.waitFor(/started .* \(pid (\d+)\)/))[1]);
  groups.push(program);
  const action = Number((await run.waitFor(/action-pid (\d+)/))[1]);
  groups.push(action);
  assert.ok(groupMembers(action).length > 0 && groupMembers(program).length > 0, 'both run when the signal is sent');
  run.child.kill('SIGINT');
  const { code } = await run.exited;
  assert.equal(code, 130, run.stderr());
  assert.match(
    run.stderr(),
    /leak-lens: stopped \(SIGINT\): the program and the action were stopped and the snapshots removed\n$/,
  );
  await assertAllGone(run, program, action);
});

test('SIGTERM after the first snapshot: exit 143, the snapshot taken is removed with the folder', async () => {
  const app = path.join(dir, 'server.js');
  fs.writeFileSync(app, server);
  const count = path.join(dir, 'count');
  // Quick for the warm-up and the round before the baseline, then slow.
  const action = `n=$(cat ${count} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${count}; if [ $n -ge 3 ]; then ${slowAction}; fi`;
  const run = startRun(['--action', action, '--', 'node', app]);
  const program = Number((await run.waitFor(/started .* \(pid (\d+)\)/))[1]);
  groups.push(program);
  await run.waitFor(/snapshot 1\/3: /);
  const actionPid = Number((await run.waitFor(/action-pid (\d+)/))[1]);
  groups.push(actionPid);
  assert.equal(fs.readdirSync(tmp).length, 1, 'the temporary snapshot folder exists while the run goes on');
  run.child.kill('SIGTERM');
  const { code } = await run.exited;
  assert.equal(code, 143, run.stderr());
  await assertAllGone(run, program, actionPid);
});

test('SIGHUP while a snapshot is being written to --out: exit 129, no half-written file left', async () => {
  const out = path.join(dir, 'snaps');
  const run = watch(process.execPath, [cli, 'run', '--out', out, '--', 'node', bigHeap], {
    cwd: dir,
    env: { ...process.env, TMPDIR: tmp, BIG_HEAP_MB: '20' },
  });
  const program = Number((await run.waitFor(/started .* \(pid (\d+)\)/))[1]);
  groups.push(program);
  // The capture streams into a hidden .partial file beside the target; once it has content, V8 is writing.
  const streaming = (): boolean =>
    fs.existsSync(out) &&
    fs.readdirSync(out).some((n) => n.endsWith('.partial') && fs.statSync(path.join(out, n)).size > 0);
  const deadline = Date.now() + 60_000;
  while (!streaming() && run.child.exitCode === null && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  assert.ok(streaming(), `a snapshot is being written: ${run.stderr()}`);
  run.child.kill('SIGHUP');
  const { code } = await run.exited;
  assert.equal(code, 129, run.stderr());
  assert.deepEqual(
    fs.readdirSync(out).filter((n) => n.endsWith('.partial')),
    [],
    'no .partial file is left in --out',
  );
  await assertAllGone(run, program);
});

test('the process that started leak-lens dies: leak-lens stops the program and the action, and ends', async () => {
  const app = path.join(dir, 'server.js');
  fs.writeFileSync(app, server);
  // A shell starts leak-lens in the background and is then killed outright, as a CI runner or a closed IDE would be.
  const parent = watch(
    'sh',
    [
      '-c',
      `"$0" "$@" & echo "leak-lens-pid $!"; wait`,
      process.execPath,
      cli,
      'run',
      '--action',
      slowAction,
      '--',
      'node',
      app,
    ],
    {
      cwd: dir,
      env: { ...process.env, TMPDIR: tmp },
    },
  );
  const leakLens = Number((await parent.waitFor(/leak-lens-pid (\d+)/))[1]);
  const program = Number((await parent.waitFor(/started .* \(pid (\d+)\)/))[1]);
  groups.push(program);
  const action = Number((await parent.waitFor(/action-pid (\d+)/))[1]);
  groups.push(action);
  parent.child.kill('SIGKILL');
  // leak-lens holds the shell's output pipes: they close when it has ended.
  await parent.exited;
  assert.match(parent.stderr(), /leak-lens: the process that started leak-lens went away; stopping what it started/);
  assert.match(parent.stderr(), /leak-lens: stopped \(its parent went away\)/);
  assert.equal(isRunning(leakLens), false, 'leak-lens has exited');
  assert.deepEqual(groupMembers(program), []);
  assert.deepEqual(groupMembers(action), []);
  assert.deepEqual(fs.readdirSync(tmp), [], 'the temporary snapshot folder is removed');
});

test('the parent dies and takes the output pipes with it: leak-lens still stops everything and ends', async () => {
  const app = path.join(dir, 'server.js');
  fs.writeFileSync(app, server);
  const parent = watch(
    'sh',
    [
      '-c',
      `"$0" "$@" & echo "leak-lens-pid $!"; wait`,
      process.execPath,
      cli,
      'run',
      '--action',
      slowAction,
      '--',
      'node',
      app,
    ],
    {
      cwd: dir,
      env: { ...process.env, TMPDIR: tmp },
    },
  );
  const leakLens = Number((await parent.waitFor(/leak-lens-pid (\d+)/))[1]);
  const program = Number((await parent.waitFor(/started .* \(pid (\d+)\)/))[1]);
  groups.push(program);
  const action = Number((await parent.waitFor(/action-pid (\d+)/))[1]);
  groups.push(action);
  // Nobody reads leak-lens's output any more: its writes fail with EPIPE from now on.
  parent.child.stdout!.destroy();
  parent.child.stderr!.destroy();
  parent.child.kill('SIGKILL');
  // No pipe is left to signal the end: look at the process itself until it is gone.
  const deadline = Date.now() + 30_000;
  while (isRunning(leakLens) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(isRunning(leakLens), false, 'leak-lens has exited');
  assert.deepEqual(groupMembers(program), []);
  assert.deepEqual(groupMembers(action), []);
  assert.deepEqual(fs.readdirSync(tmp), [], 'the temporary snapshot folder is removed');
});

test('SIGTERM while waiting for a ready line that never comes: exit 143 at once, no action started', async () => {
  const app = path.join(dir, 'quiet.js');
  fs.writeFileSync(app, 'setInterval(() => undefined, 1000);\n');
  const run = startRun(['--action', slowAction, '--', 'node', app]);
  const program = Number((await run.waitFor(/started .* \(pid (\d+)\)/))[1]);
  groups.push(program);
  run.child.kill('SIGTERM');
  const { code } = await run.exited;
  assert.equal(code, 143, run.stderr());
  assert.doesNotMatch(
    run.stderr(),
    /leak-lens: action \(|no "ready" line seen/,
    'it neither ran the action nor waited out the ready time',
  );
  await assertAllGone(run, program);
});

test('a second signal while stopping exits at once, and still leaves no program, action or folder', async () => {
  const app = path.join(dir, 'stubborn.js');
  // Ignores SIGTERM, so that stopping it takes the whole grace period: the second signal comes during the cleanup.
  fs.writeFileSync(app, `process.on('SIGTERM', () => console.log('stubborn: ignoring SIGTERM'));\n${server}`);
  const run = startRun(['--action', slowAction, '--', 'node', app]);
  const program = Number((await run.waitFor(/started .* \(pid (\d+)\)/))[1]);
  groups.push(program);
  const action = Number((await run.waitFor(/action-pid (\d+)/))[1]);
  groups.push(action);
  run.child.kill('SIGINT');
  await run.waitFor(/stubborn: ignoring SIGTERM/);
  run.child.kill('SIGTERM');
  const { code } = await run.exited;
  assert.equal(code, 143, run.stderr());
  assert.doesNotMatch(run.stderr(), /leak-lens: stopped/, 'it did not wait for the cleanup to finish');
  // Its exit hook sent SIGKILL to both groups; the kernel may take a moment to finish them off.
  const deadline = Date.now() + 5_000;
  while ((groupMembers(program).length || groupMembers(action).length) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  await assertAllGone(run, program, action);
});
