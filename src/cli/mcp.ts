/**
 * `leak-lens mcp`: a Model Context Protocol server over stdio, so that a coding agent can find a leak and the line to
 * fix through tools alone. Its tools list the Node processes that can be inspected, launch a program under the
 * inspector or attach to one, take snapshots, run rounds of a workload and report what leaks (the same rounds as
 * `leak-lens run`), summarize or compare snapshots, and show a leak group's retainer path and owner.
 *
 * Every answer is plain text sized for a model's context: the top groups with their owners at file:line, never a
 * snapshot. Snapshots stay on disk in a folder this server owns and removes when it ends. Programs it launched are
 * stopped (with everything they started) when the client disconnects, on SIGINT, SIGTERM or SIGHUP, and when its
 * parent goes away; programs it attached to are only detached from.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { loadAnalysis } from '../../engine/analysis';
import { SnapshotParseError } from '../../engine/parseErrors';
import { buildLeakReport, describeObject, InputError } from '../../engine/report';
import { oneLine } from '../../engine/safeRead';
import { formatBytes } from '../../protocol/units';
import { summarizeClasses } from '../../engine/summary';
import {
  CaptureSession,
  holdLifeline,
  launchForCapture,
  listInspectableProcesses,
  resolveTarget,
  workloadEnvironment,
  type LaunchedProgram,
  type TargetSpec,
} from '../capture';
import { formatGroup, formatObjectRetainers, formatReport, formatSummary } from './format';
import { ProgramFormError, resolveProgram } from './program';
import {
  captureRounds,
  launchRuntimeArgs,
  ProgramOutput,
  readyPattern,
  reportOfRounds,
  RunError,
  RunInterrupted,
  stepGuard,
  untilReady,
  waitAtMost,
} from './rounds';
import type { LeakGroup, LeakReport } from '../../protocol/report';

/** The longest answer a tool gives, in characters: a model's context is shared with everything else it reads. */
const ANSWER_LIMIT = 12_000;

/** A problem with a tool's input or state that the caller can fix; its message is the tool error's one line. */
class ToolError extends Error {}

/** A program this server launched or attached to, with the one inspector session held for it. */
interface Target {
  id: string;
  how: 'launched' | 'attached';
  /** The command line, or the inspector address attached to. */
  what: string;
  pid?: number;
  session: CaptureSession;
  program?: LaunchedProgram;
  /** The first URL the launched program printed up to its ready line: the workload's TARGET_URL. */
  targetUrl?: string;
  readyLine?: string;
  cwd?: string;
  /** Why the target cannot be used any more (it exited, its inspector closed); undefined while it is alive. */
  ended?: string;
  /** Resolves when the target has ended. */
  gone: Promise<void>;
  /** The tool working on it now: tools on one target run one at a time. */
  busy?: string;
  /** Stops the tool working on it (on shutdown, or when the client cancels). */
  stop?: AbortController;
  /** True when this server turned allocation tracking on for the whole life of the target (launch option). */
  tracking: boolean;
  lastWords: () => string | undefined;
}

/** A snapshot this server wrote, by its id. */
interface SnapshotEntry {
  id: string;
  file: string;
  target: string;
  label: string;
}

/** The last report any tool produced, and the snapshots it came from. */
interface CurrentReport {
  report: LeakReport;
  source: string;
  files: string[];
}

/** Runs the MCP server on stdin/stdout until the client disconnects; resolves with the exit status. */
export async function serveMcp(): Promise<number> {
  const log = (line: string): void => {
    try {
      process.stderr.write(`leak-lens mcp: ${oneLine(line, 600)}\n`);
    } catch {
      // Nowhere to write to any more.
    }
  };
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-lens-mcp-'));
  // Snapshots hold the programs' memory: the folder goes with this process, however it ends.
  const removeFolder = (): void => fs.rmSync(folder, { recursive: true, force: true });
  process.on('exit', removeFolder);
  const state = new McpState(folder, log);

  let shuttingDown: Promise<void> | undefined;
  const shutDown = (why: string): Promise<void> =>
    (shuttingDown ??= (async () => {
      log(`${why}; stopping what this server started`);
      await state.closeAll();
      removeFolder();
    })());

  const lifeline = holdLifeline({ log, cleanup: () => shutDown('stopping') });
  const server = new McpServer({ name: 'leak-lens', version: packageVersion() }, { capabilities: { tools: {} } });
  registerTools(server, state);
  const transport = new StdioServerTransport();
  const disconnected = new Promise<void>((resolve) => {
    // The client closing our stdin is how a stdio client disconnects; the SDK's transport does not watch for it.
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
    transport.onclose = () => resolve();
  });
  await server.connect(transport);
  log(`ready; snapshots go to ${folder}`);
  await disconnected;
  await shutDown('the client disconnected');
  lifeline.dispose();
  await server.close().catch(() => undefined);
  process.off('exit', removeFolder);
  return 0;
}

