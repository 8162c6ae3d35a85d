/**
 * Rounds of a workload against a program under the inspector, shared by `leak-lens run` (which launches the program
 * and stops it afterwards) and `leak-lens mcp` (whose targets live on between tool calls): the program's output read
 * for its ready line and first URL, the workload run as a shell command in a process group of its own, and the
 * rounds themselves (warm-up, then the workload before each snapshot or sampling profile), analysed into one report.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { buildSamplingReport } from '../../engine/report';
import { formatBytes } from '../../protocol/units';
import {
  InProcessWriteError,
  livingGroupMembers,
  urlInLine,
  trackingGuardNote,
  WorkerTracker,
  type CaptureCost,
  type CaptureSession,
  type SnapshotMethod,
} from '../capture';
import { buildThreadsReport, snapshotWorkers, type WorkerSeries } from './threads';
import type { LeakReport, SamplingProfile } from '../../protocol/report';

/** A failure of the run a user can act on (printed as one line, exit status 2). */
export class RunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunError';
  }
}

/** The run was stopped from outside (its abort signal); everything it started is gone when this is thrown. */
export class RunInterrupted extends Error {
  constructor(readonly reason: unknown) {
    super('the run was stopped');
    this.name = 'RunInterrupted';
  }
}

export const DEFAULT_READY = /listening|ready|started|running on/i;
export const READY_TIMEOUT_MS = 15_000;
/** Lines Node's inspector prints on the program's stderr: never the program's own, so never its "ready" line. */
const inspectorLine =
  /^(Debugger listening on |For help, see: |Debugger attached\.|Debugger ending on |Waiting for the debugger to disconnect)/;
/** Lines that say nothing about why a program ended: stack frames, Node's version footer, source excerpts. */
const uninformativeLine = /^\s*(at\s|\^+\s*$|Node\.js v\d|$)/;

const toStderr = (data: Buffer): void => void process.stderr.write(data);

/**
 * The program's output, passed on (to stderr unless told otherwise) and read line by line (separately per stream,
 * since a chunk can end anywhere) for its "ready" line, its first URL and its last words. The inspector's own lines
 * are skipped.
 */
export class ProgramOutput {
  readyLine: string | undefined;
  firstUrl: string | undefined;
  private readonly partial = { stdout: '', stderr: '' };
  private readonly lastLine: { stdout?: string; stderr?: string } = {};
  private readonly readyHandlers = new Set<() => void>();

  constructor(
    private readonly ready: RegExp,
    private readonly echo: (data: Buffer) => void = toStderr,
  ) {}

  feed(stream: 'stdout' | 'stderr', data: Buffer): void {
    this.echo(data);
    const lines = (this.partial[stream] + data.toString()).split('\n');
    this.partial[stream] = (lines.pop() ?? '').slice(-8192);
    for (const raw of lines) this.line(stream, raw.replace(/\r$/, ''));
  }

  private line(stream: 'stdout' | 'stderr', line: string): void {
    if (inspectorLine.test(line)) return;
    if (!uninformativeLine.test(line)) this.lastLine[stream] = line;
    if (this.readyLine !== undefined) return;
    this.firstUrl ??= urlInLine(line);
    if (this.ready.test(line)) {
      this.readyLine = line;
      for (const handler of this.readyHandlers) handler();
      this.readyHandlers.clear();
    }
  }

  /** Calls `handler` once the program has printed a line matching the ready pattern (at once if it has). */
  onReady(handler: () => void): () => void {
    if (this.readyLine !== undefined) handler();
    else this.readyHandlers.add(handler);
    return () => this.readyHandlers.delete(handler);
  }

  /**
   * The last line the program printed that may say why it ended, shortened: from stderr, where errors go, else
   * stdout (the two streams arrive in no fixed order relative to each other).
   */
  get lastWords(): string | undefined {
    const last = (this.lastLine.stderr ?? this.lastLine.stdout)?.trim();
    return last && last.length > 200 ? `${last.slice(0, 197)}...` : last;
  }
}

/**
 * Resolves once the program has printed its ready line, once `stop` is aborted, or after {@link READY_TIMEOUT_MS}
 * (saying so through `log`), leaving no timer or handler behind.
 */
export function untilReady(
  output: ProgramOutput,
  stop: AbortSignal,
  log: (line: string) => void,
  hint = 'use --ready REGEX to name it',
): Promise<void> {
  let forget: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  return new Promise<void>((resolve) => {
    // Settles when the run stops, too, so that stopping never waits on a ready line that will not come.
    onAbort = () => resolve();
    stop.addEventListener('abort', onAbort, { once: true });
    if (stop.aborted) return resolve();
    timer = setTimeout(() => {
      log(`no "ready" line seen within ${READY_TIMEOUT_MS / 1000} s; going on (${hint})`);
      resolve();
    }, READY_TIMEOUT_MS);
    forget = output.onReady(resolve);
  }).finally(() => {
    clearTimeout(timer);
    forget?.();
    if (onAbort) stop.removeEventListener('abort', onAbort);
  });
}

