/**
 * `leak-lens run`: start a program under the inspector, warm it up with the action, take K snapshots with the action
 * run N times before each, stop the program (and everything it started), and analyse the snapshots.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LeakReport } from '../../engine/report';
import { formatBytes, launchForCapture, livingGroupMembers, trackingGuardNote, WorkerTracker, type CaptureCost, type CaptureSession, type LaunchedCapture, type LaunchedProgram } from '../capture';
import { ProgramFormError, resolveProgram, type ProgramCommand } from './program';
import { buildThreadsReport, snapshotWorkers, type WorkerSeries } from './threads';
import { buildSamplingReport } from '../../engine/report';
import type { SamplingProfile } from '../../engine/sampling';

export interface RunOptions {
  /** The program and its arguments, e.g. ['node', 'server.js']. */
  program: string[];
  /** The `run` options as the user typed them (before `--`), repeated in suggested command lines. */
  commandLine?: string[];
  action?: string;
  rounds: number;
  snapshots: number;
  trackAllocations: boolean;
  /** Take snapshots even when the memory check says the program could be killed by one. */
  forceCapture?: boolean;
  /** No snapshot: V8's sampling heap profiler, one allocation sampled per `interval` bytes (engine/sampling.ts). */
  sampling?: { interval: number };
  /** Keep the snapshots here; without it they go to a temporary folder that is removed at the end. */
  outDir?: string;
  /** A regular expression for the output line that says the program is ready. */
  ready?: string;
  actionTimeoutMs: number;
  log: (line: string) => void;
  /**
   * Aborting stops the run: the action and the program are stopped (their whole process groups), snapshots being
   * written and the temporary folder are removed, and then {@link runCommand} rejects with {@link RunInterrupted}.
   */
  signal?: AbortSignal;
}

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

const DEFAULT_READY = /listening|ready|started|running on/i;
const READY_TIMEOUT_MS = 15_000;
/** Lines Node's inspector prints on the program's stderr: never the program's own, so never its "ready" line. */
const inspectorLine = /^(Debugger listening on |For help, see: |Debugger attached\.|Debugger ending on |Waiting for the debugger to disconnect)/;
/** Lines that say nothing about why a program ended: stack frames, Node's version footer, source excerpts. */
const uninformativeLine = /^\s*(at\s|\^+\s*$|Node\.js v\d|$)/;

/** Splits `node server.js` into the runtime and its arguments; a bare script runs under `node`. */
export function splitProgram(program: string[], commandLine: string[] = []): ProgramCommand {
  try {
    return resolveProgram(program, commandLine);
  } catch (e) {
    if (e instanceof ProgramFormError) throw new RunError(e.message);
    throw e;
  }
}

/**
 * The program's output, passed on to stderr and read line by line (separately per stream, since a chunk can end
 * anywhere) for its "ready" line, its first URL and its last words. The inspector's own lines are skipped.
 */
export class ProgramOutput {
  readyLine: string | undefined;
  firstUrl: string | undefined;
  private readonly partial = { stdout: '', stderr: '' };
  private readonly lastLine: { stdout?: string; stderr?: string } = {};
  private readonly readyHandlers = new Set<() => void>();

  constructor(private readonly ready: RegExp) {}

  feed(stream: 'stdout' | 'stderr', data: Buffer): void {
    process.stderr.write(data);
    const lines = (this.partial[stream] + data.toString()).split('\n');
    this.partial[stream] = (lines.pop() ?? '').slice(-8192);
    for (const raw of lines) this.line(stream, raw.replace(/\r$/, ''));
  }