function packageVersion(): string {
  try {
    return (
      JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    return '0.0.0';
  }
}

/** What the server holds between tool calls: targets, snapshots and the current report. */
class McpState {
  readonly targets = new Map<string, Target>();
  readonly snapshots = new Map<string, SnapshotEntry>();
  current: CurrentReport | undefined;
  private nextTarget = 1;
  private nextSnapshot = 1;
  private nextRun = 1;

  constructor(
    readonly folder: string,
    readonly log: (line: string) => void,
  ) {}

  newTargetId(): string {
    return `t${this.nextTarget++}`;
  }

  /** A new snapshot id and the file it is written to. */
  newSnapshot(): { id: string; file: string } {
    const id = `s${this.nextSnapshot++}`;
    return { id, file: path.join(this.folder, `${id}.heapsnapshot`) };
  }

  newRunFolder(): string {
    const dir = path.join(this.folder, `find-leaks-${this.nextRun++}`);
    fs.mkdirSync(dir);
    return dir;
  }

  /** The id of a snapshot file this server holds. */
  snapshotIdOf(file: string): string | undefined {
    for (const entry of this.snapshots.values()) if (entry.file === file) return entry.id;
    return undefined;
  }

  addSnapshot(entry: SnapshotEntry): void {
    this.snapshots.set(entry.id, entry);
  }

  /** The target named `id`, alive and not busy with another tool. */
  target(id: string): Target {
    const t = this.targets.get(id.trim());
    if (!t) {
      const known = [...this.targets.keys()];
      throw new ToolError(
        `no target "${id}"; ${known.length ? `the targets are ${known.join(', ')}` : 'launch_program or attach first'}`,
      );
    }
    if (t.ended) throw new ToolError(`target ${t.id} (${t.what}) has ended: ${t.ended}; launch or attach again`);
    if (t.busy) throw new ToolError(`target ${t.id} is busy with ${t.busy}; wait for it to finish`);
    return t;
  }

  /** A snapshot file from a snapshot id of this server (s1, s2...) or a path to a .heapsnapshot file. */
  snapshotFile(ref: string): string {
    const entry = this.snapshots.get(ref.trim());
    if (entry) return entry.file;
    if (/^s\d+$/.test(ref.trim())) {
      throw new ToolError(
        `no snapshot "${ref}"; ${this.snapshots.size ? `the snapshots are ${[...this.snapshots.keys()].join(', ')}` : 'take_snapshot or find_leaks first'}, or give a path to a .heapsnapshot file`,
      );
    }
    const file = path.resolve(ref);
    if (!fs.existsSync(file))
      throw new ToolError(`no snapshot "${ref}": it is neither a snapshot id of this server nor an existing file`);
    return file;
  }

  /** Registers a target and watches for its end. */
  add(t: Omit<Target, 'gone' | 'ended'>, ended: Promise<string>): Target {
    let onGone: () => void = () => undefined;
    const target: Target = { ...t, gone: new Promise<void>((resolve) => (onGone = resolve)) };
    void ended.then((why) => {
      target.ended ??= why;
      onGone();
    });
    this.targets.set(target.id, target);
    return target;
  }

  /** Stops the work on a target, detaches from it, and stops it if this server launched it. */
  async close(t: Target, why: string): Promise<void> {
    t.stop?.abort(new Error(why));
    t.ended ??= why;
    await t.session.close().catch(() => undefined);
    if (t.program) await t.program.stop();
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.targets.values()].map((t) => this.close(t, 'the server is stopping')));
  }
}

/** Text no longer than {@link ANSWER_LIMIT}, saying so when cut. */
function sized(text: string): string {
  if (text.length <= ANSWER_LIMIT) return text;
  const cut = text.lastIndexOf('\n', ANSWER_LIMIT - 200);
  return `${text.slice(0, cut > 0 ? cut : ANSWER_LIMIT - 200)}\n... (answer cut at ${ANSWER_LIMIT} characters; ask for fewer groups with top)`;
}

