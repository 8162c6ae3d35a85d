// Why a capture session could not do what it was asked: the program finished, a debugger holds it paused, or the
// caller cancelled. Each names the situation, so callers can tell them apart from a broken connection.

/** An operation that needs the program's event loop was asked for after the program finished. */
export class ProgramFinishedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProgramFinishedError';
  }
}

/** An operation that needs the program's event loop was asked for while a debugger holds the program paused. */
export class ProgramPausedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProgramPausedError';
  }
}

/**
 * The program could not write its own snapshot (`v8.writeHeapSnapshot` threw, or the file it wrote is not in this
 * file system): the same snapshot can still be streamed over the inspector.
 */
export class InProcessWriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InProcessWriteError';
  }
}

/** The rejection of a capture cancelled through its AbortSignal; shaped like Node's own AbortError. */
export class CaptureAbortedError extends Error {
  readonly code = 'ABORT_ERR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbortError';
  }
}

/**
 * Why an operation that V8 runs as a task cannot be done now, or undefined when tasks run: once the program finished,
 * or while a debugger holds it paused, no task runs. `what` names the operation ("force a garbage collection").
 */
export function stalledError(what: string, state: { finished: boolean; paused: boolean }): Error | undefined {
  if (state.finished) {
    return new ProgramFinishedError(
      `cannot ${what}: the program has finished and Node is only waiting for the debugger to disconnect, ` +
        `so the target no longer runs the task that would do it`,
    );
  }
  if (state.paused) {
    return new ProgramPausedError(
      `cannot ${what} while the program is paused in the debugger: V8 does it in a task, and no task runs ` +
        `until the program resumes`,
    );
  }
  return undefined;
}
