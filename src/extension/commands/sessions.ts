/**
 * Starting memory work without a debug session of one's own: Attach to Node Process... and Launch Program... both
 * start a `leak-lens` debug session (so the adapter holds the inspector connection) and resolve once its process
 * answers. Also the process picker behind `${command:PickProcess}` in leak-lens launch configurations.
 */
import { randomUUID } from 'crypto';
import * as path from 'path';
import * as vscode from 'vscode';
import { DEBUG_TYPE, type AttachArguments } from '../../../protocol/adapter';
import { listNodeProcesses, parseTargetSpec } from '../../capture';
import { UserError } from '../errors';
import type { MemoryTarget } from '../targets/target';
import { guardCommand, type CommandOptions, type Outcome, type Services } from './common';

export interface SessionResult {
  sessionId: string;
  sessionName: string;
  pid?: number;
}

/** Starts a leak-lens debug session and waits until its process answers. */
async function startSession(
  s: Services,
  config: vscode.DebugConfiguration,
  folder: vscode.WorkspaceFolder | undefined,
): Promise<MemoryTarget> {
  const marker = randomUUID();
  let sub: vscode.Disposable | undefined;
  const started = new Promise<vscode.DebugSession>((resolve) => {
    sub = vscode.debug.onDidStartDebugSession((session) => {
      if (session.configuration.__leakLensStart === marker) resolve(session);
    });
  });
  try {
    const ok = await vscode.debug.startDebugging(folder, { ...config, __leakLensStart: marker });
    if (!ok)
      throw new UserError(
        `The debug session "${config.name}" did not start; its error message says why. Fix the program or the target, then try again.`,
      );
    const session = await started;
    const target = s.registry.targetFor(session);
    await target.ready();
    return target;
  } finally {
    sub?.dispose();
  }
}

export interface AttachOptions extends CommandOptions, AttachArguments {}

interface ProcessItem extends vscode.QuickPickItem {
  pid?: number;
  manual?: boolean;
}

async function askForTarget(): Promise<AttachArguments | undefined> {
  const items: ProcessItem[] = [
    { label: '$(plug) Enter host:port, ws:// URL or process id...', manual: true, alwaysShow: true },
    ...listNodeProcesses().map((p) => ({
      label: `${p.pid}`,
      description: p.command.length > 120 ? `${p.command.slice(0, 117)}...` : p.command,
      pid: p.pid,
    })),
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Leak Lens: attach to which Node process?',
    placeHolder: 'A running Node process (its inspector is opened with SIGUSR1), or an inspector address',
    matchOnDescription: true,
  });
  if (!picked) return undefined;
  if (!picked.manual) return { processId: picked.pid };
  const text = await vscode.window.showInputBox({
    title: 'Attach to a Node inspector',
    prompt: 'host:port (from --inspect), a ws:// URL, or a process id',
    placeHolder: '127.0.0.1:9229',
    validateInput: (v) => {
      try {
        parseTargetSpec(v);
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
    },
  });
  if (!text) return undefined;
  const spec = parseTargetSpec(text);
  if (spec.kind === 'url') return { websocketUrl: spec.url };
  if (spec.kind === 'pid') return { processId: spec.pid };
  if (spec.kind === 'hostPort') return { address: spec.host, port: spec.port };
  return undefined;
}

export function attachToProcess(s: Services, options: AttachOptions = {}): Promise<Outcome<SessionResult>> {
  const interactive = options.interactive ?? true;
  return guardCommand('attach to the process', async () => {
    let where: AttachArguments | undefined =
      options.processId !== undefined || options.port !== undefined || options.websocketUrl
        ? {
            processId: options.processId,
            port: options.port,
            address: options.address,
            websocketUrl: options.websocketUrl,
          }
        : undefined;
    if (!where) {
      if (!interactive) throw new UserError('Name the process to attach to: a process id, a port or a WebSocket URL.');
      where = await askForTarget();
      if (!where) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
    }
    const name =
      where.processId !== undefined
        ? `process ${where.processId}`
        : where.port !== undefined
          ? `${where.address ?? '127.0.0.1'}:${where.port}`
          : (where.websocketUrl ?? 'process');
    const config: vscode.DebugConfiguration = {
      type: DEBUG_TYPE,
      request: 'attach',
      name: `Leak Lens: ${name}`,
      trackAllocations: options.trackAllocations,
    };
    for (const [k, v] of Object.entries(where)) if (v !== undefined) config[k] = v;
    const target = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Leak Lens: attaching to ${name}` },
      () => startSession(s, config, vscode.workspace.workspaceFolders?.[0]),
    );
    return { sessionId: target.session.id, sessionName: target.session.name, pid: target.pid };
  });
}

export interface LaunchOptions extends CommandOptions {
  program?: string;
  args?: string[];
  cwd?: string;
  env?: Record<string, string>;
  trackAllocations?: boolean;
}

const JS_FILE = /\.(c|m)?js$/;

async function pickProgram(): Promise<string | undefined> {
  const active = vscode.window.activeTextEditor?.document;
  const files = vscode.workspace.workspaceFolders
    ? await vscode.workspace.findFiles('**/*.{js,mjs,cjs}', '{**/node_modules/**,**/.git/**,**/out/**,**/dist/**}', 300)
    : [];
  const items = files.map((f) => ({
    label: path.basename(f.fsPath),
    description: vscode.workspace.asRelativePath(f, true),
    file: f.fsPath,
  }));
  if (active?.uri.scheme === 'file' && JS_FILE.test(active.uri.fsPath)) {
    const file = active.uri.fsPath;
    items.unshift({ label: path.basename(file), description: 'active editor', file });
  }
  if (items.length === 0) {
    throw new UserError(
      'Leak Lens found no JavaScript file to launch. Open the program\'s folder or its main file, then run "Leak Lens: Launch Program..." again.',
    );
  }
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Leak Lens: launch which program?',
    placeHolder: 'The program runs under Node with its inspector open, for memory work',
    matchOnDescription: true,
  });
  return picked?.file;
}

export function launchProgramCommand(s: Services, arg?: LaunchOptions | vscode.Uri): Promise<Outcome<SessionResult>> {
  const options: LaunchOptions = arg instanceof vscode.Uri ? { program: arg.fsPath } : (arg ?? {});
  const interactive = options.interactive ?? true;
  return guardCommand('launch the program', async () => {
    const program = options.program ?? (interactive ? await pickProgram() : undefined);
    if (!program) {
      if (!interactive) throw new UserError('Name the program to launch.');
      throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
    }
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(program));
    const config: vscode.DebugConfiguration = {
      type: DEBUG_TYPE,
      request: 'launch',
      name: `Leak Lens: ${path.basename(program)}`,
      program,
      cwd: options.cwd ?? folder?.uri.fsPath ?? path.dirname(program),
      args: options.args,
      env: options.env,
      trackAllocations: options.trackAllocations,
    };
    const target = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Leak Lens: launching ${path.basename(program)}` },
      () => startSession(s, config, folder),
    );
    return { sessionId: target.session.id, sessionName: target.session.name, pid: target.pid };
  });
}

/** `${command:PickProcess}` for leak-lens attach configurations: the chosen pid as a string. */
export async function pickProcess(): Promise<string | undefined> {
  const items = listNodeProcesses().map((p) => ({ label: `${p.pid}`, description: p.command, pid: p.pid }));
  if (items.length === 0) {
    void vscode.window.showErrorMessage(
      'Leak Lens found no running Node process on this machine. Start the program first.',
    );
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Leak Lens: attach to which Node process?',
    matchOnDescription: true,
  });
  return picked ? String(picked.pid) : undefined;
}
