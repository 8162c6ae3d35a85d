/**
 * Runs a workload shell command (Find Leaks' `leakLens.findLeaks.workloadCommand`, or one given to the command) in its
 * own process group, so cancelling, a timeout or deactivation ends it together with whatever it started.
 */
import { spawn, type ChildProcess } from 'child_process';
import * as vscode from 'vscode';
import { CancelledError } from '../../protocol/cancel';
import { UserError } from './errors';
import { log } from './log';
import type { Sweeper } from '../sweeper/client';

/** Workloads running now, with their registration at the sweeper. */
const running = new Map<ChildProcess, { dispose(): void } | undefined>();

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(process.platform === 'win32' ? child.pid : -child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/**
 * Runs `command` through the shell in `cwd`; resolves when it exits with 0. With a `sweeper`, its process group is
 * stopped also when the extension host is killed (a closed window), which no exit hook of this process would see.
 */
export function runWorkload(
  command: string,
  options: {
    cwd?: string;
    timeoutMs: number;
    token?: vscode.CancellationToken;
    env?: Record<string, string>;
    sweeper?: Sweeper;
    failureNote?: string;
  },
): Promise<void> {
  return new Promise((resolve, reject) => {
    log().info(`workload: ${command}${options.cwd ? ` (in ${options.cwd})` : ''}`);
    const child = spawn(command, {
      shell: true,
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      detached: process.platform !== 'win32',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const guard =
      child.pid !== undefined && process.platform !== 'win32' ? options.sweeper?.watchGroup(child.pid) : undefined;
    running.set(child, guard);
    let tail = '';
    const keep = (d: Buffer): void => {
      const text = d.toString();
      log().debug(`workload: ${text.trimEnd()}`);
      tail = (tail + text).slice(-600);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const done = (error?: Error): void => {
      clearTimeout(timer);
      sub?.dispose();
      running.delete(child);
      if (error) {
        killGroup(child);
        reject(error);
      } else resolve();
      guard?.dispose();
    };
    const timer = setTimeout(
      () =>
        done(
          new UserError(
            `The workload "${command}" did not finish within ${options.timeoutMs / 1000} s and was stopped. Make it end on its own, or raise "leakLens.findLeaks.workloadTimeoutSeconds".`,
          ),
        ),
      options.timeoutMs,
    );
    const sub = options.token?.onCancellationRequested(() => done(new CancelledError()));
    child.once('error', (e) => done(new UserError(`The workload "${command}" could not start: ${e.message}.`)));
    child.once('exit', (code, signal) => {
      if (!running.has(child)) return;
      if (code === 0) done();
      else {
        // The toast names the last line of output; the log (its "Show Log" button) has the last lines.
        const lines = tail
          .trim()
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean);
        const last = lines.length > 0 ? lines[lines.length - 1] : undefined;
        const said = last ? `: "${last.length > 160 ? `${last.slice(0, 157)}...` : last}"` : '';
        const detail = lines.length > 0 ? `its last output:\n${lines.slice(-10).join('\n')}` : undefined;
        done(
          new UserError(
            `The workload "${command}" failed (${signal ? `killed by ${signal}` : `exit code ${code}`})${said}. Fix it so that it succeeds against the running program.${options.failureNote ? ` ${options.failureNote}` : ''}`,
            [],
            { detail },
          ),
        );
      }
    });
  });
}

/** Ends every workload still running (on deactivation). */
export function stopAllWorkloads(): void {
  for (const [child, guard] of running) {
    killGroup(child);
    guard?.dispose();
  }
  running.clear();
}
