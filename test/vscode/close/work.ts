/**
 * The extension host's part of the window-close test (test/vscode/close/driver.ts drives it from scripts/vscode-test.js):
 * loaded as `extensionTestsPath`, it starts the work a window may be closed in the middle of, then says so and waits:
 *  - a `leak-lens` launch session (the adapter process and the program it launched, in its own process group),
 *  - Find Leaks on it, whose workload command (in its own process group, with a child of its own) never ends,
 *  - the language server (a JavaScript file is opened),
 *  - a heap snapshot of a js-debug session, which the extension host writes itself (a `.partial` file until done).
 * It writes `ready.json` into $LEAK_LENS_CLOSE_DIR once all of it runs. For the clean close it then waits for the
 * driver's `go` file and returns, and the workbench stops the extension host (deactivate runs); for the killed close
 * it never returns, and the driver kills this process. An extension host restarted after that loads this file
 * again and does nothing.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { SessionResult } from '../../../src/extension/commands/sessions';
import { api, fixture, folderFiles, ok, startPwaNode, until } from '../helpers';

/** What the driver reads from `ready.json`. */
export interface CloseReady {
  extensionHost: number;
  snapshotFolder: string;
  programPid: number;
  /** The workload's shell-started node process and the child it started. */
  workloadPids: number[];
  partials: string[];
}

const WORKLOAD = `'use strict';
// A workload that never ends, with a child in its process group: both must stop when the window closes.
const { spawn } = require('child_process');
const fs = require('fs');
const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)'], { stdio: 'ignore' });
fs.writeFileSync(process.argv[2] + '.tmp', JSON.stringify([process.pid, child.pid]));
fs.renameSync(process.argv[2] + '.tmp', process.argv[2]);
setInterval(() => {}, 1e6);
`;

export async function run(): Promise<void> {
  const dir = process.env.LEAK_LENS_CLOSE_DIR;
  if (!dir) throw new Error('LEAK_LENS_CLOSE_DIR is not set: run this through scripts/vscode-test.js');
  const readyFile = path.join(dir, 'ready.json');
  // The extension host restarted by the clean close loads this file again: its work is done.
  if (fs.existsSync(readyFile)) return new Promise<void>(() => undefined);

  const leakLens = await api();
  const folder = leakLens.snapshotFolder();
  await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(fixture('load.js')));

  const launched = await ok<SessionResult>('leakLens.launchProgram', { program: fixture('leaky-array.js'), interactive: false });
  if (launched.pid === undefined) throw new Error('the launched program has no pid');

  const script = path.join(dir, 'workload.js');
  const pidFile = path.join(dir, 'workload.pids');
  fs.writeFileSync(script, WORKLOAD);
  void vscode.commands.executeCommand('leakLens.findLeaks', { interactive: false, rounds: 1, workload: `node ${JSON.stringify(script)} ${JSON.stringify(pidFile)}` });
  const workloadPids = await until(() => fs.existsSync(pidFile) && (JSON.parse(fs.readFileSync(pidFile, 'utf8')) as number[]), 60_000, 'the workload to start');

  // The js-debug session becomes the active one, so Take Heap Snapshot works on it.
  // Its environment marks it, so the driver can find it (and no other test's big-heap.js) to hold the snapshot half-written.
  await startPwaNode(fixture('big-heap.js'), { BIG_HEAP_MB: '150', LEAK_LENS_CLOSE_DEBUGGEE: dir });
  void vscode.commands.executeCommand('leakLens.takeHeapSnapshot', { interactive: false, label: 'closing' });
  const partials = await until(() => {
    const found = folderFiles(folder).filter((n) => n.endsWith('.partial'));
    return found.length > 0 && found;
  }, 90_000, 'a snapshot being written');

  const ready: CloseReady = { extensionHost: process.pid, snapshotFolder: folder, programPid: launched.pid, workloadPids, partials };
  fs.writeFileSync(`${readyFile}.tmp`, JSON.stringify(ready));
  fs.renameSync(`${readyFile}.tmp`, readyFile);

  if (process.env.LEAK_LENS_CLOSE_VARIANT !== 'deactivate') return new Promise<void>(() => undefined);
  // Once the tests are done the workbench stops this extension host as a window that closes cleanly does: the
  // extension is deactivated, then the process exits. (workbench.action.restartExtensionHost, tried first, left this
  // extension host running for 30 s in a test window of code-server.)
  await until(() => fs.existsSync(path.join(dir, 'go')), 120_000, 'the driver to record the processes');
}
