/**
 * Entry point of the `leak-lens` debug adapter process: DAP over stdin/stdout, or over TCP with `--server=PORT`.
 * Editors other than VS Code start it as `node <this file>`.
 *
 * Stopped by SIGINT, SIGTERM or SIGHUP, or left by its parent, the adapter ends what its sessions launched (as a
 * disconnect would), removes snapshots being written and exits with 128 + the signal number. A client that closes
 * the stdio pipe ends it the same way, with status 0.
 */
import { DebugSession } from '@vscode/debugadapter';
import { holdLifeline } from '../capture/lifeline';
import { LeakLensDebugSession } from './session';

if (process.argv.some((arg) => /^--server=\d+$/.test(arg))) {
  DebugSession.run(LeakLensDebugSession);
} else {
  // Not DebugSession.run: its SIGTERM handler would exit with status 0 before the launched program is stopped.
  new LeakLensDebugSession().start(process.stdin, process.stdout);
}

holdLifeline({
  log: (line) => process.stderr.write(`leak-lens adapter: ${line}\n`),
  cleanup: async () => {
    LeakLensDebugSession.exitingOnSignal = true;
    await Promise.all([...LeakLensDebugSession.live].map((session) => session.release()));
  },
});
