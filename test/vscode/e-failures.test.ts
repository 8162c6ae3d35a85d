/// <reference types="mocha" />
/**
 * Things going wrong: a program that ends while a snapshot is being written (in a js-debug session and in a
 * leak-lens session), a program that exits during Find Leaks, a browser debug session. Each gives a clear message,
 * leaves no partial file, and the extension keeps working.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { Outcome } from '../../src/extension/commands/common';
import type { SnapshotEntry } from '../../src/extension/snapshots/store';
import {
  api,
  fixture,
  folderFiles,
  nextEvent,
  ok,
  run,
  startLeakLens,
  startPwaNode,
  stopAllSessions,
  until,
} from './helpers';

/** Starts a snapshot, waits until chunks are being written, then ends the program; returns the command's outcome. */
async function killDuringSnapshot(folder: string, pid: number): Promise<Outcome<SnapshotEntry>> {
  const before = new Set(folderFiles(folder));
  const pending = run<SnapshotEntry>('leakLens.takeHeapSnapshot', { interactive: false, label: 'doomed' });
  // The capture writes a hidden .partial file first; once it has content, V8 is streaming the snapshot.
  await until(
    () =>
      folderFiles(folder).some(
        (n) => !before.has(n) && n.endsWith('.partial') && fs.statSync(path.join(folder, n)).size > 0,
      ),
    30_000,
    'snapshot chunks on disk',
  );
  process.kill(pid, 'SIGKILL');
  return pending;
}

suite('failures', () => {
  let folder: string;

  suiteSetup(async () => {
    folder = (await api()).snapshotFolder();
  });

  teardown(async () => {
    await stopAllSessions();
  });

  test('js-debug session: the program is killed mid-snapshot; clear error, no partial file', async () => {
    const session = await startPwaNode(fixture('big-heap.js'), { BIG_HEAP_MB: '40' }, 'big-heap (pwa-node)');
    // js-debug names a process session "<script> [<pid>]".
    const pid = Number(/\[(\d+)\]/.exec(session.name)?.[1]);
    assert.ok(pid > 0, `a pid in ${session.name}`);
    const ended = nextEvent(
      vscode.debug.onDidTerminateDebugSession,
      (s) => s.id === session.id,
      30_000,
      'the session end',
    );
    const outcome = await killDuringSnapshot(folder, pid);
    assert.strictEqual(outcome.ok, false);
    if (!outcome.ok)
      assert.match(
        outcome.error,
        /the program ended \(or its debug session stopped\) while Leak Lens was working\. Nothing was saved/,
      );
    await ended;
    assert.deepStrictEqual(
      folderFiles(folder).filter((n) => n.includes('.partial')),
      [],
      'no partial file is left',
    );
    assert.ok(!fs.existsSync(path.join(folder, 'doomed')));
  });

  test('leak-lens session: the program is killed mid-snapshot; clear error, no partial file', async () => {
    const session = await startLeakLens({
      request: 'launch',
      name: 'big-heap (leak-lens)',
      program: fixture('big-heap.js'),
      env: { BIG_HEAP_MB: '40' },
    });
    const info = (await session.customRequest('leakLens/targetInfo', {})) as { pid: number };
    const outcome = await killDuringSnapshot(folder, info.pid);
    assert.strictEqual(outcome.ok, false);
    if (!outcome.ok)
      assert.match(
        outcome.error,
        /the program ended \(or its debug session stopped\) while Leak Lens was working\. Nothing was saved/,
      );
    await until(() => !vscode.debug.activeDebugSession, 15_000, 'the leak-lens session to end');
    assert.deepStrictEqual(
      folderFiles(folder).filter((n) => n.includes('.partial')),
      [],
    );
  });

  test('the program exits during Find Leaks: the run stops with a message that says why', async () => {
    await startLeakLens({
      request: 'launch',
      name: 'short-lived',
      program: fixture('short-lived.js'),
      env: { SHORT_LIVED_MS: '1500' },
    });
    const outcome = await run('leakLens.findLeaks', { interactive: false, rounds: 3, waitMs: 1000 });
    assert.strictEqual(outcome.ok, false);
    if (!outcome.ok)
      assert.match(outcome.error, /finished during Find Leaks: its code no longer runs.*Keep it running/);
  });

  test('after those failures the extension still works', async () => {
    await startPwaNode(fixture('leaky-array.js'), {}, 'leaky-array (after failures)');
    const entry = await ok<SnapshotEntry>('leakLens.takeHeapSnapshot', { interactive: false });
    assert.ok(fs.existsSync(entry.file));
  });

  test('a browser debug session: Leak Lens says it works on Node programs', async () => {
    // js-debug cannot start or attach a browser session from a server-side workspace here (it needs its companion
    // extension on the UI side), so a browser child session is handed to the target registry as VS Code would.
    const { TargetRegistry } = await import('../../src/extension/targets/registry');
    const parent = {
      id: 'browser-parent',
      type: 'pwa-chrome',
      name: 'Launch Chrome',
      configuration: { type: 'pwa-chrome' },
    };
    const page = {
      id: 'browser-page',
      type: 'pwa-chrome',
      name: 'localhost:3000',
      parentSession: parent,
      configuration: { type: 'pwa-chrome' },
    };
    const registry = new TargetRegistry();
    try {
      await assert.rejects(
        registry.pick(
          { interactive: false, purpose: 'Taking a heap snapshot needs' },
          page as unknown as vscode.DebugSession,
        ),
        /debugs a browser page\. Leak Lens works on Node\.js programs: launch or attach to a Node program/,
      );
    } finally {
      registry.dispose();
    }
  });
});
