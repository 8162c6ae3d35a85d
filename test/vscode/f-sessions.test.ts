/// <reference types="mocha" />
/**
 * Choosing the process: a js-debug launch whose program forks a worker has two process sessions under one parent.
 * With the parent active the choice is ambiguous (Leak Lens asks, or says how to choose); with a process session
 * active, that process is used. Also: a disk that fills during a snapshot.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { SnapshotEntry } from '../../src/extension/snapshots/store';
import { api, fixture, folderFiles, ok, run, setSetting, startPwaNode, stopAllSessions } from './helpers';

suite('choosing the process', () => {
  teardown(async () => {
    await stopAllSessions();
  });

  test('one launch, two processes: ambiguous from the launch session, exact from a process session', async () => {
    await api();
    const { TargetRegistry } = await import('../../src/extension/targets/registry');
    const registry = new TargetRegistry();
    const processes: vscode.DebugSession[] = [];
    const seen = vscode.debug.onDidStartDebugSession((s) => {
      if (s.parentSession && s.type === 'pwa-node') processes.push(s);
    });
    try {
      const both = new Promise<void>((resolve) => {
        const check = vscode.debug.onDidStartDebugSession(() => {
          if (processes.length >= 2) {
            check.dispose();
            resolve();
          }
        });
      });
      await startPwaNode(fixture('forking.js'), {}, 'forking (two processes)');
      await Promise.race([
        both,
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error(`js-debug attached ${processes.length} process(es), not 2`)), 45_000),
        ),
      ]);
      let root = processes[0];
      while (root.parentSession) root = root.parentSession;
      await assert.rejects(
        registry.pick({ interactive: false, purpose: 'Taking a heap snapshot needs' }, root),
        /Several Node processes are being debugged .*Select the one to work on in the Call Stack view/,
      );
      const picked = await registry.pick({ interactive: false, purpose: 'Taking a heap snapshot needs' }, processes[1]);
      assert.strictEqual(picked.session.id, processes[1].id);
    } finally {
      seen.dispose();
      registry.dispose();
    }
  });
});

suite('a disk that fills', () => {
  let mountPoint: string | undefined;

  suiteTeardown(async () => {
    await stopAllSessions();
    await setSetting('snapshots.folder', undefined);
    if (mountPoint) {
      spawnSync('umount', [mountPoint]);
      fs.rmSync(mountPoint, { recursive: true, force: true });
    }
  });

  test('a snapshot larger than the free space: "the disk is full", nothing left, the extension keeps working', async function () {
    // A small tmpfs stands in for a full disk; mounting one needs root (as on the CI machines).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-lens-full-'));
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=72m', 'tmpfs', dir], { encoding: 'utf8' });
    if (r.status !== 0) {
      console.log(`skipped: cannot mount a small tmpfs here (${(r.stderr || r.error?.message || '').trim()})`);
      fs.rmSync(dir, { recursive: true, force: true });
      this.skip();
    }
    mountPoint = dir;
    await startPwaNode(fixture('big-heap.js'), { BIG_HEAP_MB: '60' }, 'big-heap (disk full)');
    await setSetting('snapshots.folder', dir);
    const outcome = await run('leakLens.takeHeapSnapshot', { interactive: false });
    assert.strictEqual(outcome.ok, false);
    if (!outcome.ok)
      assert.match(
        outcome.error,
        /the disk is full\. Nothing was saved \(the partial file was removed\)\. Free some space, or choose another folder/,
      );
    assert.deepStrictEqual(folderFiles(dir), [], 'no partial file is left on the full disk');
    await setSetting('snapshots.folder', undefined);
    const entry = await ok<SnapshotEntry>('leakLens.takeHeapSnapshot', {
      interactive: false,
      label: 'after the disk filled',
    });
    assert.ok(fs.existsSync(entry.file));
  });
});
