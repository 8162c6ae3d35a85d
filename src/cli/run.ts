/**
 * `leak-lens run`: start a program under the inspector, warm it up with the action, take K snapshots with the action
 * run N times before each, stop the program (and everything it started), and analyse the snapshots.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildLeakReport, LeakReport } from '../../engine/report';
import { launchForCapture, type LaunchedCapture } from '../capture';

export interface RunOptions {
  /** The program and its arguments, e.g. ['node', 'server.js']. */
  program: string[];
  action?: string;
  rounds: number;
  snapshots: number;
  trackAllocations: boolean;
  /** Keep the snapshots here; without it they go to a temporary folder that is removed at the end. */
  outDir?: string;
  /** A regular expression for the output line that says the program is ready. */
  ready?: string;
  actionTimeoutMs: number;
  log: (line: string) => void;
}

/** A failure of the run a user can act on (printed as one line, exit status 2). */
export class RunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunError';
  }
}

const DEFAULT_READY = /listening|ready|started|running on/i;
const READY_TIMEOUT_MS = 15_000;

/** True for a file that starts with a `#!...node` line (an executable Node script). */
function isNodeScript(file: string): boolean {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const head = Buffer.alloc(128);
      const n = fs.readSync(fd, head, 0, head.length, 0);
      return /^#!.*\bnode\b/.test(head.subarray(0, n).toString('latin1').split('\n')[0]);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** True for the lines Node's inspector prints at start ("Debugger listening on ws://..."), which are not the program's. */
function isInspectorBanner(line: string): boolean {
  return line.startsWith('Debugger listening') || line.startsWith('For help, see');
}

/** Splits `node server.js` into the runtime and its arguments; a bare script runs under `node`. */
export function splitProgram(program: string[]): { runtimeExecutable: string; runtimeArgs: string[]; args: string[] } {
  const first = program[0];
  if (/(^|\/)node(\.exe)?$/.test(first) || /(^|\/)nodejs$/.test(first)) {
    // Runtime flags (such as --max-old-space-size) come before the script.
    const rest = program.slice(1);
    const flags: string[] = [];
    while (rest.length && rest[0].startsWith('-')) flags.push(rest.shift()!);
    return { runtimeExecutable: first, runtimeArgs: flags, args: rest };
  }
  if (/\.(c|m)?js$/.test(first) || isNodeScript(first)) return { runtimeExecutable: 'node', runtimeArgs: [], args: program };
  throw new RunError(`leak-lens run measures Node.js programs, and "${first}" is not one: start it as \`-- node app.js\` (or name a .js file)`);
}

/** Runs a shell command with a time limit; its output goes to stderr so that stdout stays the report. */
function runAction(command: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout.on('data', (d: Buffer) => process.stderr.write(d));
    child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new RunError(`the action "${command}" could not start: ${e.message}`));
    });
    // Settle only once the action has really exited, so nothing it started outlives the report.
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) reject(new RunError(`the action "${command}" did not finish within ${timeoutMs / 1000} s and was stopped; raise --action-timeout or make it end`));
      else if (code === 0) resolve();
      else reject(new RunError(`the action "${command}" failed (${signal ? 'killed by ' + signal : 'exit code ' + code}); fix it so it succeeds against the running program`));
    });
  });
}

