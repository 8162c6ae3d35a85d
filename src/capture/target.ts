// Ways to get the inspector URL of a Node process: launch it, ask an inspector's HTTP endpoint, wake a running
// process with SIGUSR1, or take a ws:// URL as given.
import { spawn, type ChildProcess } from 'child_process';
import { readdirSync, readFileSync, readlinkSync } from 'fs';
import * as http from 'http';
import { CdpClient, type Disposable } from './cdp';

/** What the inspector's `/json/list` endpoint says about one debuggable target. */
export interface InspectorTarget {
  id: string;
  type: string;
  title: string;
  description: string;
  url: string;
  webSocketDebuggerUrl: string;
}

/** An inspector URL to connect to, and what is known about the process behind it. */
export interface ResolvedTarget {
  /** The `ws://host:port/<id>` URL to open a {@link CdpClient} or `CaptureSession` on. */
  url: string;
  /** The process id, when Leak Lens knows it (launched or attached by pid). */
  pid?: number;
  /** The launched program, when Leak Lens started it; stop it when done. */
  program?: LaunchedProgram;
}

/** How a process ended. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Options for {@link launchProgram}. */
export interface LaunchOptions {
  /** What follows the inspector flag: the program and its arguments, e.g. `['server.js', '--port', '0']`. */
  args: string[];
  /** The runtime to start. Defaults to `node` from PATH (not `process.execPath`, which is Electron inside VS Code). */
  runtimeExecutable?: string;
  /**
   * Runtime flags, placed after the inspector flag (which comes right after the executable, so that options taking
   * a value, such as `-e CODE` or `-r MODULE`, keep it), e.g. `['--max-old-space-size=512']`.
   */
  runtimeArgs?: string[];
  cwd?: string;
  /** Merged over `process.env`; a key set to `undefined` is removed. */
  env?: Record<string, string | undefined>;
  /** Receives the program's stdout. Without it, the output goes to this process's stdout. */
  onStdout?: (data: Buffer) => void;
  /** Receives the program's stderr, including the inspector's own lines. Without it, it goes to this process's stderr. */
  onStderr?: (data: Buffer) => void;
  /** Start with `--inspect-brk`, so no program code runs before a session attaches and resumes it. */
  pauseAtStart?: boolean;
  /** How long the inspector may take to open. Defaults to 10 s. */
  inspectorTimeoutMs?: number;
  /** How long {@link LaunchedProgram.stop} waits after SIGTERM before SIGKILL. Defaults to 2 s. */
  stopGraceMs?: number;
}

const listeningLine = /Debugger listening on (wss?:\/\/\S+)/;
const waitingLine = 'Waiting for the debugger to disconnect';
const stderrTailLength = 2_000;

/**
 * A program Leak Lens started under the inspector. It runs in its own process group, so {@link stop} also ends
 * whatever it spawned. It is also killed if this process exits first.
 */
export class LaunchedProgram {
  /** The inspector URL; {@link launchProgram} resolves only once it is known. */
  url = '';
  /** Resolves when the program's main process has exited. */
  readonly exited: Promise<ExitStatus>;
  private exitStatus: ExitStatus | undefined;
  private stopping: Promise<ExitStatus> | undefined;
  private readonly waitingHandlers = new Set<() => void>();
  private sawWaitingLine = false;
  private readonly killOnParentExit = (): void => this.signalGroup('SIGKILL');