/** What a step guard needs to know about the measurement it guards. */
export interface StepGuardOptions {
  /** Rejects when the user stops the measurement (with {@link RunInterrupted}). */
  interrupted: Promise<never>;
  /** The signal behind `interrupted`, to tell a stop from a failure. */
  signal: AbortSignal | undefined;
  /** Settles when the program ends. */
  gone: Promise<unknown>;
  /** Whether the program has ended. */
  ended: () => boolean;
  /** The error that names the program's end as the cause. */
  died: () => Error;
  /** How long to wait for the program's end to be seen after a step failed (longer while it is being shut down). */
  settleMs: () => number;
}

/** A step guard: races each step against the stop and the program's end, names the real cause, and keeps the steps
 * still in flight, so that shutting down can wait for them. */
export function stepGuard(o: StepGuardOptions): {
  guard: <T>(step: Promise<T>) => Promise<T>;
  inFlight: Set<Promise<unknown>>;
} {
  const inFlight = new Set<Promise<unknown>>();
  const guard = async <T>(step: Promise<T>): Promise<T> => {
    inFlight.add(step);
    step.then(
      () => inFlight.delete(step),
      () => inFlight.delete(step),
    );
    try {
      return await Promise.race([
        step,
        o.interrupted,
        o.gone.then((): never => {
          throw o.died();
        }),
      ]);
    } catch (e) {
      if (o.signal?.aborted) throw new RunInterrupted(o.signal.reason);
      if (o.ended()) throw o.died();
      // A step usually fails because the program died under it (a refused send, a failed action): give its end a
      // moment to be seen, and say so.
      await waitAtMost(o.gone, o.settleMs());
      if (o.ended()) throw o.died();
      throw e;
    }
  };
  return { guard, inFlight };
}

/** Resolves after `ms` or once `until` settles, whichever is first, leaving no timer behind. */
export function waitAtMost(until: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    until.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
  ]).finally(() => clearTimeout(timer));
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: nobody is left in the group.
  }
}

/** Where an action runs and where its output goes. */
export interface ActionOptions {
  cwd?: string;
  /** Receives the action's stdout and stderr; by default they go to this process's stderr (stdout is the report). */
  onOutput?: (data: Buffer) => void;
}

/**
 * Runs a shell command in a process group of its own, with a time limit. It settles only once no process of its
 * group is left, so nothing it started outlives it: on `signal` the group gets SIGTERM, then SIGKILL.
 */
export function runAction(
  command: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  signal: AbortSignal,
  options: ActionOptions = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new RunInterrupted(signal.reason));
      return;
    }
    const output = options.onOutput ?? toStderr;
    const child = spawn('sh', ['-c', command], {
      env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout.on('data', output);
    child.stderr.on('data', output);
    const pgid = child.pid;
    // Should this process exit first (a second Ctrl-C), the action's group goes with it.
    const killOnExit = (): void => {
      if (pgid) signalGroup(pgid, 'SIGKILL');
    };
    process.on('exit', killOnExit);
    let timedOut = false;
    let stopped = false;
    let grace: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      if (pgid) signalGroup(pgid, 'SIGKILL');
    }, timeoutMs);
    const onAbort = (): void => {
      stopped = true;
      if (!pgid) return;
      signalGroup(pgid, 'SIGTERM');
      grace = setTimeout(() => signalGroup(pgid, 'SIGKILL'), 1000);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const done = (): void => {
      clearTimeout(timer);
      clearTimeout(grace);
      signal.removeEventListener('abort', onAbort);
      process.off('exit', killOnExit);
    };
    child.on('error', (e) => {
      done();
      reject(new RunError(`the action "${command}" could not start: ${e.message}`));
    });
    child.on('exit', (code, exitSignal) => {
      // The shell is gone; whatever it left running in its group goes too, and the action ends only when it has.
      if (pgid) signalGroup(pgid, 'SIGKILL');
      void (async () => {
        const deadline = Date.now() + 2000;
        while (pgid && livingGroupMembers(pgid) > 0 && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 5));
        done();
        if (stopped) reject(new RunInterrupted(signal.reason));
        else if (timedOut)
          reject(
            new RunError(
              `the action "${command}" did not finish within ${timeoutMs / 1000} s and was stopped; raise --action-timeout or make it end`,
            ),
          );
        else if (code === 0) resolve();
        else
          reject(
            new RunError(
              `the action "${command}" failed (${exitSignal ? 'killed by ' + exitSignal : 'exit code ' + code}); fix it so it succeeds against the running program`,
            ),
          );
      })();
    });
  });
}

