// How a tool process that started programs ends when it is told to stop (Ctrl-C, a CI timeout, a closed terminal)
// or when whoever started it goes away: it stops what it started, removes what it wrote, and exits the conventional
// way, 128 + the signal's number. The programs it starts run in process groups of their own, so no signal reaches
// them unless this process passes it on.
import { constants } from 'os';
import type { Disposable } from './cdp';

/** The signals that ask a command-line tool to stop. */
export type StopSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

/** Why the process is stopping. */
export interface StopReason {
  /** The signal received; for a parent that went away, SIGHUP (the signal a closed terminal sends). */
  signal: StopSignal;
  /** True when the parent process went away rather than a signal arriving. */
  parentGone: boolean;
  /** 128 + the signal number: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP. */
  exitCode: number;
}

/** Options for {@link holdLifeline}. */
export interface LifelineOptions {
  /** Stops and removes what the process started; awaited (at most {@link cleanupTimeoutMs}) before exiting. */
  cleanup: (reason: StopReason) => Promise<void>;
  /** Receives one line when stopping starts. */
  log?: (line: string) => void;
  /** How often the parent process is looked at. Defaults to 500 ms. */
  parentPollMs?: number;
  /** The longest the cleanup may take before the process exits anyway. Defaults to 10 s. */
  cleanupTimeoutMs?: number;
}

const stopSignals: readonly StopSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** The same stop signal repeated within this time counts once. */
const repeatWindowMs = 500;

/** The conventional exit status of a process ended by `signal`. */
export function signalExitCode(signal: StopSignal): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/**
 * Until disposed, SIGINT, SIGTERM and SIGHUP, or the parent process going away (its pid is looked at every
 * {@link LifelineOptions.parentPollMs}: a parent that dies leaves this process to init or a subreaper, which changes
 * `process.ppid`), run `cleanup` once and then exit with 128 + the signal number. A second signal while cleaning up
 * exits at once, unless it is the same signal within half a second of the first (one Ctrl-C, forwarded). Nothing
 * here keeps the process alive: the parent check runs on an unreferenced timer.
 */
export function holdLifeline(options: LifelineOptions): Disposable {
  const parent = process.ppid;
  let stopping = false;
  let disposed = false;

  const log = (line: string): void => {
    try {
      options.log?.(line);
    } catch {
      // Nowhere to write to any more.
    }
  };

  let first: { signal: StopSignal; at: number } | undefined;
  const stop = (reason: StopReason): void => {
    if (stopping) {
      // The same Ctrl-C often arrives twice at once (from the terminal, and forwarded by a parent such as npm).
      if (first && reason.signal === first.signal && Date.now() - first.at < repeatWindowMs) return;
      // Asked again while cleaning up (Ctrl-C twice): go now. Exit hooks still kill the launched process groups.
      process.exit(reason.exitCode);
    }
    stopping = true;
    first = { signal: reason.signal, at: Date.now() };
    clearInterval(watchdog);
    // A closed terminal or a dead parent takes the output's reader with it: a failed write (EIO, EPIPE) must not
    // crash the process before the cleanup has run.
    for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
    // Should the event loop empty before the cleanup settles, the process still ends with the right status.
    process.exitCode = reason.exitCode;
    log(
      reason.parentGone
        ? 'the process that started leak-lens went away; stopping what it started'
        : `got ${reason.signal}; stopping what it started`,
    );
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, options.cleanupTimeoutMs ?? 10_000)));
    void Promise.race([options.cleanup(reason).catch(() => undefined), limit]).then(() => {
      clearTimeout(timer);
      process.exit(reason.exitCode);
    });
  };

  const handlers = stopSignals.map((signal) => {
    const handler = (): void => stop({ signal, parentGone: false, exitCode: signalExitCode(signal) });
    process.on(signal, handler);
    return { signal, handler };
  });

  const parentAlive = (): boolean => {
    if (process.ppid !== parent) return false;
    try {
      process.kill(parent, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  };
  // A process started by init (pid 1, as in some containers) has no parent to lose.
  const watchdog = setInterval(() => {
    if (!disposed && !stopping && parent > 1 && !parentAlive())
      stop({ signal: 'SIGHUP', parentGone: true, exitCode: signalExitCode('SIGHUP') });
  }, options.parentPollMs ?? 500);
  watchdog.unref();

  return {
    dispose: () => {
      if (disposed) return;
      disposed = true;
      clearInterval(watchdog);
      // Once stopping, keep the handlers: a second signal must still end the process at once.
      if (!stopping) for (const { signal, handler } of handlers) process.off(signal, handler);
    },
  };
}
