// Launching a program and attaching a capture session to it in one step, with the errors a user can act on when
// the program dies early.
import { ConnectionClosedError } from './cdp';
import { CaptureSession, type CaptureSessionOptions } from './session';
import { launchProgram, type ExitStatus, type LaunchedProgram, type LaunchOptions } from './target';

/** A launched program with a capture session attached. Close the session, then stop the program. */
export interface LaunchedCapture {
  program: LaunchedProgram;
  session: CaptureSession;
}

/**
 * Launches a program under the inspector and opens a {@link CaptureSession} on it. If the program exits before the
 * session is ready, the program's process group is stopped and the error says how the program ended.
 */
export async function launchForCapture(
  launch: LaunchOptions,
  sessionOptions: CaptureSessionOptions = {},
): Promise<LaunchedCapture> {
  const program = await launchProgram(launch);
  const exited = program.exited.then((status) => ({ status }));
  try {
    const first = await Promise.race([
      CaptureSession.open(program.url, sessionOptions).then((session) => ({ session })),
      exited,
    ]);
    if ('session' in first) return { program, session: first.session };
    throw earlyExitError(first.status);
  } catch (error) {
    if (!(error instanceof ConnectionClosedError) && !program.exitState) {
      await program.stop();
      throw error;
    }
    // A refused or dropped connection usually means the program is exiting; give its exit a moment to be seen.
    let timer: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      exited,
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 1_000))),
    ]);
    clearTimeout(timer);
    await program.stop();
    if (settled) throw Object.assign(earlyExitError(settled.status, error), { pid: program.pid });
    throw error;
  }
}

function earlyExitError(status: ExitStatus, cause?: unknown): Error {
  const how = status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
  return new Error(
    `the program ${how} before a capture session could attach to it; it has to stay alive while it is captured`,
    { cause },
  );
}