  /** @internal Use {@link launchProgram}. */
  constructor(
    readonly child: ChildProcess,
    readonly pid: number,
    private readonly stopGraceMs: number,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        resolve(this.exitStatus);
      });
    });
    process.on('exit', this.killOnParentExit);
    void this.exited.then(() => {
      // The group may outlive its leader; only stop() ends the rest, so keep the exit hook until then.
      if (!this.groupAlive()) process.off('exit', this.killOnParentExit);
    });
  }

  /** The exit status once the main process has exited, otherwise undefined. */
  get exitState(): ExitStatus | undefined {
    return this.exitStatus;
  }

  /**
   * Calls `handler` when the program's own code has finished and Node is only waiting for the debugger to
   * disconnect (Node prints "Waiting for the debugger to disconnect..." then).
   */
  onWaitingForDisconnect(handler: () => void): Disposable {
    if (this.sawWaitingLine) {
      queueMicrotask(handler);
      return { dispose: () => undefined };
    }
    this.waitingHandlers.add(handler);
    return { dispose: () => void this.waitingHandlers.delete(handler) };
  }

  /** @internal Called by the stderr reader. */
  noteWaitingForDisconnect(): void {
    if (this.sawWaitingLine) return;
    this.sawWaitingLine = true;
    for (const handler of [...this.waitingHandlers]) handler();
    this.waitingHandlers.clear();
  }

  /**
   * Ends the program and everything it started: SIGTERM to its process group, then, once the main process has
   * exited or the grace period is over, SIGKILL to whatever is left of the group. Resolves with the main process's
   * exit status when no process of the group runs any more. Later calls return the same result.
   */
  stop(graceMs = this.stopGraceMs): Promise<ExitStatus> {
    // Signal the group once only: long after, its id could belong to someone else.
    this.stopping ??= this.terminate(graceMs);
    return this.stopping;
  }

  private async terminate(graceMs: number): Promise<ExitStatus> {
    this.signalGroup('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace-over'>((resolve) => {
      timer = setTimeout(() => resolve('grace-over'), graceMs);
    });
    const first = await Promise.race([this.exited, graceOver]);
    clearTimeout(timer);
    // Kill the group even when the leader went quietly: children that ignore SIGTERM must not outlive it.
    this.signalGroup('SIGKILL');
    const status = first === 'grace-over' ? await this.exited : first;
    await this.groupGone(1_000);
    process.off('exit', this.killOnParentExit);
    return status;
  }

  /**
   * Waits until no living process is left in the group: SIGKILL is delivered asynchronously, so a grandchild may
   * still run for a moment after the leader has been reaped. Zombies count as gone; only their parent can reap them.
   */
  private async groupGone(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (livingGroupMembers(this.pid) > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  private signalGroup(signal: NodeJS.Signals): void {
    try {
      // A negative pid addresses the whole process group, which detached spawning made this program's own.
      process.kill(process.platform === 'win32' ? this.pid : -this.pid, signal);
    } catch {
      // ESRCH: nobody is left in the group, which is the goal.
    }
  }

  private groupAlive(): boolean {
    try {
      process.kill(-this.pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * Starts `<runtimeExecutable> --inspect=127.0.0.1:0 <runtimeArgs> <args>` in its own process group and resolves
 * once the inspector prints its URL. Rejects if the program cannot start, exits first, or the inspector does not
 * open in time (the process group is killed then).
 */
export function launchProgram(options: LaunchOptions): Promise<LaunchedProgram> {
  const executable = options.runtimeExecutable ?? 'node';
  const inspectFlag = options.pauseAtStart ? '--inspect-brk=127.0.0.1:0' : '--inspect=127.0.0.1:0';
  // Right after the executable: anywhere later it could land between an option and its value (`-e CODE`).
  const argv = [inspectFlag, ...(options.runtimeArgs ?? []), ...options.args];
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  const timeoutMs = options.inspectorTimeoutMs ?? 10_000;
  const commandLine = [executable, ...argv].join(' ');

  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(executable, argv, { cwd: options.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      reject(new Error(`could not start ${commandLine}: ${(error as Error).message}`, { cause: error }));
      return;
    }
    let settled = false;
    let stderrTail = '';
    let lineBuffer = '';
    const tail = (): string => (stderrTail.trim() ? `; its last output was:\n${stderrTail.trim()}` : '');
    // Without a pid the spawn failed; the 'error' event below explains why.
    const launched =
      child.pid === undefined ? undefined : new LaunchedProgram(child, child.pid, options.stopGraceMs ?? 2_000);

    // Failure rejects only once the process group is gone, so a caller never inherits a stray process.
    const fail = (message: string, cause?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const error = Object.assign(new Error(message, { cause }), { pid: launched?.pid });
      if (launched) void launched.stop(0).then(() => reject(error));
      else reject(error);
    };

    const timer = setTimeout(
      () => fail(`${commandLine} did not open its inspector within ${timeoutMs} ms${tail()}`),
      timeoutMs,
    );

    child.once('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'ENOENT' ? `'${executable}' was not found` : error.message;
      fail(`could not start ${commandLine}: ${why}`, error);
    });
    if (!launched) return;

    child.stdout?.on('data', (data: Buffer) => {
      if (options.onStdout) options.onStdout(data);
      else process.stdout.write(data);
    });
    child.stderr?.on('data', (data: Buffer) => {
      if (options.onStderr) options.onStderr(data);
      else process.stderr.write(data);
      const text = data.toString();
      stderrTail = (stderrTail + text).slice(-stderrTailLength);
      // Scan whole lines only; a chunk boundary may fall inside the URL.
      lineBuffer += text;
      const lines = lineBuffer.split('\n');
      lineBuffer = lines.pop() ?? '';
      for (const line of lines) {
        const match = listeningLine.exec(line);
        if (match && !settled) {
          settled = true;
          clearTimeout(timer);
          launched.url = match[1];
          resolve(launched);
        } else if (line.includes(waitingLine)) {
          launched.noteWaitingForDisconnect();
        }
      }
      if (lineBuffer.length > 64 * 1024) lineBuffer = lineBuffer.slice(-1024);
    });

    child.once('exit', (code, signal) => {
      if (settled) return;
      // The last stderr lines usually say why (a bad flag, a missing module); let them arrive before reporting.
      const report = (): void => {
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        fail(`the program ${how} before its inspector opened (${commandLine})${tail()}`);
      };
      const flushTimer = setTimeout(report, 500);
      child.once('close', () => {
        clearTimeout(flushTimer);
        report();
      });
    });
  });
}

/** Options for {@link listInspectorTargets} and {@link targetFromHostPort}. */
export interface HttpLookupOptions {
  timeoutMs?: number;
}

/** Fetches `http://host:port/json/list`: the targets an inspector endpoint offers. */
export function listInspectorTargets(
  host: string,
  port: number,
  options: HttpLookupOptions = {},
): Promise<InspectorTarget[]> {
  const timeoutMs = options.timeoutMs ?? 3_000;
  const where = `http://${host}:${port}/json/list`;
  return new Promise((resolve, reject) => {
    const request = http.get({ host, port, path: '/json/list', timeout: timeoutMs }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        if (response.statusCode !== 200) {
          reject(new Error(`${where} answered HTTP ${response.statusCode ?? '?'}; is this a Node inspector port?`));
          return;
        }
        try {
          const parsed = JSON.parse(body) as unknown;
          if (!Array.isArray(parsed)) throw new Error('not a JSON array');
          resolve(parsed as InspectorTarget[]);
        } catch (error) {
          reject(new Error(`${where} did not return a target list: ${(error as Error).message}`, { cause: error }));
        }
      });
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (error: NodeJS.ErrnoException) => {
      const why =
        error.code === 'ECONNREFUSED'
          ? `nothing is listening there; start the program with --inspect=${host}:${port}`
          : error.message;
      reject(
        Object.assign(new Error(`could not reach the inspector at ${where}: ${why}`, { cause: error }), {
          code: error.code,
        }),
      );
    });
  });
}

/** Asks the inspector at `host:port` for its target and returns that target's WebSocket URL. */
export async function targetFromHostPort(
  host: string,
  port: number,
  options: HttpLookupOptions = {},
): Promise<ResolvedTarget> {
  const targets = await listInspectorTargets(host, port, options);
  const target =
    targets.find((t) => t.type === 'node' && t.webSocketDebuggerUrl) ?? targets.find((t) => t.webSocketDebuggerUrl);
  if (!target) {
    throw new Error(`the inspector at ${host}:${port} lists no debuggable target (another debugger may hold it)`);
  }
  return { url: target.webSocketDebuggerUrl };
}

/** Options for {@link attachToPid}. */
export interface AttachToPidOptions {
  /** How long the process may take to open its inspector after SIGUSR1. Defaults to 5 s. */
  timeoutMs?: number;
  /** The port SIGUSR1 opens the inspector on; Node's default is 9229. */
  port?: number;
}

/**
 * Asks a running Node process to open its inspector (SIGUSR1, Linux and macOS) and finds its URL on
 * 127.0.0.1:9229. The target found there is checked to really be `pid`, because another process may hold the port.
 */
export async function attachToPid(pid: number, options: AttachToPidOptions = {}): Promise<ResolvedTarget> {
  const port = options.port ?? 9229;
  const timeoutMs = options.timeoutMs ?? 5_000;
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`'${pid}' is not a process id`);
  if (process.platform === 'win32') {
    throw new Error(
      'attaching by process id needs SIGUSR1, which Windows lacks; start the program with --inspect instead',
    );
  }
  assertProcessExists(pid);
  assertHandlesSigusr1(pid);

  // The process may have opened its inspector already (an earlier attach); then no signal is needed.
  const before = await inspectorOnPort(port);
  if (before.kind === 'inspector') {
    const found = await findTargetOfPid(before.targets, pid, port);
    if (found) return { url: found, pid };
    throw new Error(
      `port ${port} is already used by another process's inspector, so process ${pid} could not open its own there; ` +
        `stop that process or attach with host:port`,
    );
  }
  if (before.kind === 'other') {
    throw new Error(
      `port ${port} is already used by something that is not a Node inspector, so process ${pid} cannot open one there`,
    );
  }

  process.kill(pid, 'SIGUSR1');
  const deadline = Date.now() + timeoutMs;
  // Polling is the readiness signal here: the process announces the inspector only on its own stderr.
  for (;;) {
    if (!processExists(pid)) {
      throw new Error(`process ${pid} exited after SIGUSR1; it was probably not a Node process`);
    }
    const now = await inspectorOnPort(port);
    if (now.kind === 'inspector') {
      const found = await findTargetOfPid(now.targets, pid, port);
      if (found) return { url: found, pid };
      throw new Error(`port ${port} was taken by another process's inspector before process ${pid} could open its own`);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `process ${pid} did not open an inspector on 127.0.0.1:${port} within ${timeoutMs} ms after SIGUSR1; ` +
          `it may not be a Node process, or its inspector is already open on another port (then attach with host:port)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The kinds of target description {@link resolveTarget} accepts. */
export type TargetSpec =
  | { kind: 'launch'; launch: LaunchOptions }
  | { kind: 'hostPort'; host: string; port: number }
  | { kind: 'pid'; pid: number }
  | { kind: 'url'; url: string };

/** Reads what a user typed: `ws://...`, `host:port` (or `:port`, `port` above 65535 is rejected) or a process id. */
export function parseTargetSpec(text: string): TargetSpec {
  const trimmed = text.trim();
  if (/^wss?:\/\//i.test(trimmed)) return { kind: 'url', url: trimmed };
  if (/^\d+$/.test(trimmed)) return { kind: 'pid', pid: Number(trimmed) };
  const hostPort = /^(\[[^\]]+\]|[^:\s]*):(\d{1,5})$/.exec(trimmed);
  if (hostPort && Number(hostPort[2]) <= 65535) {
    const host = hostPort[1].replace(/^\[|\]$/g, '') || '127.0.0.1';
    return { kind: 'hostPort', host, port: Number(hostPort[2]) };
  }
  throw new Error(`cannot tell what '${text}' is; expected ws://host:port/<id>, host:port or a process id`);
}

/** Turns any target description into an inspector URL, launching or signalling a process if needed. */
export async function resolveTarget(spec: TargetSpec | string): Promise<ResolvedTarget> {
  const target = typeof spec === 'string' ? parseTargetSpec(spec) : spec;
  switch (target.kind) {
    case 'url':
      return { url: target.url };
    case 'hostPort':
      return targetFromHostPort(target.host, target.port);
    case 'pid':
      return attachToPid(target.pid);
    case 'launch': {
      const program = await launchProgram(target.launch);
      return { url: program.url, pid: program.pid, program };
    }
  }
}

/** How many processes of process group `pgid` are alive (not zombies), from procfs; 0 where there is no procfs. */
export function livingGroupMembers(pgid: number): number {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return 0;
  }
  let living = 0;
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may contain spaces and parentheses; the fields after the last ')' are state, ppid, pgrp.
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') living++;
    } catch {
      // The process went away while we looked.
    }
  }
  return living;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function assertProcessExists(pid: number): void {
  try {
    process.kill(pid, 0);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') throw new Error(`no such process: ${pid}`);
    if (code === 'EPERM') throw new Error(`process ${pid} belongs to another user; Leak Lens may not signal it`);
    throw error;
  }
}

/**
 * SIGUSR1's default action terminates a process. Node catches it, so on Linux the caught-signal mask tells
 * whether sending it would open an inspector or kill a process that is not Node.
 */
function assertHandlesSigusr1(pid: number): void {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return; // No procfs (macOS): nothing to check.
  }
  const caught = /^SigCgt:\s*([0-9a-f]+)$/im.exec(status);
  const name = /^Name:\s*(.*)$/m.exec(status)?.[1] ?? 'unknown';
  if (!caught) return;
  const sigusr1Bit = 1n << 9n; // Bit n-1 stands for signal n; SIGUSR1 is 10 on Linux.
  if ((BigInt(`0x${caught[1]}`) & sigusr1Bit) === 0n) {
    throw new Error(
      `process ${pid} (${name}) is not a Node process that listens for SIGUSR1, so its inspector cannot be opened; ` +
        `sending the signal would terminate it`,
    );
  }
}

type PortState = { kind: 'free' } | { kind: 'other' } | { kind: 'inspector'; targets: InspectorTarget[] };

async function inspectorOnPort(port: number): Promise<PortState> {
  try {
    return { kind: 'inspector', targets: await listInspectorTargets('127.0.0.1', port, { timeoutMs: 1_000 }) };
  } catch (error) {
    return (error as { code?: string }).code === 'ECONNREFUSED' ? { kind: 'free' } : { kind: 'other' };
  }
}

/**
 * Finds the target on `port` that belongs to `pid`. On Linux the listening socket's owner is read from procfs.
 * Elsewhere each target is asked for `process.pid` over a short CDP session; note that closing any inspector
 * session clears the isolate's heap object ids, so that fallback must run before a capture session opens.
 */
async function findTargetOfPid(targets: InspectorTarget[], pid: number, port: number): Promise<string | undefined> {
  const owns = ownsListeningPort(pid, port);
  if (owns !== undefined) {
    // A Node inspector endpoint serves exactly one process, so its targets are that process's.
    return owns ? targets.find((t) => t.webSocketDebuggerUrl)?.webSocketDebuggerUrl : undefined;
  }
  for (const target of targets) {
    if (!target.webSocketDebuggerUrl) continue;
    let client: CdpClient | undefined;
    try {
      client = await CdpClient.connect(target.webSocketDebuggerUrl, { timeoutMs: 2_000 });
      const reply = await client.send(
        'Runtime.evaluate',
        { expression: 'process.pid', returnByValue: true },
        { timeoutMs: 2_000 },
      );
      if (reply.result.value === pid) return target.webSocketDebuggerUrl;
    } catch {
      // A target that cannot answer is not the one we are looking for.
    } finally {
      await client?.close();
    }
  }
  return undefined;
}

/**
 * Whether `pid` holds the socket listening on `port`, from /proc/net/tcp{,6} and /proc/<pid>/fd; undefined when
 * procfs cannot tell (no procfs, or no permission to read the process's descriptors).
 */
function ownsListeningPort(pid: number, port: number): boolean | undefined {
  const inodes = new Set<string>();
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // Fields: sl, local_address, rem_address, st, queues, tr, retrnsmt, uid, timeout, inode. State 0A is LISTEN.
      if (fields.length > 9 && fields[1].endsWith(`:${portHex}`) && fields[3] === '0A') inodes.add(fields[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  let descriptors: string[];
  try {
    descriptors = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  for (const fd of descriptors) {
    try {
      const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (inode && inodes.has(inode)) return true;
    } catch {
      // The descriptor closed while we looked; ignore it.
    }
  }
  return false;
}
