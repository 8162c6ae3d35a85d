/// <reference types="mocha" />
/**
 * Memory work on a program debugged by VS Code's own JavaScript debugger (`pwa-node`): Leak Lens goes through
 * js-debug's CDP proxy on the child session. Breakpoints keep working, and an object id reset is noticed.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as vscode from 'vscode';
import WebSocket from 'ws';
import type { FindLeaksResult } from '../../src/extension/commands/findLeaks';
import type { SnapshotEntry } from '../../src/extension/snapshots/store';
import { api, fixture, nextEvent, ok, run, startPwaNode, stopAllSessions, until } from './helpers';

suite('pwa-node session (js-debug)', () => {
  let session: vscode.DebugSession;

  suiteSetup(async () => {
    await api();
    session = await startPwaNode(
      fixture('leaky-array.js'),
      { LEAK_PER_TICK: '100', TICK_MS: '50' },
      'leaky-array (pwa-node)',
    );
  });

  suiteTeardown(async () => {
    await stopAllSessions();
  });

  test('Take Heap Snapshot writes a snapshot and its sidecar into the snapshot folder', async () => {
    const entry = await ok<SnapshotEntry>('leakLens.takeHeapSnapshot', { interactive: false, label: 'first' });
    assert.strictEqual(entry.label, 'first');
    assert.ok(entry.size > 500_000, `size ${entry.size}`);
    assert.ok(entry.pid && entry.pid > 0, 'the pid is known');
    assert.ok(fs.existsSync(`${entry.file}.meta.json`));
    assert.ok(entry.file.startsWith((await api()).snapshotFolder()));
    assert.ok(entry.heapUsed && entry.heapUsed > 0, 'heap totals are recorded');
  });

  test('the status bar shows the live heap of the active session', async () => {
    const a = await api();
    const text = await until(
      () => {
        const t = a.statusBarText();
        return t && /heap \d/.test(t) ? t : undefined;
      },
      20_000,
      'a heap figure in the status bar',
    );
    assert.match(text, /^\$\(pulse\) heap [\d.]+ (KB|MB)$/);
  });

  test('Find Leaks (non-interactive) finds the Leaky group held by leakyItems', async () => {
    const result = await ok<FindLeaksResult>('leakLens.findLeaks', { interactive: false, rounds: 2, waitMs: 600 });
    assert.strictEqual(result.snapshots.length, 3);
    const g = result.report.leaks.find((l) => l.className === 'Leaky');
    assert.ok(g, `a Leaky group (got ${result.report.leaks.map((l) => `${l.className}@${l.owner.name}`).join(', ')})`);
    assert.strictEqual(g.owner.name, 'leakyItems');
    assert.ok(g.growthPerRound > 100, `growth per round ${g.growthPerRound}`);
    assert.match(g.owner.location?.file ?? '', /leaky-array\.js$/);
    const doc = await vscode.workspace.openTextDocument(result.reportUri);
    assert.match(doc.getText(), /Leaky ×[\d,]+ \(\+[\d,]+ per round\)/);
    assert.match(doc.getText(), /Held by\*\* `leakyItems`/);
  });

  test('Show Memory Graph opens a live memory document', async () => {
    const uri = await ok<vscode.Uri>('leakLens.showMemoryGraph', { interactive: false });
    const doc = await vscode.workspace.openTextDocument(uri);
    await until(
      () => /Heap used \|/.test(doc.getText()) || /Heap used/.test(doc.getText()),
      10_000,
      'samples in the memory graph',
    );
    assert.match(doc.getText(), /# Memory of leaky-array/);
  });

  test('breakpoints still stop the program; a snapshot while paused says no GC ran', async () => {
    const file = fixture('leaky-array.js');
    const line = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .findIndex((l) => l.includes('leakyItems.push('));
    const bp = new vscode.SourceBreakpoint(new vscode.Location(vscode.Uri.file(file), new vscode.Position(line, 0)));
    const stopped = nextEvent(
      vscode.debug.onDidChangeActiveStackItem,
      (item) => item instanceof vscode.DebugStackFrame && item.session.id === session.id,
      20_000,
      'a stop at the breakpoint',
    );
    vscode.debug.addBreakpoints([bp]);
    try {
      await stopped;
      const entry = await ok<SnapshotEntry>('leakLens.takeHeapSnapshot', { interactive: false, label: 'paused' });
      assert.ok(entry.size > 0);
      const gc = await run('leakLens.collectGarbage', { interactive: false });
      assert.strictEqual(gc.ok, false);
      if (!gc.ok) assert.match(gc.error, /paused at a breakpoint.*Continue the program/);
    } finally {
      vscode.debug.removeBreakpoints([bp]);
      await vscode.commands.executeCommand('workbench.action.debug.continue');
    }
  });

  test('an object id reset by another CDP client is noticed and starts a new group', async () => {
    // js-debug's "Take Performance Profile" sends HeapProfiler.disable, which makes V8 renumber every object.
    const proxy = await vscode.commands.executeCommand<{ host: string; port: number; path?: string }>(
      'extension.js-debug.requestCDPProxy',
      session.id,
    );
    const ws = new WebSocket(`ws://${proxy.host}:${proxy.port}${proxy.path ?? ''}`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', () => reject(new Error('cannot reach the CDP proxy')));
    });
    const reply = new Promise((resolve) => ws.once('message', resolve));
    ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.disable', params: {} }));
    await reply;
    ws.close();
    const before = await ok<SnapshotEntry>('leakLens.takeHeapSnapshot', { interactive: false, label: 'after reset' });
    assert.match(before.sessionId ?? '', /#ids2$/, `the sidecar marks a new id generation (${before.sessionId})`);
  });
});
