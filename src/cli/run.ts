/**
 * `leak-lens run`: start a program under the inspector, warm it up with the action, take K snapshots with the action
 * run N times before each, stop the program (and everything it started), and analyse the snapshots.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  chooseTargetUrl,
  launchForCapture,
  workloadEnvironment,
  type CaptureSession,
  type LaunchedCapture,
  type LaunchedProgram,
} from '../capture';
import { ProgramFormError, resolveProgram, type ProgramCommand } from './program';
import {
  captureRounds,
  DEFAULT_READY,
  launchRuntimeArgs,
  ProgramOutput,
  readyPattern,
  reportOfRounds,
  runAction,
  RunError,
  RunInterrupted,
  stepGuard,
  untilReady,
  waitAtMost,
  type RoundsResult,
} from './rounds';
import type { LeakReport } from '../../protocol/report';

export { RunError, RunInterrupted } from './rounds';

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
   * written and the temporary folder are removed, and then {@link measureWithShellAction} rejects with {@link RunInterrupted}.
   */
  signal?: AbortSignal;
}

/** Splits `node server.js` into the runtime and its arguments; a bare script runs under `node`. */
export function splitProgram(program: string[], commandLine: string[] = []): ProgramCommand {
  try {
    return resolveProgram(program, commandLine);
  } catch (e) {
    if (e instanceof ProgramFormError) throw new RunError(e.message);
    throw e;
  }
}

/** `leak-lens run`: measures the program with the shell action (`--action`) as the workload between snapshots. */
export async function measureWithShellAction(opts: RunOptions): Promise<LeakReport> {
  const command = splitProgram(opts.program, opts.commandLine);
  const ready = readyPattern(opts.ready);
  return measureProgram(opts, command, shellActionWorkload(opts), ready);
}

/** The options of {@link measureProgram}: how many rounds and snapshots, and where they go. */
export type MeasureOptions = Pick<
  RunOptions,
  'program' | 'rounds' | 'snapshots' | 'trackAllocations' | 'forceCapture' | 'sampling' | 'outDir' | 'log' | 'signal'
>;

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
 * (scenario.ts). The program is launched, the workload started, then warmed up with one round; after that `rounds`
 * rounds come before each of the `snapshots` snapshots, and `finish` runs after the last one.
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

/** `run`'s workload: wait for the program's ready line, then run the shell action once per round with TARGET_URL. */
function shellActionWorkload(opts: RunOptions): Workload {
  let env: NodeJS.ProcessEnv = process.env;
  return {
    keepRunning: 'it must keep running while it is measured (a server, or a program that waits for work)',
    async start({ output, session, guard, stop }) {
      if (!opts.action) return;
      // Wait until the program says it is ready (or has been quiet long enough), so the action finds it listening.
      await guard(untilReady(output, stop, opts.log));
      // The URL the program printed; one that printed none is asked which HTTP server it listens on.
      const targetUrl = chooseTargetUrl(
        output.firstUrl,
        output.firstUrl ? [] : await guard(session.listeningAddresses()),
      );
      if (targetUrl && !output.firstUrl)
        opts.log(`the program printed no URL; TARGET_URL is ${targetUrl}, where it listens`);
      env = workloadEnvironment(targetUrl);
    },
    async round({ guard, stop }, what) {
      if (!opts.action) return;
      if (opts.signal?.aborted) throw new RunInterrupted(opts.signal.reason);
      opts.log(`action (${what})`);
      await guard(runAction(opts.action, env, opts.actionTimeoutMs, stop));
    },
  };
}

/**
 * Starts `command` under the inspector, drives it with `workload`, takes the snapshots (or sampling profiles), stops
 * the program with everything it started, and analyses what was taken. Snapshots go to a temporary folder removed at
 * the end, unless `outDir` keeps them.
 */