/** A report as text with its first `top` groups, and where the rest can be read. */
function reportText(report: LeakReport, top: number): string {
  const shown = report.leaks.slice(0, top);
  let text = formatReport({ ...report, leaks: shown });
  if (shown.length < report.leaks.length) {
    const total = report.leaks.length;
    text = text.replace(
      /^\d+ leaks? found/,
      `${total} leaks found (the first ${shown.length} shown; read_report with a larger top shows more)`,
    );
  }
  if (report.verdict === 'leak' && !report.sampling)
    text += "\n\nretainer_path with a class name shows a group's whole path from the GC root.";
  return text;
}

/** Classes whose object count grew between the first and the last snapshot, most first (for a comparison). */
function growthText(report: LeakReport, top: number): string {
  const rows = report.classGrowth
    .map((c) => ({ ...c, delta: c.counts[c.counts.length - 1] - c.counts[0] }))
    .filter((c) => c.delta > 0)
    .slice(0, top);
  if (rows.length === 0) return '';
  const lines = ['Classes that grew (object counts per snapshot):'];
  for (const c of rows)
    lines.push(
      `  ${c.className}: ${c.counts.join(' -> ')} (+${c.delta}), ${formatBytes(c.sizes[0])} -> ${formatBytes(c.sizes[c.sizes.length - 1])}`,
    );
  return lines.join('\n');
}

/** A tool error's one line, from whatever was thrown. */
function errorText(e: unknown): string {
  if (e instanceof RunInterrupted)
    return 'stopped before it finished (the request was cancelled or the server is stopping)';
  const err = e as NodeJS.ErrnoException;
  if (err && (err.code === 'ERR_OUT_OF_RANGE' || err instanceof RangeError))
    return `not enough memory for this snapshot (${err.message}); use a machine with more memory`;
  return oneLine(err && err.message ? err.message : String(e), 600);
}

type Extra = {
  signal: AbortSignal;
  _meta?: { progressToken?: string | number };
  sendNotification: (n: {
    method: 'notifications/progress';
    params: { progressToken: string | number; progress: number; message?: string };
  }) => Promise<void>;
};

/** A progress line for the client (when it asked for progress) and for the log. */
function progressOf(extra: Extra, log: (line: string) => void): (line: string) => void {
  let step = 0;
  const token = extra._meta?.progressToken;
  return (line: string) => {
    log(line);
    if (token === undefined) return;
    void extra
      .sendNotification({
        method: 'notifications/progress',
        params: { progressToken: token, progress: ++step, message: line },
      })
      .catch(() => undefined);
  };
}