  private line(stream: 'stdout' | 'stderr', line: string): void {
    if (inspectorLine.test(line)) return;
    if (!uninformativeLine.test(line)) this.lastLine[stream] = line;
    if (this.readyLine !== undefined) return;
    this.firstUrl ??= /https?:\/\/[^\s'"]+/.exec(line)?.[0];
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

/** Resolves after `ms` or once `until` settles, whichever is first, leaving no timer behind. */
function waitAtMost(until: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([until.then(() => undefined, () => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: nobody is left in the group.
  }
}

/**
 * Runs a shell command in a process group of its own, with a time limit; its output goes to stderr so that stdout
 * stays the report. It settles only once no process of its group is left, so nothing it started outlives it: on
 * `signal` the group gets SIGTERM, then SIGKILL.
 */
function runAction(command: string, env: NodeJS.ProcessEnv, timeoutMs: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new RunInterrupted(signal.reason));
      return;
    }
    const child = spawn('sh', ['-c', command], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout.on('data', (d: Buffer) => process.stderr.write(d));
    child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
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
        while (pgid && livingGroupMembers(pgid) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
        done();
        if (stopped) reject(new RunInterrupted(signal.reason));
        else if (timedOut) reject(new RunError(`the action "${command}" did not finish within ${timeoutMs / 1000} s and was stopped; raise --action-timeout or make it end`));
        else if (code === 0) resolve();
        else reject(new RunError(`the action "${command}" failed (${exitSignal ? 'killed by ' + exitSignal : 'exit code ' + code}); fix it so it succeeds against the running program`));
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
    throw new RunError(`--ready takes a regular expression, and "${given}" is not one (${(e as Error).message}); put a \\ before characters such as ( [ + *`);
  }
}

export async function runCommand(opts: RunOptions): Promise<LeakReport> {
  const command = splitProgram(opts.program, opts.commandLine);
  const ready = readyPattern(opts.ready);
  return measureProgram(opts, command, shellActionWorkload(opts), ready);
}

/** The options of {@link measureProgram}: how many rounds and snapshots, and where they go. */
export type MeasureOptions = Pick<RunOptions, 'program' | 'rounds' | 'snapshots' | 'trackAllocations' | 'forceCapture' | 'sampling' | 'outDir' | 'log' | 'signal'>;

/** What a step of the measurement has at hand: the program, its session and output, and the step guard. */
export interface WorkloadContext {
  program: LaunchedProgram;
  session: CaptureSession;
  output: ProgramOutput;
  /** Runs one step, stopping it when the program ends or the run is stopped, and naming the real cause. */
  guard: <T>(step: Promise<T>) => Promise<T>;
  /** Aborted when the run stops or fails. */
  stop: AbortSignal;
}

/**
 * What the measured program is made to do between snapshots: `run`'s shell action, or `test`'s scenario
 * (scenario.ts). The program is launched, the workload started, then warmed up with one round; after that
 * `rounds` rounds come before each of the `snapshots` snapshots, and `finish` runs after the last one.
 */
export interface Workload {
  /** After the session opens, before allocation tracking and the warm-up (wait for the program to be ready). */
  start(ctx: WorkloadContext): Promise<void>;
  /** One round of work; `what` names it for the log (`warm-up`, `round 2`). */
  round(ctx: WorkloadContext, what: string): Promise<void>;
  /** After the last snapshot, while the program still runs. */
  finish?(ctx: WorkloadContext): Promise<void>;
  /** Said when the program ends during the run: why it has to keep running. */
  keepRunning: string;
}

/**
 * Starts `command` under the inspector, drives it with `workload`, takes the snapshots (or sampling profiles), stops
 * the program with everything it started, and analyses what was taken. Snapshots go to a temporary folder removed at
 * the end, unless `outDir` keeps them.
 */
export async function measureProgram(opts: MeasureOptions, command: ProgramCommand, workload: Workload, ready: RegExp = DEFAULT_READY): Promise<LeakReport> {
  if (opts.signal?.aborted) throw new RunInterrupted(opts.signal.reason);
  const outDir = opts.outDir ? path.resolve(opts.outDir) : fs.mkdtempSync(path.join(os.tmpdir(), 'leak-lens-run-'));
  fs.mkdirSync(outDir, { recursive: true });
  // Snapshots hold the program's memory: a temporary folder goes entirely, a kept one loses its half-written files.
  const removeOutput = (): void => {
    if (!opts.outDir) fs.rmSync(outDir, { recursive: true, force: true });
    else for (const f of fs.existsSync(outDir) ? fs.readdirSync(outDir) : []) if (f.endsWith('.partial')) fs.rmSync(path.join(outDir, f), { force: true });
  };
  // Even if this process is made to exit in the middle (a second Ctrl-C), nothing is left behind.
  process.on('exit', removeOutput);
  try {
    return await measure(opts, command, ready, outDir, removeOutput, workload);
  } finally {
    process.off('exit', removeOutput);
  }
}

/** `run`'s workload: wait for the program's ready line, then run the shell action once per round. */
function shellActionWorkload(opts: RunOptions): Workload {
  let env: NodeJS.ProcessEnv = process.env;
  return {
    keepRunning: 'it must keep running while it is measured (a server, or a program that waits for work)',
    async start({ output, guard, stop }) {
      // Wait until the program says it is ready (or has been quiet long enough), so the action finds it listening.
      let forget: (() => void) | undefined;
      let readyTimer: NodeJS.Timeout | undefined;
      await guard(
        new Promise<void>((resolve) => {
          if (!opts.action) return resolve();
          // Settles when the run stops, too, so that stopping never waits on a ready line that will not come.
          stop.addEventListener('abort', () => resolve(), { once: true });
          readyTimer = setTimeout(() => {
            opts.log(`no "ready" line seen within ${READY_TIMEOUT_MS / 1000} s; going on (use --ready REGEX to name it)`);
            resolve();
          }, READY_TIMEOUT_MS);
          forget = output.onReady(resolve);
        }),
      ).finally(() => {
        clearTimeout(readyTimer);
        forget?.();
      });
      const targetUrl = output.firstUrl;
      env = { ...process.env, ...(targetUrl ? { TARGET_URL: targetUrl } : {}) };
    },
    async round({ guard, stop }, what) {
      if (!opts.action) return;
      if (opts.signal?.aborted) throw new RunInterrupted(opts.signal.reason);
      opts.log(`action (${what})`);
      await guard(runAction(opts.action, env, opts.actionTimeoutMs, stop));
    },
  };
}

async function measure(opts: MeasureOptions, command: ProgramCommand, ready: RegExp, outDir: string, removeOutput: () => void, workload: Workload): Promise<LeakReport> {
  const output = new ProgramOutput(ready);
  const shown = [command.runtimeExecutable, ...command.runtimeArgs].join(' ');
  let launched: LaunchedCapture;
  try {
    launched = await launchForCapture({
      runtimeExecutable: command.runtimeExecutable,
      // V8's allocation tracker loses the stacks of pretenured objects (leaking objects become such), and
      // --no-allocation-site-pretenuring keeps them. It changes where V8 first places long-lived objects, never which
      // are reachable. (The SIGSEGVs once blamed on it were V8's tracking crash in the deoptimizer, which
      // trackingGuard.ts prevents.) The engine still takes a site from the source when V8 kept no stack.
      runtimeArgs: opts.trackAllocations ? ['--no-allocation-site-pretenuring', ...command.runtimeArgs] : command.runtimeArgs,
      args: [],
      onStdout: (d) => output.feed('stdout', d),
      onStderr: (d) => output.feed('stderr', d),
    });
  } catch (e) {
    removeOutput();
    if (opts.signal?.aborted) throw new RunInterrupted(opts.signal.reason);
    // The launcher's message may quote the program's last output on further lines; the first one says what happened.
    throw new RunError(`could not start ${shown}: ${(e as Error).message.split('\n')[0]}${output.lastWords ? ` (last output: "${output.lastWords}")` : ''}`);
  }
  const { program, session } = launched;
  // Ends every step in flight: the user stopping the run, or the run failing.
  const stop = new AbortController();
  const interrupted = new Promise<never>((_, reject) => {
    const onAbort = (): void => {
      // Rejected first, so that a step the abort settles (the ready wait) never looks like success.
      reject(new RunInterrupted(opts.signal!.reason));
      stop.abort(opts.signal!.reason);
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
  });
  interrupted.catch(() => undefined);

  let exitNote: string | undefined;
  // The program ends (exits, or its code runs to the end and Node only waits for the debugger): every step then
  // stops at once instead of waiting for a reply that will never come.
  let onGone: (() => void) | undefined;
  const gone = new Promise<void>((resolve) => (onGone = resolve));
  void program.exited.then((st) => {
    exitNote ??= st.signal ? `was killed by ${st.signal}` : `exited with code ${st.code}`;
    onGone!();
  });
  let finishing = false;
  let finishTimer: NodeJS.Timeout | undefined;
  // Node keeps a program whose code has ended (or that called process.exit) alive while an inspector session is
  // attached: detach, so that it exits and its real exit status can be told.
  const waiting = program.onWaitingForDisconnect(() => {
    finishing = true;
    void session.close().catch(() => undefined);
    finishTimer = setTimeout(() => {
      exitNote ??= 'ran to the end of its code';
      onGone!();
    }, 2000);
  });
  const files: string[] = [];
  const profiles: SamplingProfile[] = [];
  const sourceMapURLs = new Map<string, string>();
  const died = (): RunError => {
    const last = output.lastWords;
    return new RunError(
      `the program ${exitNote ?? 'ended'} during the run${last ? ` (last output: "${last}")` : ''}, so the snapshots are incomplete; ` +
        workload.keepRunning,
    );
  };
  const inFlight = new Set<Promise<unknown>>();
  /** Runs one step, stopping it when the program ends or the run is stopped, and naming the real cause. */
  const guard = async <T>(step: Promise<T>): Promise<T> => {
    inFlight.add(step);
    step.then(
      () => inFlight.delete(step),
      () => inFlight.delete(step),
    );
    try {
      return await Promise.race([step, interrupted, gone.then((): never => { throw died(); })]);
    } catch (e) {
      if (opts.signal?.aborted) throw new RunInterrupted(opts.signal.reason);
      if (exitNote) throw died();
      // A step usually fails because the program died under it (a refused send, a failed action): give its exit a
      // moment to be seen, and say so.
      await waitAtMost(gone, finishing ? 3000 : 500);
      if (exitNote) throw died();
      throw e;
    }
  };
  const shutDown = async (): Promise<void> => {
    stop.abort();
    waiting.dispose();
    clearTimeout(finishTimer);
    await session.close().catch(() => undefined);
    await program.stop();
    // An action being stopped, or a snapshot being removed, finishes before the run says it is over.
    await waitAtMost(Promise.allSettled([...inFlight]), 5000);
  };
  // Worker threads have heaps of their own: each is snapshotted beside the main thread and analysed alone.
  const workerSeries = new Map<string, WorkerSeries>();
  let workers: WorkerTracker | undefined;
  try {
    opts.log(`started ${opts.program.join(' ')} (pid ${program.pid})`);
    const ctx: WorkloadContext = { program, session, output, guard, stop: stop.signal };
    await workload.start(ctx);
    workers = await guard(WorkerTracker.start(session.connection, session.processInfo.pid ?? program.pid, { trackAllocations: opts.trackAllocations })).catch((e: Error) => {
      if (exitNote || e instanceof RunInterrupted) throw e;
      opts.log(`worker threads will not be snapshotted: ${e.message}`);
      return undefined;
    });
    const act = (what: string): Promise<void> => workload.round(ctx, what);
    if (opts.trackAllocations) {
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
      for (const [, script] of session.scripts) if (script.sourceMapURL) sourceMapURLs.set(script.url, script.sourceMapURL);
    }
    for (let i = 1; i <= (opts.sampling ? 0 : opts.snapshots); i++) {
      for (let r = 0; r < opts.rounds; r++) await act(i === 1 ? 'before the baseline' : `round ${i - 1}`);
      const file = path.join(outDir, `s${i}.heapsnapshot`);
      const t = Date.now();
      const taken = await guard(session.takeSnapshot(file, { label: i === 1 ? 'baseline' : `after round ${i - 1}`, signal: stop.signal, force: opts.forceCapture })).catch((e: Error) => {
        throw e instanceof RunError || e instanceof RunInterrupted ? e : new RunError(`snapshot ${i} failed: ${e.message}`);
      });
      files.push(file);
      opts.log(`snapshot ${i}/${opts.snapshots}: ${(fs.statSync(file).size / 1048576).toFixed(1)} MB in ${Date.now() - t} ms${captureCostNote(taken.meta.capture)}`);
      if (workers) await guard(snapshotWorkers(workers, outDir, i, i === 1 ? 'baseline' : `after round ${i - 1}`, workerSeries, opts.log)).catch((e: Error) => {
        throw e instanceof RunError || e instanceof RunInterrupted ? e : new RunError(`snapshot ${i} of a worker thread failed: ${e.message}`);
      });
    }
    await workload.finish?.(ctx);
  } catch (e) {
    workers?.dispose();
    await shutDown();
    removeOutput();
    throw e;
  }
  workers?.dispose();
  await shutDown();
  if (opts.signal?.aborted) {
    removeOutput();
    throw new RunInterrupted(opts.signal.reason);
  }
  try {
    opts.log('analysing');
    if (opts.sampling) return buildSamplingReport(profiles, opts.sampling.interval, program.pid, sourceMapURLs);
    return buildThreadsReport(files, workerSeries, opts.snapshots, opts.log);
  } finally {
    removeOutput();
    if (opts.outDir) opts.log(`snapshots kept in ${outDir}`);
  }
}

/** What a capture was estimated to need and what the program's peak memory was after it, for the log. */
function captureCostNote(cost: CaptureCost | undefined): string {
  if (!cost) return '';
  const room = cost.roomBytes !== undefined ? ` of ${formatBytes(cost.roomBytes)} free` : '';
  const peak = cost.peakRssBytes !== undefined ? `, program's peak RSS ${formatBytes(cost.peakRssBytes)}` : '';
  return ` (estimated need ${formatBytes(cost.estimateBytes)}${room}${peak})`;
}