/** The ready pattern: `--ready REGEX` or the default. */
export function readyPattern(given: string | undefined): RegExp {
  if (given === undefined) return DEFAULT_READY;
  try {
    return new RegExp(given);
  } catch (e) {
    throw new RunError(
      `--ready takes a regular expression, and "${given}" is not one (${(e as Error).message}); put a \\ before characters such as ( [ + *`,
    );
  }
}

/**
 * The runtime flags to launch a program with. With allocation tracking: V8's allocation tracker loses the stacks of
 * pretenured objects (leaking objects become such), and --no-allocation-site-pretenuring keeps them. It changes where
 * V8 first places long-lived objects, never which are reachable. (The SIGSEGVs once blamed on it were V8's tracking
 * crash in the deoptimizer, which trackingGuard.ts prevents.) The engine still takes a site from the source when V8
 * kept no stack.
 */
export function launchRuntimeArgs(runtimeArgs: string[], trackAllocations: boolean): string[] {
  return trackAllocations ? ['--no-allocation-site-pretenuring', ...runtimeArgs] : runtimeArgs;
}

/** What {@link captureRounds} needs: a live session, the workload and the rounds. */
export interface RoundsOptions {
  session: CaptureSession;
  /** The program's process id, when known (worker threads are told apart by it). */
  pid?: number;
  /** One round of the workload (the caller's own: `test` calls its scenario); when set, `action` is not used. */
  act?: (what: string) => Promise<void>;
  /** The workload's shell command; without it (and without `act`), snapshots are taken back to back. */
  action?: string;
  /** The action's environment (with TARGET_URL where known). */
  env?: NodeJS.ProcessEnv;
  actionOptions?: ActionOptions;
  actionTimeoutMs?: number;
  rounds: number;
  snapshots: number;
  trackAllocations: boolean;
  forceCapture?: boolean;
  /**
   * `inprocess` for a program launched on this machine: it writes its own snapshots with `v8.writeHeapSnapshot`,
   * which on a 300 MB heap took 21 s where streaming over the inspector took 34 s (capture-bench). Default `cdp`.
   */
  snapshotMethod?: SnapshotMethod;
  sampling?: { interval: number };
  /** Where the snapshots are written: `s<i>.heapsnapshot`, and `worker<id>-s<i>.heapsnapshot` for worker threads. */
  outDir: string;
  log: (line: string) => void;
  /** Stopped from outside: the next step rejects with {@link RunInterrupted} carrying this signal's reason. */
  signal?: AbortSignal;
  /** Ends the steps in flight (the action is stopped, a snapshot being written is removed). */
  stop: AbortSignal;
  /** Runs one step, stopping it (with an error naming the cause) when the program ends or the run is stopped. */
  guard: <T>(step: Promise<T>) => Promise<T>;
}

/** What the rounds produced, for {@link reportOfRounds}. */
export interface RoundsResult {
  /** The main thread's snapshots, in order (none with sampling). */
  files: string[];
  workerSeries: Map<string, WorkerSeries>;
  profiles: SamplingProfile[];
  sourceMapURLs: Map<string, string>;
}

/**
 * Runs the action once to warm up, then takes `snapshots` snapshots (or sampling profiles) with the action run
 * `rounds` times before each, snapshotting every worker thread alive beside the main thread. Allocation tracking or
 * sampling started here is left on: `run` stops the program next, and `mcp` turns them off itself.
 */