export async function measureProgram(
  opts: MeasureOptions,
  command: ProgramCommand,
  workload: Workload,
  ready: RegExp = DEFAULT_READY,
): Promise<LeakReport> {
  const { runtimeExecutable, runtimeArgs } = command;
  if (opts.signal?.aborted) throw new RunInterrupted(opts.signal.reason);
  const outDir = opts.outDir ? path.resolve(opts.outDir) : fs.mkdtempSync(path.join(os.tmpdir(), 'leak-lens-run-'));
  fs.mkdirSync(outDir, { recursive: true });
  // Snapshots hold the program's memory: a temporary folder goes entirely, a kept one loses its half-written files.
  const removeOutput = (): void => {
    if (!opts.outDir) fs.rmSync(outDir, { recursive: true, force: true });
    else
      for (const f of fs.existsSync(outDir) ? fs.readdirSync(outDir) : [])
        if (f.endsWith('.partial')) fs.rmSync(path.join(outDir, f), { force: true });
  };
  // Even if this process is made to exit in the middle (a second Ctrl-C), nothing is left behind.
  process.on('exit', removeOutput);
  try {
    return await measure(opts, { runtimeExecutable, runtimeArgs }, ready, outDir, removeOutput, workload);
  } finally {
    process.off('exit', removeOutput);
  }
}

async function measure(
  opts: MeasureOptions,
  command: ProgramCommand,
  ready: RegExp,
  outDir: string,
  removeOutput: () => void,
  workload: Workload,
): Promise<LeakReport> {
  const output = new ProgramOutput(ready);
  const shown = [command.runtimeExecutable, ...command.runtimeArgs].join(' ');
  let launched: LaunchedCapture;
  try {
    launched = await launchForCapture({
      runtimeExecutable: command.runtimeExecutable,
      runtimeArgs: launchRuntimeArgs(command.runtimeArgs, opts.trackAllocations),
      args: [],
      onStdout: (d) => output.feed('stdout', d),
      onStderr: (d) => output.feed('stderr', d),
    });
  } catch (e) {
    removeOutput();
    if (opts.signal?.aborted) throw new RunInterrupted(opts.signal.reason);
    // The launcher's message may quote the program's last output on further lines; the first one says what happened.
    throw new RunError(
      `could not start ${shown}: ${(e as Error).message.split('\n')[0]}${output.lastWords ? ` (last output: "${output.lastWords}")` : ''}`,
    );
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
  const died = (): RunError => {
    const last = output.lastWords;
    return new RunError(
      `the program ${exitNote ?? 'ended'} during the run${last ? ` (last output: "${last}")` : ''}, so the snapshots are incomplete; ` +
        workload.keepRunning,
    );
  };
  /** Runs one step, stopping it when the program ends or the run is stopped, and naming the real cause. */
  const { guard, inFlight } = stepGuard({
    interrupted,
    signal: opts.signal,
    gone,
    ended: () => exitNote !== undefined,
    died,
    settleMs: () => (finishing ? 3000 : 500),
  });
  const shutDown = async (): Promise<void> => {
    stop.abort();
    waiting.dispose();
    clearTimeout(finishTimer);
    await session.close().catch(() => undefined);
    await program.stop();
    // An action being stopped, or a snapshot being removed, finishes before the run says it is over.
    await waitAtMost(Promise.allSettled([...inFlight]), 5000);
  };
  let result: RoundsResult;
  try {
    opts.log(`started ${opts.program.join(' ')} (pid ${program.pid})`);
    const ctx: WorkloadContext = { program, session, output, guard, stop: stop.signal };
    await workload.start(ctx);
    result = await captureRounds({
      session,
      pid: program.pid,
      act: (what) => workload.round(ctx, what),
      rounds: opts.rounds,
      snapshots: opts.snapshots,
      trackAllocations: opts.trackAllocations,
      forceCapture: opts.forceCapture,
      // The program runs on this machine, so it can write its own snapshots into outDir.
      snapshotMethod: 'inprocess',
      sampling: opts.sampling,
      outDir,
      log: opts.log,
      signal: opts.signal,
      stop: stop.signal,
      guard,
    });
    await workload.finish?.(ctx);
  } catch (e) {
    await shutDown();
    removeOutput();
    throw e;
  }
  await shutDown();
  if (opts.signal?.aborted) {
    removeOutput();
    throw new RunInterrupted(opts.signal.reason);
  }
  try {
    return reportOfRounds(result, {
      snapshots: opts.snapshots,
      sampling: opts.sampling,
      pid: program.pid,
      log: opts.log,
    });
  } finally {
    removeOutput();
    if (opts.outDir) opts.log(`snapshots kept in ${outDir}`);
  }
}