function registerTools(server: McpServer, state: McpState): void {
  const { log } = state;
  /** Registers a tool whose handler returns text; anything it throws becomes a one-line tool error. */
  const tool = <Shape extends z.ZodRawShape>(
    name: string,
    description: string,
    shape: Shape,
    handler: (args: z.infer<z.ZodObject<Shape>>, extra: Extra) => Promise<string>,
  ): void => {
    const run = async (args: z.infer<z.ZodObject<Shape>>, extra: Extra): Promise<CallToolResult> => {
      try {
        return { content: [{ type: 'text', text: sized(await handler(args, extra)) }] };
      } catch (e) {
        if (!(
          e instanceof ToolError ||
          e instanceof InputError ||
          e instanceof SnapshotParseError ||
          e instanceof RunError ||
          e instanceof RunInterrupted
        ))
          log(`${name} failed: ${(e as Error)?.stack ?? String(e)}`);
        return { isError: true, content: [{ type: 'text', text: `${name}: ${errorText(e)}` }] };
      }
    };
    // The SDK's generic handler type cannot be named for any shape here; the arguments are checked against `shape`.
    (server.registerTool as (n: string, c: object, h: typeof run) => void)(
      name,
      { description, inputSchema: shape },
      run,
    );
  };

  const top = (fallback: number) => z.number().int().min(1).max(50).default(fallback);

  tool(
    'list_node_processes',
    'List the Node.js processes on this machine that can be inspected now (their inspector port answers), with the targets this server holds. Node processes without an open inspector are listed too: attach by pid opens one (SIGUSR1).',
    {
      ports: z
        .array(z.number().int().min(1).max(65535))
        .max(20)
        .optional()
        .describe(
          'Inspector ports of 127.0.0.1 to ask as well (for a process procfs does not show, e.g. in a container)',
        ),
    },
    async ({ ports }) => {
      const found = await listInspectableProcesses(ports ?? []);
      const lines: string[] = [];
      if (found.inspectable.length === 0) lines.push('No Node process with an open inspector was found.');
      else {
        lines.push('Node processes with an open inspector (attach with port, or url):');
        for (const p of found.inspectable) {
          const title = p.targets.map((t) => t.title || t.url).filter(Boolean)[0] ?? '';
          const cmd = p.command ? `  ${p.command.length > 160 ? p.command.slice(0, 157) + '...' : p.command}` : '';
          lines.push(
            `  ${p.pid !== undefined ? `pid ${p.pid}` : 'pid unknown'}  port ${p.port}${cmd}${!cmd && title ? `  ${title}` : ''}`,
          );
          for (const t of p.targets) if (t.webSocketDebuggerUrl) lines.push(`      url ${t.webSocketDebuggerUrl}`);
        }
      }
      for (const f of found.failedPorts) lines.push(`port ${f.port}: ${oneLine(f.reason, 200)}`);
      if (found.others.length) {
        lines.push('', `Node processes without an open inspector (attach with pid opens one with SIGUSR1):`);
        for (const p of found.others.slice(0, 15))
          lines.push(`  pid ${p.pid}  ${p.command.length > 160 ? p.command.slice(0, 157) + '...' : p.command}`);
        if (found.others.length > 15) lines.push(`  ... and ${found.others.length - 15} more`);
      }
      const held = [...state.targets.values()];
      if (held.length) {
        lines.push('', 'Targets of this server:');
        for (const t of held)
          lines.push(
            `  ${t.id}  ${t.how} ${t.what}${t.pid ? ` (pid ${t.pid})` : ''}${t.ended ? `, ended: ${t.ended}` : t.busy ? `, busy with ${t.busy}` : ''}`,
          );
      }
      return lines.join('\n');
    },
  );

  tool(
    'launch_program',
    'Start a Node.js program under the inspector (like `leak-lens run -- <command>`) and wait for its ready line. Returns a target id for take_snapshot and find_leaks. The program is stopped with everything it started when this server ends or stop_target is called.',
    {
      command: z
        .array(z.string())
        .min(1)
        .describe(
          'The program: ["node", "server.js", ...args] (node options allowed before the script), or ["server.js"]. Launchers such as npm start, npx or tsx are refused with the node command to use.',
        ),
      cwd: z
        .string()
        .optional()
        .describe("Working folder of the program (and of workloads run against it); default: the server's"),
      env: z.record(z.string(), z.string()).optional().describe("Environment variables added to the program's"),
      ready: z
        .string()
        .optional()
        .describe(
          "A regular expression for the program's own output line that says it is ready (default: listening|ready|started|running on); waited for at most 15 s",
        ),
      trackAllocations: z
        .boolean()
        .default(false)
        .describe(
          'Record allocation stacks from the start, so reports say where leaked objects are allocated (slower)',
        ),
    },
    async (args) => {
      const cwd = args.cwd ? path.resolve(args.cwd) : process.cwd();
      if (!fs.existsSync(cwd) || !fs.statSync(cwd).isDirectory())
        throw new ToolError(`cwd ${args.cwd} is not a folder`);
      let command;
      try {
        command = resolveProgram(args.command, [], cwd);
      } catch (e) {
        if (e instanceof ProgramFormError) throw new ToolError(e.message);
        throw e;
      }
      const output = new ProgramOutput(readyPattern(args.ready), () => undefined);
      const shown = args.command.join(' ');
      let launched;
      try {
        launched = await launchForCapture({
          runtimeExecutable: command.runtimeExecutable,
          runtimeArgs: launchRuntimeArgs(command.runtimeArgs, args.trackAllocations),
          args: [],
          cwd,
          env: args.env,
          onStdout: (d) => output.feed('stdout', d),
          onStderr: (d) => output.feed('stderr', d),
        });
      } catch (e) {
        throw new ToolError(
          `could not start ${shown}: ${(e as Error).message.split('\n')[0]}${output.lastWords ? ` (last output: "${output.lastWords}")` : ''}`,
        );
      }
      const { program, session } = launched;
      const exited = program.exited.then((st) =>
        st.signal ? `it was killed by ${st.signal}` : `it exited with code ${st.code}`,
      );
      const target = state.add(
        {
          id: state.newTargetId(),
          how: 'launched',
          what: shown,
          pid: program.pid,
          session,
          program,
          cwd,
          tracking: args.trackAllocations,
          lastWords: () => output.lastWords,
        },
        exited,
      );
      // Node keeps a program whose code has ended alive while a session is attached: let it go, so that it exits and
      // its exit status says how it ended.
      program.onWaitingForDisconnect(() => void session.close().catch(() => undefined));
      log(`${target.id}: started ${shown} (pid ${program.pid})`);
      const waiting = new AbortController();
      try {
        await Promise.race([untilReady(output, waiting.signal, log, 'pass ready to name it'), target.gone]);
      } finally {
        waiting.abort();
      }
      if (target.ended) {
        await state.close(target, target.ended);
        throw new ToolError(
          `${shown} ended before it was ready: ${target.ended}${output.lastWords ? ` (last output: "${output.lastWords}")` : ''}`,
        );
      }
      target.targetUrl = output.firstUrl;
      target.readyLine = output.readyLine;
      if (args.trackAllocations) await session.startAllocationTracking();
      return [
        `Target ${target.id}: launched ${shown} (pid ${program.pid}) in ${cwd}.`,
        output.readyLine
          ? `Ready: "${oneLine(output.readyLine, 200)}".`
          : 'No ready line was seen within 15 s; it is running.',
        output.firstUrl
          ? `Workloads run by find_leaks get TARGET_URL=${output.firstUrl}.`
          : 'It printed no URL, so workloads get no TARGET_URL; put the address in the workload command.',
        args.trackAllocations ? 'Allocation stacks are being recorded.' : '',
        `Next: find_leaks with target ${target.id} and a workload command, or take_snapshot.`,
      ]
        .filter(Boolean)
        .join('\n');
    },
  );

  tool(
    'attach',
    'Attach to a running Node.js process through its inspector: give url (ws://...), port (with host, default 127.0.0.1), or pid (its inspector is opened with SIGUSR1 on 127.0.0.1:9229). Returns a target id. Detaching never stops the process.',
    {
      url: z.string().optional().describe("The inspector's ws:// URL"),
      port: z.number().int().min(1).max(65535).optional().describe('The inspector port (from --inspect=PORT)'),
      host: z.string().optional().describe('The inspector host with port; default 127.0.0.1'),
      pid: z.number().int().min(1).optional().describe('The process id of a Node process (Linux and macOS)'),
      targetUrl: z.string().optional().describe("The program's own URL, passed to find_leaks workloads as TARGET_URL"),
    },
    async (args) => {
      const given = [args.url !== undefined, args.port !== undefined, args.pid !== undefined].filter(Boolean).length;
      if (given !== 1) throw new ToolError('give exactly one of url, port or pid');
      let spec: TargetSpec;
      if (args.url !== undefined) {
        if (!/^wss?:\/\//i.test(args.url))
          throw new ToolError(`url must be the inspector's ws:// URL, not "${args.url}"`);
        spec = { kind: 'url', url: args.url };
      } else if (args.port !== undefined) spec = { kind: 'hostPort', host: args.host ?? '127.0.0.1', port: args.port };
      else spec = { kind: 'pid', pid: args.pid! };
      const resolved = await resolveTarget(spec).catch((e: Error) => {
        throw new ToolError(e.message);
      });
      const session = await CaptureSession.open(resolved.url).catch((e: Error) => {
        throw new ToolError(`could not open an inspector session on ${resolved.url}: ${e.message}`);
      });
      const pid = session.processInfo.pid ?? resolved.pid;
      const what =
        args.url ?? (args.port !== undefined ? `${args.host ?? '127.0.0.1'}:${args.port}` : `pid ${args.pid}`);
      const ended = new Promise<string>((resolve) => session.onClose(() => resolve('its inspector connection closed')));
      const target = state.add(
        {
          id: state.newTargetId(),
          how: 'attached',
          what,
          pid,
          session,
          targetUrl: args.targetUrl,
          tracking: false,
          lastWords: () => undefined,
        },
        ended,
      );
      log(`${target.id}: attached to ${what}${pid ? ` (pid ${pid})` : ''}`);
      return [
        `Target ${target.id}: attached to ${what}${pid ? ` (pid ${pid}${session.processInfo.nodeVersion ? `, Node ${session.processInfo.nodeVersion}` : ''})` : ''}.`,
        args.targetUrl
          ? `Workloads run by find_leaks get TARGET_URL=${args.targetUrl}.`
          : 'Workloads get no TARGET_URL unless you pass targetUrl; put the address in the workload command.',
        `Next: find_leaks with target ${target.id} and a workload command, or take_snapshot.`,
      ].join('\n');
    },
  );

  tool(
    'stop_target',
    'Stop a target: a launched program is stopped with everything it started; an attached one is only detached from. Its snapshots stay until the server ends.',
    { target: z.string().describe('A target id (t1...)') },
    async ({ target: id }) => {
      const t = state.targets.get(id.trim());
      if (!t) throw new ToolError(`no target "${id}"`);
      await state.close(t, t.how === 'launched' ? 'stopped by stop_target' : 'detached by stop_target');
      return `${t.id} ${t.how === 'launched' ? 'stopped' : 'detached'}.`;
    },
  );

  tool(
    'take_snapshot',
    "Take a heap snapshot of a target (after a full GC). It stays on disk in the server's folder; the answer gives its id for summarize_snapshot and compare_snapshots.",
    {
      target: z.string().describe('A target id (t1...)'),
      label: z.string().max(200).optional().describe('A label kept with the snapshot'),
      force: z
        .boolean()
        .default(false)
        .describe('Take it even when the memory check says the program could be killed by it'),
    },
    async (args, extra) => {
      const t = state.target(args.target);
      const { id, file } = state.newSnapshot();
      t.busy = 'take_snapshot';
      t.stop = new AbortController();
      const stopOnCancel = (): void => t.stop?.abort(extra.signal.reason);
      extra.signal.addEventListener('abort', stopOnCancel, { once: true });
      try {
        const started = Date.now();
        const snapshot = t.session.takeSnapshot(file, {
          label: args.label ?? id,
          signal: t.stop.signal,
          force: args.force,
        });
        const taken = await Promise.race([
          snapshot,
          t.gone.then((): never => {
            throw new ToolError(`target ${t.id} ended during the snapshot: ${t.ended}`);
          }),
        ]);
        state.addSnapshot({ id, file, target: t.id, label: args.label ?? id });
        return `Snapshot ${id} of ${t.id}${t.pid ? ` (pid ${t.pid})` : ''}: ${formatBytes(taken.meta.fileSize)} in ${Date.now() - started} ms, at ${file}.\nsummarize_snapshot ${id} lists its classes; compare_snapshots [${id}, <a later one>] shows what grows between them.`;
      } finally {
        extra.signal.removeEventListener('abort', stopOnCancel);
        t.busy = undefined;
        t.stop = undefined;
      }
    },
  );

  tool(
    'find_leaks',
    'Find what leaks in a target: run the workload shell command once to warm up, then take snapshots with the workload run before each (the same rounds as `leak-lens run`), and report the leak groups: class, growth per round, owner at file:line, allocation site, retainer path. The report becomes the current one.',
    {
      target: z.string().describe('A target id (t1...)'),
      workload: z
        .string()
        .min(1)
        .describe(
          'A shell command that exercises the program once and exits 0, e.g. "node load.js"; it gets TARGET_URL (the program\'s first printed URL) in its environment',
        ),
      rounds: z.number().int().min(1).max(20).default(1).describe('Workload runs between two snapshots'),
      snapshots: z.number().int().min(2).max(10).default(3).describe('Snapshots to take (the first is the baseline)'),
      trackAllocations: z.boolean().default(false).describe('Record where leaked objects are allocated (slower)'),
      timeoutSeconds: z.number().int().min(1).max(3600).default(120).describe('The longest one workload run may take'),
      cwd: z
        .string()
        .optional()
        .describe("Working folder of the workload; default: the launched program's, else the server's"),
      targetUrl: z.string().optional().describe('TARGET_URL for the workload, instead of the one the program printed'),
      force: z
        .boolean()
        .default(false)
        .describe('Take snapshots even when the memory check says the program could be killed by one'),
      sampling: z
        .boolean()
        .default(false)
        .describe(
          'No snapshot: sample allocations (V8 sampling heap profiler) and report the allocation stacks whose live objects grow every round; for a program whose heap is too big to snapshot. It tells no retainers or owners. `snapshots` then counts the sampling boundaries (at least 4 is best)',
        ),
      samplingInterval: z
        .number()
        .int()
        .min(64)
        .max(1 << 20)
        .default(1024)
        .describe('With sampling: one allocation sampled per this many bytes on average; smaller sees smaller leaks'),
      top: top(5).describe('Leak groups to show'),
    },
    async (args, extra) => {
      const t = state.target(args.target);
      const cwd = args.cwd ? path.resolve(args.cwd) : (t.cwd ?? process.cwd());
      if (!fs.existsSync(cwd) || !fs.statSync(cwd).isDirectory())
        throw new ToolError(`cwd ${args.cwd} is not a folder`);
      const progress = progressOf(extra, log);
      const outDir = state.newRunFolder();
      const stop = new AbortController();
      t.busy = 'find_leaks';
      t.stop = stop;
      const stopOnCancel = (): void => stop.abort(extra.signal.reason);
      extra.signal.addEventListener('abort', stopOnCancel, { once: true });
      const interrupted = new Promise<never>((_, reject) =>
        stop.signal.addEventListener('abort', () => reject(new RunInterrupted(stop.signal.reason)), { once: true }),
      );
      interrupted.catch(() => undefined);
      const died = (): ToolError =>
        new ToolError(
          `target ${t.id} ended during find_leaks: ${t.ended}${t.lastWords() ? ` (last output: "${t.lastWords()}")` : ''}; it must keep running while it is measured`,
        );
      const { guard, inFlight } = stepGuard({
        interrupted,
        signal: stop.signal,
        gone: t.gone,
        ended: () => Boolean(t.ended),
        died,
        settleMs: () => 500,
      });
      let tail = '';
      const targetUrl = args.targetUrl ?? t.targetUrl;
      const startedTracking = args.trackAllocations && !t.session.isTrackingAllocations;
      try {
        progress(`find_leaks on ${t.id}: ${args.snapshots} snapshots, ${args.rounds} workload run(s) before each`);
        const result = await captureRounds({
          session: t.session,
          pid: t.pid,
          action: args.workload,
          env: workloadEnvironment(targetUrl),
          actionOptions: { cwd, onOutput: (d) => (tail = (tail + d.toString()).slice(-2000)) },
          actionTimeoutMs: args.timeoutSeconds * 1000,
          rounds: args.rounds,
          snapshots: args.snapshots,
          trackAllocations: args.trackAllocations,
          forceCapture: args.force,
          ...(args.sampling ? { sampling: { interval: args.samplingInterval } } : {}),
          outDir,
          log: progress,
          signal: stop.signal,
          stop: stop.signal,
          guard,
        }).catch((e: unknown) => {
          // The workload's last words say why it failed; the action's error alone does not.
          const last = tail.trim().split('\n').slice(-2).join(' / ');
          if (e instanceof RunError && /^the action /.test(e.message) && last)
            throw new RunError(`${e.message} (its last output: "${oneLine(last, 300)}")`);
          throw e;
        });
        if (startedTracking)
          await guard(t.session.stopAllocationTracking()).catch((e: Error) =>
            log(`allocation tracking of ${t.id} could not be stopped: ${e.message}`),
          );
        if (args.sampling)
          await guard(t.session.stopAllocationSampling()).catch((e: Error) =>
            log(`allocation sampling of ${t.id} could not be stopped: ${e.message}`),
          );
        const report = reportOfRounds(result, {
          snapshots: args.snapshots,
          ...(args.sampling ? { sampling: { interval: args.samplingInterval } } : {}),
          pid: t.pid,
          log: progress,
        });
        const ids = result.files.map((file, i) => {
          const { id } = state.newSnapshot();
          state.addSnapshot({ id, file, target: t.id, label: i === 0 ? 'baseline' : `after round ${i}` });
          return id;
        });
        state.current = {
          report,
          source: `find_leaks on ${t.id} (${t.what}) with "${args.workload}"`,
          files: result.files,
        };
        if (args.sampling) return reportText(report, args.top);
        return `${reportText(report, args.top)}\n\nSnapshots ${ids.join(', ')} (baseline first) stay on disk for summarize_snapshot and compare_snapshots.`;
      } catch (e) {
        // Snapshots of an unfinished run are of no use; the target itself stays as it was.
        stop.abort();
        await waitAtMost(Promise.allSettled([...inFlight]), 5000);
        fs.rmSync(outDir, { recursive: true, force: true });
        if (startedTracking && !t.ended) await t.session.stopAllocationTracking().catch(() => undefined);
        if (args.sampling && !t.ended) await t.session.stopAllocationSampling().catch(() => undefined);
        throw e;
      } finally {
        extra.signal.removeEventListener('abort', stopOnCancel);
        t.busy = undefined;
        t.stop = undefined;
      }
    },
  );

  tool(
    'summarize_snapshot',
    "The classes of one heap snapshot by retained size: count, shallow and retained size (like DevTools' Summary).",
    {
      snapshot: z.string().describe('A snapshot id of this server (s1...) or a path to a .heapsnapshot file'),
      top: top(20).describe('Classes to show'),
    },
    async ({ snapshot, top: n }) => {
      const file = state.snapshotFile(snapshot);
      const a = loadAnalysis(file);
      return formatSummary(snapshot, a.totalSize, summarizeClasses(a), n);
    },
  );

  tool(
    'compare_snapshots',
    'Compare snapshots of one process taken in order (a baseline, then one or more after running the workload): the leak groups with owners at file:line, and the classes that grew. The report becomes the current one.',
    {
      snapshots: z
        .array(z.string())
        .min(2)
        .max(10)
        .describe('Snapshot ids of this server (s1...) or .heapsnapshot paths, oldest first'),
      top: top(5).describe('Leak groups to show'),
    },
    async ({ snapshots, top: n }) => {
      const files = snapshots.map((s) => state.snapshotFile(s));
      const report = buildLeakReport(files);
      state.current = { report, source: `compare_snapshots ${snapshots.join(', ')}`, files };
      const growth = growthText(report, 10);
      return `${reportText(report, n)}${growth ? `\n\n${growth}` : ''}`;
    },
  );

  tool(
    'retainer_path',
    'The retainer path (every step from a GC root to a leaked object), owner at file:line and allocation site of the leak group of a class, from the current report or from a comparison of the snapshots given. Or, with objectId, the path and owner of one object (ids are in the report as @123).',
    {
      className: z.string().min(1).optional().describe('The leaked class, as the report names it (e.g. Connection)'),
      snapshots: z
        .array(z.string())
        .min(2)
        .max(10)
        .optional()
        .describe('Compare these snapshots (ids or paths, oldest first) instead of using the current report'),
      objectId: z
        .number()
        .int()
        .min(0)
        .optional()
        .describe("A heap object id (the number after @): the path of that one object instead of a class's group"),
      snapshot: z
        .string()
        .optional()
        .describe('With objectId: the snapshot (id or path) to look in; default: the last one of the current report'),
    },
    async ({ className, snapshots, objectId, snapshot }) => {
      if (objectId !== undefined) {
        if (className !== undefined || snapshots !== undefined)
          throw new ToolError('give objectId (with snapshot), or className (with snapshots), not both');
        const file =
          snapshot !== undefined ? state.snapshotFile(snapshot) : state.current?.files[state.current.files.length - 1];
        if (!file)
          throw new ToolError('objectId needs a snapshot: pass snapshot, or run find_leaks or compare_snapshots first');
        const found = describeObject(file, objectId);
        const name = snapshot ?? state.snapshotIdOf(file) ?? file;
        if (!found)
          throw new ToolError(
            `snapshot ${name} has no object @${objectId}; ids change from one inspector session to another, so take them from a report of this snapshot`,
          );
        return formatObjectRetainers(found, `@${objectId} in ${name}`);
      }
      if (className === undefined) throw new ToolError('give className (a leaked class of the report), or objectId');
      let current = state.current;
      if (snapshots) {
        const files = snapshots.map((s) => state.snapshotFile(s));
        current = { report: buildLeakReport(files), source: `compare_snapshots ${snapshots.join(', ')}`, files };
        state.current = current;
      }
      if (!current)
        throw new ToolError('there is no report yet; run find_leaks or compare_snapshots first, or pass snapshots');
      const { report } = current;
      if (report.sampling)
        throw new ToolError(
          'the current report comes from allocation samples, which have no retainers; run find_leaks without sampling',
        );
      const wanted = className.trim();
      let groups: LeakGroup[] = report.leaks.filter((g) => g.className === wanted);
      if (groups.length === 0) groups = report.leaks.filter((g) => g.className.toLowerCase() === wanted.toLowerCase());
      if (groups.length === 0) {
        const names = [...new Set(report.leaks.map((g) => g.className))];
        throw new ToolError(
          `no leak group of class "${wanted}" in the current report (${current.source}); ${names.length ? `its groups are: ${names.slice(0, 20).join(', ')}` : 'it found no leak'}`,
        );
      }
      const threaded = (report.threads?.length ?? 1) > 1;
      const lines = [`From the report of ${current.source}:`, ''];
      for (const g of groups.slice(0, 3)) {
        lines.push(...formatGroup(g, report.leaks.indexOf(g) + 1, process.cwd(), threaded, true));
        if (g.sampleIds.length)
          lines.push(
            `   object ids in the last snapshot: ${g.sampleIds
              .slice(0, 5)
              .map((id) => `@${id}`)
              .join(', ')}`,
          );
        lines.push('');
      }
      return lines.join('\n').trimEnd();
    },
  );

  tool(
    'read_report',
    'The current report (from the last find_leaks, compare_snapshots or retainer_path with snapshots) as text.',
    { top: top(10).describe('Leak groups to show') },
    async ({ top: n }) => {
      if (!state.current) throw new ToolError('there is no report yet; run find_leaks or compare_snapshots first');
      return `Report of ${state.current.source}, made ${state.current.report.createdAt}:\n\n${reportText(state.current.report, n)}`;
    },
  );
}
