/// <reference types="mocha" />
/** Snapshot files: open a .heapsnapshot from disk, compare, rename, delete; a snapshot folder that cannot be written. */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { CompareResult, OpenSnapshotResult } from '../../src/extension/commands/snapshots';
import type { SnapshotEntry } from '../../src/extension/snapshots/store';
import { api, fixture, folderFiles, ok, run, setSetting, startPwaNode, stopAllSessions } from './helpers';

/** Writes a heap snapshot of a short Node program that holds Leaky objects, the way `node --heapsnapshot-signal` users do. */
function writeSnapshotFile(dir: string): string {
  const file = path.join(dir, 'from-disk.heapsnapshot');
  const script = `class Leaky { constructor(i) { this.i = i; } } globalThis.keep = Array.from({ length: 5000 }, (_, i) => new Leaky(i)); require('v8').writeHeapSnapshot(${JSON.stringify(file)});`;
  const r = spawnSync('node', ['-e', script], { encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  return file;
}

suite('snapshot files', () => {
  let tmp: string;

  suiteSetup(async () => {
    await api();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-lens-files-'));
  });

  suiteTeardown(async () => {
    await stopAllSessions();
    await setSetting('snapshots.folder', undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('Open Heap Snapshot File... shows the class summary, computed in the engine worker', async () => {
    const file = writeSnapshotFile(tmp);
    const result = await ok<OpenSnapshotResult>('leakLens.openSnapshotFile', vscode.Uri.file(file), {
      interactive: false,
    });
    const leaky = result.classes?.find((c) => c.className === 'Leaky');
    assert.ok(leaky, 'Leaky is among the largest classes');
    assert.strictEqual(leaky.count, 5000);
    const doc = await vscode.workspace.openTextDocument(result.uri);
    assert.match(doc.getText(), /\| Leaky \| 5,000 \|/);
  });

  test('a file that is not a heap snapshot: a clear error', async () => {
    const bad = path.join(tmp, 'broken.heapsnapshot');
    fs.writeFileSync(bad, '{"snapshot": {"meta": ');
    const outcome = await run('leakLens.openSnapshotFile', vscode.Uri.file(bad), { interactive: false });
    assert.strictEqual(outcome.ok, false);
    if (!outcome.ok) assert.match(outcome.error, /not a heap snapshot Leak Lens can read/);
    const missing = await run('leakLens.openSnapshotFile', vscode.Uri.file(path.join(tmp, 'nope.heapsnapshot')), {
      interactive: false,
    });
    assert.strictEqual(missing.ok, false);
    if (!missing.ok) assert.match(missing.error, /There is no file/);
  });

  test('compare, rename and delete snapshots of one session', async () => {
    await startPwaNode(fixture('leaky-array.js'), {}, 'leaky-array (files)');
    const a = await ok<SnapshotEntry>('leakLens.takeHeapSnapshot', { interactive: false, label: 'A' });
    const b = await ok<SnapshotEntry>('leakLens.takeHeapSnapshot', { interactive: false, label: 'B' });
    const cmp = await ok<CompareResult>('leakLens.compareSnapshots', b, [b, a], { interactive: false });
    assert.strictEqual(cmp.byObjectId, true);
    const doc = await vscode.workspace.openTextDocument(cmp.uri);
    assert.match(doc.getText(), /# Comparison: A → B/);
    assert.match(doc.getText(), /\| Leaky \| [\d,]+ \| 0 \| \+[\d,]+ \|/);

    assert.strictEqual(await ok<string>('leakLens.snapshots.rename', a, 'baseline (renamed)'), 'baseline (renamed)');
    const meta = JSON.parse(fs.readFileSync(`${a.file}.meta.json`, 'utf8')) as { label: string };
    assert.strictEqual(meta.label, 'baseline (renamed)');

    assert.strictEqual(await ok<number>('leakLens.snapshots.delete', a, [a, b], { confirm: false }), 2);
    assert.ok(!fs.existsSync(a.file) && !fs.existsSync(`${a.file}.meta.json`) && !fs.existsSync(b.file));
  });

  test('a snapshot folder that cannot be written: a clear error, nothing written, the extension keeps working', async () => {
    const notAFolder = path.join(tmp, 'a-file');
    fs.writeFileSync(notAFolder, 'not a folder');
    await setSetting('snapshots.folder', notAFolder);
    try {
      assert.strictEqual((await api()).snapshotFolder(), notAFolder);
      const outcome = await run('leakLens.takeHeapSnapshot', { interactive: false });
      assert.strictEqual(outcome.ok, false);
      if (!outcome.ok)
        assert.match(
          outcome.error,
          /cannot save snapshots in .*a-file: a file is in the way of the folder\. Choose a folder you can write to in the setting "leakLens\.snapshots\.folder"/,
        );
      assert.strictEqual(fs.readFileSync(notAFolder, 'utf8'), 'not a folder');
    } finally {
      await setSetting('snapshots.folder', undefined);
    }
    // The extension keeps working once the setting is fixed.
    const entry = await ok<SnapshotEntry>('leakLens.takeHeapSnapshot', {
      interactive: false,
      label: 'after fixing the folder',
    });
    assert.ok(fs.existsSync(entry.file));
    assert.deepStrictEqual(
      folderFiles(path.dirname(entry.file)).filter((n) => n.endsWith('.partial')),
      [],
    );
  });

  test('a relative snapshot folder is taken from the workspace folder', async () => {
    await setSetting('snapshots.folder', '.snapshots-test');
    try {
      const entry = await ok<SnapshotEntry>('leakLens.takeHeapSnapshot', { interactive: false });
      assert.strictEqual(
        path.dirname(entry.file),
        path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, '.snapshots-test'),
      );
    } finally {
      await setSetting('snapshots.folder', undefined);
    }
  });
});
