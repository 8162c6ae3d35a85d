/// <reference types="mocha" />
/** The extension loads lean, contributes what it says, and every command says what to do when there is no session. */
import * as assert from 'assert';
import * as vscode from 'vscode';
import { api, EXTENSION_ID, run, stopAllSessions } from './helpers';

suite('basics', () => {
  test('activation is lean: nothing activates the extension until it is needed', () => {
    // This suite runs first, before any debug session or Leak Lens command.
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, 'the extension is installed');
    assert.strictEqual(ext.isActive, false, 'not activated on start-up');
    const events = ext.packageJSON.activationEvents as string[];
    assert.ok(
      !events.includes('*') && !events.includes('onStartupFinished'),
      `activation events: ${events.join(', ')}`,
    );
  });

  test('commands are contributed in the "Leak Lens" category and registered on activation', async () => {
    await api();
    const contributed = (
      vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON.contributes.commands as {
        command: string;
        category: string;
      }[]
    ).map((c) => c);
    const all = await vscode.commands.getCommands(true);
    for (const id of [
      'takeHeapSnapshot',
      'findLeaks',
      'compareSnapshots',
      'openSnapshotFile',
      'collectGarbage',
      'startAllocationTracking',
      'stopAllocationTracking',
      'showMemoryGraph',
      'attachToProcess',
    ]) {
      const c = contributed.find((x) => x.command === `leakLens.${id}`);
      assert.ok(c, `leakLens.${id} is contributed`);
      assert.strictEqual(c.category, 'Leak Lens');
      assert.ok(all.includes(`leakLens.${id}`), `leakLens.${id} is registered`);
    }
  });

  test('with no debug session, each command says a program must run and offers launch or attach', async () => {
    await stopAllSessions();
    for (const id of [
      'takeHeapSnapshot',
      'findLeaks',
      'collectGarbage',
      'showMemoryGraph',
      'startAllocationTracking',
    ]) {
      const outcome = await run(`leakLens.${id}`, { interactive: false });
      assert.strictEqual(outcome.ok, false, `${id} fails without a session`);
      if (!outcome.ok)
        assert.match(
          outcome.error,
          /needs a running Node\.js program, and none is being debugged\. Launch one with Leak Lens, attach to a running process/,
          id,
        );
    }
  });

  test('the snapshot folder defaults to the extension storage, outside the workspace', async () => {
    const folder = (await api()).snapshotFolder();
    const ws = vscode.workspace.workspaceFolders![0].uri.fsPath;
    assert.ok(!folder.startsWith(ws), `${folder} is not inside the workspace`);
    assert.match(folder, /snapshots$/);
  });

  test('the leak-lens debug type offers initial configurations', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const debuggers = ext.packageJSON.contributes.debuggers as { type: string; configurationSnippets: unknown[] }[];
    assert.strictEqual(debuggers[0].type, 'leak-lens');
    assert.ok(debuggers[0].configurationSnippets.length >= 3);
  });
});
