/// <reference types="mocha" />
/**
 * Memory work through Leak Lens's own debug type: a `leak-lens` launch configuration (the adapter runs as its own
 * process and holds the inspector), and Attach to Node Process by process id and by port.
 */
import * as assert from 'assert';
import type { ChildProcess } from 'child_process';
import * as vscode from 'vscode';
import type { FindLeaksResult } from '../../src/extension/commands/findLeaks';
import type { SessionResult } from '../../src/extension/commands/sessions';
import type { SnapshotEntry } from '../../src/extension/snapshots/store';
import {
  api,
  fixture,
  freePort,
  ok,
  run,
  startLeakLens,
  startNode,
  stopAllSessions,
  until,
  workspaceDir,
} from './helpers';

suite('leak-lens launch configuration', () => {
  let port: number;

  suiteSetup(async () => {
    await api();
    port = await freePort();
    await startLeakLens({
      request: 'launch',
      name: 'leaky-server (leak-lens)',
      program: fixture('leaky-server.js'),
      env: { PORT: String(port) },
    });
  });

  suiteTeardown(async () => {
    await stopAllSessions();
  });

  test('Find Leaks with a workload command finds the Session group held by sessions', async () => {
    const workload = `node load.js http://127.0.0.1:${port}/ 150`;
    const result = await ok<FindLeaksResult>('leakLens.findLeaks', {
      interactive: false,
      rounds: 2,
      workload,
      workloadCwd: workspaceDir(),
    });
    assert.strictEqual(result.snapshots.length, 3);
    const g = result.report.leaks.find((l) => l.className === 'Session');
    assert.ok(
      g,
      `a Session group (got ${result.report.leaks.map((l) => `${l.className}@${l.owner.name}`).join(', ')})`,
    );
    assert.strictEqual(g.owner.name, 'sessions');
    assert.strictEqual(g.growthPerRound, 150);
    assert.deepStrictEqual(g.newPerRound, [150, 150]);
  });

  test('allocation tracking: start and stop through the commands; snapshots in between carry allocation stacks', async () => {
    await ok('leakLens.startAllocationTracking', { interactive: false });
    const tracked = await ok<SnapshotEntry>('leakLens.takeHeapSnapshot', { interactive: false, label: 'tracked' });
    assert.strictEqual(tracked.allocationTracking, true);
    await ok('leakLens.stopAllocationTracking', { interactive: false });
    const plain = await ok<SnapshotEntry>('leakLens.takeHeapSnapshot', { interactive: false, label: 'untracked' });
    assert.ok(!plain.allocationTracking);
  });

  test('Collect Garbage reports the heap before and after', async () => {
    const r = await ok<{ before: number; after: number }>('leakLens.collectGarbage', { interactive: false });
    assert.ok(r.before > 0 && r.after > 0);
  });

  test('the status bar follows the leak-lens session', async () => {
    const a = await api();
    await until(() => /heap \d/.test(a.statusBarText() ?? ''), 20_000, 'a heap figure in the status bar');
  });
});

suite('Attach to Node Process', () => {
  let target: { child: ChildProcess } | undefined;

  suiteSetup(async () => {
    await api();
  });

  teardown(async () => {
    await stopAllSessions();
    target?.child.kill('SIGKILL');
    target = undefined;
  });

  test('by process id: Find Leaks finds the Leaky group; the process keeps running after the session', async () => {
    target = await startNode([fixture('leaky-array.js')], { LEAK_PER_TICK: '100', TICK_MS: '50' });
    const pid = target.child.pid!;
    const attached = await ok<SessionResult>('leakLens.attachToProcess', { interactive: false, processId: pid });
    assert.strictEqual(attached.pid, pid);
    const result = await ok<FindLeaksResult>('leakLens.findLeaks', { interactive: false, rounds: 2, waitMs: 600 });
    const g = result.report.leaks.find((l) => l.className === 'Leaky');
    assert.ok(g, `a Leaky group (got ${result.report.leaks.map((l) => `${l.className}@${l.owner.name}`).join(', ')})`);
    assert.strictEqual(g.owner.name, 'leakyItems');
    assert.strictEqual(result.report.pid, pid);
    await stopAllSessions();
    assert.doesNotThrow(() => process.kill(pid, 0), 'an attached process is left running');
  });

  test('by port (a program started with --inspect)', async () => {
    const inspectorPort = await freePort();
    target = await startNode([`--inspect=127.0.0.1:${inspectorPort}`, fixture('leaky-array.js')]);
    const attached = await ok<SessionResult>('leakLens.attachToProcess', { interactive: false, port: inspectorPort });
    assert.strictEqual(attached.pid, target.child.pid);
    const entry = await ok<SnapshotEntry>('leakLens.takeHeapSnapshot', { interactive: false });
    assert.strictEqual(entry.pid, target.child.pid);
  });

  test('a process that does not exist: a clear error, no session left behind', async () => {
    const outcome = await run('leakLens.attachToProcess', { interactive: false, processId: 999_999 });
    assert.strictEqual(outcome.ok, false);
    if (!outcome.ok) assert.match(outcome.error, /did not start|no such process/);
    await until(() => !vscode.debug.activeDebugSession, 10_000, 'no debug session');
  });
});