export async function runCommand(opts: RunOptions): Promise<LeakReport> {
  const { runtimeExecutable, runtimeArgs, args } = splitProgram(opts.program);
  if (args.length === 0) throw new RunError(`no script to run after ${runtimeExecutable}: write it as \`-- node app.js\``);
  const outDir = opts.outDir ? path.resolve(opts.outDir) : fs.mkdtempSync(path.join(os.tmpdir(), 'leak-lens-run-'));
  fs.mkdirSync(outDir, { recursive: true });
  const ready = opts.ready ? new RegExp(opts.ready) : DEFAULT_READY;
  let output = '';
  let targetUrl: string | undefined;
  let onReady: (() => void) | undefined;
  const seen = (data: Buffer) => {
    process.stderr.write(data);
    if (onReady === undefined && targetUrl !== undefined) return;
    output = (output + data.toString()).slice(-8192);
    // Only whole lines: output can arrive cut anywhere, even inside the URL.
    const lines = output.split('\n');
    lines.pop();
    for (const line of lines) {
      if (isInspectorBanner(line)) continue;
      if (ready.test(line)) {
        targetUrl ??= /https?:\/\/[^\s'"]+/.exec(line)?.[0];
        onReady?.();
      }
    }
  };
  let launched: LaunchedCapture;
  try {
    launched = await launchForCapture({ runtimeExecutable, runtimeArgs, args, onStdout: seen, onStderr: seen });
  } catch (e) {
    if (!opts.outDir) fs.rmSync(outDir, { recursive: true, force: true });
    throw new RunError(`could not start ${opts.program.join(' ')}: ${(e as Error).message}`);
  }
  const { program, session } = launched;
  let exitNote: string | undefined;
  // The program ends (exits, or its code runs to the end and Node only waits for the debugger): every step then
  // stops at once instead of waiting for a reply that will never come.
  let onGone: (() => void) | undefined;
  const gone = new Promise<void>((resolve) => (onGone = resolve));
  void program.exited.then((st) => {
    exitNote ??= st.signal ? `was killed by ${st.signal}` : `exited with code ${st.code}`;
    onGone!();
  });
  // Node keeps a program whose code has ended (or that called process.exit) alive while an inspector session is
  // attached: detach, so that it exits and its real exit status can be told.
  const waiting = program.onWaitingForDisconnect(() => {
    void session.close().catch(() => undefined);
    setTimeout(() => {
      exitNote ??= 'ran to the end of its code';
      onGone!();
    }, 2000).unref();
  });
  const files: string[] = [];
  const died = () => new RunError(`the program ${exitNote ?? 'ended'} during the run, so the snapshots are incomplete; it must keep running while it is measured (a server, or a program that waits for work)`);
  const whileAlive = <T>(p: Promise<T>): Promise<T> => Promise.race([p, gone.then((): never => { throw died(); })]);
  try {
    opts.log(`started ${opts.program.join(' ')} (pid ${program.pid})`);
    // Wait until the program says it is ready (or has been quiet long enough), so the action finds it listening.
    await whileAlive(
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          onReady = undefined;
          opts.log(`no "ready" line seen within ${READY_TIMEOUT_MS / 1000} s; going on (use --ready REGEX to name it)`);
          resolve();
        }, opts.action ? READY_TIMEOUT_MS : 0);
        onReady = () => {
          clearTimeout(timer);
          onReady = undefined;
          resolve();
        };
        if (output.split('\n').slice(0, -1).some((l) => !isInspectorBanner(l) && ready.test(l))) onReady();
        void gone.then(() => clearTimeout(timer));
      }),
    );
    const env = { ...process.env, ...(targetUrl ? { TARGET_URL: targetUrl } : {}) };
    const act = async () => {
      if (exitNote) throw died();
      if (!opts.action) return;
      try {
        await whileAlive(runAction(opts.action, env, opts.actionTimeoutMs));
      } catch (e) {
        // An action usually fails because the program crashed under it: give the exit a moment to be seen, and say so.
        await Promise.race([gone, new Promise((r) => setTimeout(r, 500).unref())]);
        if (exitNote) throw died();
        throw e;
      }
      if (exitNote) throw died();
    };
    if (opts.trackAllocations) await whileAlive(session.startAllocationTracking());
    opts.log('warm-up');
    await act();
    for (let i = 1; i <= opts.snapshots; i++) {
      for (let r = 0; r < opts.rounds; r++) await act();
      const file = path.join(outDir, `s${i}.heapsnapshot`);
      const t = Date.now();
      await whileAlive(session.takeSnapshot(file, { label: i === 1 ? 'baseline' : `after round ${i - 1}` })).catch((e: Error) => {
        throw exitNote ? died() : e instanceof RunError ? e : new RunError(`snapshot ${i} failed: ${e.message}`);
      });
      files.push(file);
      opts.log(`snapshot ${i}/${opts.snapshots}: ${(fs.statSync(file).size / 1048576).toFixed(1)} MB in ${Date.now() - t} ms`);
    }
  } catch (e) {
    waiting.dispose();
    await session.close().catch(() => undefined);
    await program.stop();
    if (!opts.outDir) fs.rmSync(outDir, { recursive: true, force: true });
    throw e;
  }
  waiting.dispose();
  await session.close().catch(() => undefined);
  await program.stop();
  try {
    opts.log('analysing');
    return buildLeakReport(files);
  } finally {
    if (!opts.outDir) fs.rmSync(outDir, { recursive: true, force: true });
    else opts.log(`snapshots kept in ${outDir}`);
  }
}
