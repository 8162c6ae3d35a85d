/// <reference types="mocha" />
/**
 * A window with no folder open (scripts/vscode-test.js runs this suite in an empty window): snapshots go to the
 * extension's global storage, Launch Program and the commands still work on a program given by path, and settings
 * that need a folder say so.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { FindLeaksResult } from '../../../src/extension/commands/findLeaks';
import type { SessionResult } from '../../../src/extension/commands/sessions';
import type { SnapshotEntry } from '../../../src/extension/snapshots/store';
import { api, ok, run, setSetting, stopAllSessions } from '../helpers';

const program = path.resolve(__dirname, '..', '..', '..', '..', 'test', 'vscode', 'fixtures', 'workspace', 'leaky-array.js');

suite('no folder open', () => {
  suiteTeardown(async () => {
    await stopAllSessions();
    await setSetting('snapshots.folder', undefined);
  });

  test('the window has no folder; snapshots go to the global storage', async () => {
    assert.strictEqual(vscode.workspace.workspaceFolders, undefined);
    const folder = (await api()).snapshotFolder();
    assert.match(folder, /globalStorage[\\/]leak-lens\.leak-lens[\\/]snapshots$/);
  });

  test('Launch Program with nothing to pick says to open the program or its folder', async () => {
    const outcome = await run('leakLens.launchProgram', { interactive: true });
    assert.strictEqual(outcome.ok, false);
    if (!outcome.ok) assert.match(outcome.error, /found no JavaScript file to launch\. Open the program's folder or its main file/);
  });

  test('a program given by path: launch, snapshot and Find Leaks work', async () => {
    assert.ok(fs.existsSync(program), program);
    const launched = await ok<SessionResult>('leakLens.launchProgram', { interactive: false, program, env: { TICK_MS: '50' } });
    assert.ok(launched.pid);
    const entry = await ok<SnapshotEntry>('leakLens.takeHeapSnapshot', { interactive: false });
    assert.ok(entry.file.startsWith((await api()).snapshotFolder()));
    const result = await ok<FindLeaksResult>('leakLens.findLeaks', { interactive: false, rounds: 2, waitMs: 600 });
    assert.ok(result.report.leaks.some((g) => g.className === 'Leaky' && g.owner.name === 'leakyItems'));
  });

  test('a relative snapshot folder cannot be resolved without a folder: the error says so', async () => {
    await setSetting('snapshots.folder', 'snapshots');
    try {
      const outcome = await run('leakLens.takeHeapSnapshot', { interactive: false });
      assert.strictEqual(outcome.ok, false);
      if (!outcome.ok) assert.match(outcome.error, /is a relative path \(snapshots\) but no folder is open\. Open a folder, or make the setting an absolute path/);
    } finally {
      await setSetting('snapshots.folder', undefined);
    }
  });
});