export async function captureRounds(opts: RoundsOptions): Promise<RoundsResult> {
  const { session, guard } = opts;
  const files: string[] = [];
  const profiles: SamplingProfile[] = [];
  const sourceMapURLs = new Map<string, string>();
  // Worker threads have heaps of their own: each is snapshotted beside the main thread and analysed alone.
  const workerSeries = new Map<string, WorkerSeries>();
  const workers = await guard(
    WorkerTracker.start(session.connection, session.processInfo.pid ?? opts.pid, {
      trackAllocations: opts.trackAllocations,
    }),
  ).catch((e: Error) => {
    if (e instanceof RunError || e instanceof RunInterrupted) throw e;
    opts.log(`worker threads will not be snapshotted: ${e.message}`);
    return undefined;
  });
  try {
    const act = async (what: string): Promise<void> => {
      if (opts.act) return opts.act(what);
      if (!opts.action) return;
      if (opts.signal?.aborted) throw new RunInterrupted(opts.signal.reason);
      opts.log(`action (${what})`);
      await guard(
        runAction(opts.action, opts.env ?? process.env, opts.actionTimeoutMs ?? 120_000, opts.stop, opts.actionOptions),
      );
    };
    if (opts.trackAllocations && !session.isTrackingAllocations) {
      await guard(session.startAllocationTracking());
      const note = trackingGuardNote(session.trackingGuard ?? 'unavailable', session.processInfo.nodeVersion);
      if (note) opts.log(note);
    }
    await act('warm-up');
    if (opts.sampling) {
      // The same rounds, with a profile of the live samples after a forced GC where a snapshot would be.
      await guard(session.startAllocationSampling(opts.sampling.interval));
      for (let i = 1; i <= opts.snapshots; i++) {
        for (let r = 0; r < opts.rounds; r++) await act(i === 1 ? 'before the baseline' : `round ${i - 1}`);
        await guard(session.collectGarbage());
        await guard(session.collectGarbage());
        const profile = await guard(session.allocationSamples());
        profiles.push(profile);
        opts.log(`allocation samples ${i}/${opts.snapshots}: ${profile.samples.length} alive`);
      }
      for (const [, script] of session.scripts)
        if (script.sourceMapURL) sourceMapURLs.set(script.url, script.sourceMapURL);
    }
    let method: SnapshotMethod = opts.snapshotMethod ?? 'cdp';
    for (let i = 1; i <= (opts.sampling ? 0 : opts.snapshots); i++) {
      for (let r = 0; r < opts.rounds; r++) await act(i === 1 ? 'before the baseline' : `round ${i - 1}`);
      const file = path.join(opts.outDir, `s${i}.heapsnapshot`);
      const t = Date.now();
      const snapshot = (how: SnapshotMethod) =>
        session.takeSnapshot(file, {
          label: i === 1 ? 'baseline' : `after round ${i - 1}`,
          signal: opts.stop,
          force: opts.forceCapture,
          method: how,
        });
      // A program that runs code streams nothing: it writes its own snapshot (see RoundsOptions.snapshotMethod). If it
      // cannot (its file system is not this one), the inspector streams this snapshot and the next ones.
      const taken = await guard(
        method === 'inprocess' && !session.hasProgramFinished
          ? snapshot('inprocess').catch((e: Error) => {
              if (!(e instanceof InProcessWriteError) || session.isClosed || opts.stop.aborted) throw e;
              method = 'cdp';
              return snapshot('cdp');
            })
          : snapshot('cdp'),
      ).catch((e: Error) => {
        throw e instanceof RunError || e instanceof RunInterrupted
          ? e
          : new RunError(`snapshot ${i} failed: ${e.message}`);
      });
      files.push(file);
      opts.log(
        `snapshot ${i}/${opts.snapshots}: ${(fs.statSync(file).size / 1048576).toFixed(1)} MB in ${Date.now() - t} ms${captureCostNote(taken.meta.capture)}`,
      );
      if (workers)
        await guard(
          snapshotWorkers(
            workers,
            opts.outDir,
            i,
            i === 1 ? 'baseline' : `after round ${i - 1}`,
            workerSeries,
            opts.log,
          ),
        ).catch((e: Error) => {
          throw e instanceof RunError || e instanceof RunInterrupted
            ? e
            : new RunError(`snapshot ${i} of a worker thread failed: ${e.message}`);
        });
    }
  } finally {
    workers?.dispose();
  }
  return { files, workerSeries, profiles, sourceMapURLs };
}

/** The leak report of finished rounds: from the sampling profiles, or from every thread's snapshots. */
export function reportOfRounds(
  result: RoundsResult,
  opts: { snapshots: number; sampling?: { interval: number }; pid?: number; log: (line: string) => void },
): LeakReport {
  opts.log('analysing');
  if (opts.sampling)
    return buildSamplingReport(result.profiles, opts.sampling.interval, opts.pid, result.sourceMapURLs);
  return buildThreadsReport(result.files, result.workerSeries, opts.snapshots, opts.log);
}

/** What a capture was estimated to need and what the program's peak memory was after it, for the log. */
function captureCostNote(cost: CaptureCost | undefined): string {
  if (!cost) return '';
  const room = cost.roomBytes !== undefined ? ` of ${formatBytes(cost.roomBytes)} free` : '';
  const peak = cost.peakRssBytes !== undefined ? `, program's peak RSS ${formatBytes(cost.peakRssBytes)}` : '';
  return ` (estimated need ${formatBytes(cost.estimateBytes)}${room}${peak})`;
}
