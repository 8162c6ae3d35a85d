/** Helpers for the VS Code tests: the extension's API, debug sessions on fixture programs, command outcomes. */
import * as assert from 'assert';
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import * as vscode from 'vscode';
import type { Outcome } from '../../src/extension/commands/common';
import type { LeakLensApi } from '../../src/extension/main';

export const EXTENSION_ID = 'leak-lens.leak-lens';

export async function api(): Promise<LeakLensApi> {
  const ext = vscode.extensions.getExtension<LeakLensApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not loaded`);
  return ext.activate();
}

export function workspaceDir(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the tests need a workspace folder (scripts/vscode-test.js opens test/vscode/fixtures/workspace)');
  return folder.uri.fsPath;
}

export function fixture(name: string): string {
  return path.join(workspaceDir(), name);
}

/** Runs a Leak Lens command and returns its outcome. */
export async function run<T>(command: string, ...args: unknown[]): Promise<Outcome<T>> {
  const outcome = await vscode.commands.executeCommand<Outcome<T>>(command, ...args);
  assert.ok(outcome && typeof outcome === 'object' && 'ok' in outcome, `${command} returned no outcome`);
  return outcome;
}

/** Runs a command that must succeed and returns its value. */
export async function ok<T>(command: string, ...args: unknown[]): Promise<T> {
  const outcome = await run<T>(command, ...args);
  if (!outcome.ok) assert.fail(`${command} failed: ${outcome.error}`);
  return outcome.value;
}

/** Resolves with the first event that matches, or rejects after `ms`. */
export function nextEvent<T>(
  event: vscode.Event<T>,
  match: (e: T) => boolean,
  ms = 30_000,
  what = 'event',
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`no ${what} within ${ms} ms`));
    }, ms);
    const sub = event((e) => {
      if (!match(e)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(e);
    });
  });
}

/** Polls a condition that has no event (files on disk, a process gone). */
export async function until<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts a js-debug `pwa-node` launch and resolves with its child (process) session. */
export async function startPwaNode(
  program: string,
  env: Record<string, string> = {},
  name = path.basename(program),
): Promise<vscode.DebugSession> {
  const child = nextEvent(
    vscode.debug.onDidStartDebugSession,
    (s) => !!s.parentSession && s.parentSession.name === name && s.type === 'pwa-node',
    45_000,
    `js-debug child session of ${name}`,
  );
  const started = await vscode.debug.startDebugging(vscode.workspace.workspaceFolders?.[0], {
    type: 'pwa-node',
    request: 'launch',
    name,
    program,
    env,
    console: 'internalConsole',
    outputCapture: 'std',
    skipFiles: ['<node_internals>/**'],
  });
  assert.ok(started, `startDebugging(pwa-node ${name}) returned false`);
  return child;
}

/** Starts a `leak-lens` debug configuration and resolves with its session once it is running. */
export async function startLeakLens(config: Record<string, unknown>): Promise<vscode.DebugSession> {
  const name = String(config.name);
  const session = nextEvent(
    vscode.debug.onDidStartDebugSession,
    (s) => s.name === name && s.type === 'leak-lens',
    30_000,
    `leak-lens session ${name}`,
  );
  const started = await vscode.debug.startDebugging(vscode.workspace.workspaceFolders?.[0], {
    type: 'leak-lens',
    ...config,
  } as vscode.DebugConfiguration);
  assert.ok(started, `startDebugging(leak-lens ${name}) returned false`);
  return session;
}

/** Debug sessions started while the tests run and not ended yet. */
const live = new Map<string, vscode.DebugSession>();
vscode.debug.onDidStartDebugSession((session) => live.set(session.id, session));
vscode.debug.onDidTerminateDebugSession((session) => live.delete(session.id));

/** Stops every debug session the tests started and waits until all have ended. */
export async function stopAllSessions(): Promise<void> {
  for (const session of [...live.values()]) if (!session.parentSession) await vscode.debug.stopDebugging(session);
  await vscode.debug.stopDebugging();
  await until(
    () => live.size === 0,
    20_000,
    `the debug sessions to end (${[...live.values()].map((x) => x.name).join(', ')})`,
  );
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Starts a plain Node process (not debugged) and resolves once it printed its first line. */
export async function startNode(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; firstLine: string; stderr: () => string }> {
  const child = spawn('node', args, {
    cwd: workspaceDir(),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const firstLine = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
    child.once('exit', (code) => reject(new Error(`node ${args.join(' ')} exited with ${code}: ${err}`)));
  });
  return { child, firstLine, stderr: () => err };
}

/** Files in the snapshot folder (hidden partial files included). */
export function folderFiles(folder: string): string[] {
  return fs.existsSync(folder) ? fs.readdirSync(folder).filter((n) => !n.startsWith('.leak-lens-probe')) : [];
}

export async function setSetting(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration('leakLens').update(key, value, vscode.ConfigurationTarget.Global);
}
