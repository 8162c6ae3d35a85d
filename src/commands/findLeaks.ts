/**
 * Find Leaks, guided: a baseline snapshot, then rounds of "run your workload, then continue" each followed by a
 * snapshot, more rounds if wanted, then the analysis (in the engine worker) and the report. The workload is either
 * the user (prompted), or a shell command (`leakLens.findLeaks.workloadCommand` or the `workload` option), as the
 * CLI's `--action`. With `interactive: false` nothing is asked: tests and automation drive it by options.
 */
import { randomBytes } from 'crypto';
import * as path from 'path';
import * as vscode from 'vscode';
import type { LeakReport } from '../../engine/report';
import { comparableThreads, type ThreadSeries } from '../../engine/threads';
import { CancelledError, UserError } from '../errors';
import { log } from '../log';
import { settings } from '../settings';
import type { Sweeper } from '../sweeper/client';
import type { MemoryTarget } from '../targets/target';
import { withProgress } from '../ui/progress';
import { showReport } from '../ui/showReport';
import { runWorkload } from '../workload';
import { captureSnapshot, runCommand, type CapturedSnapshot, type CommandOptions, type Outcome, type Progress, type Services } from './common';

export interface FindLeaksOptions extends CommandOptions {
  /** Rounds after the baseline (default: `leakLens.findLeaks.rounds`). */
  rounds?: number;
  /** Shell command run before each snapshot (and once to warm up); default: `leakLens.findLeaks.workloadCommand`. */
  workload?: string;
  /** Folder the workload runs in (default: the first workspace folder). */
  workloadCwd?: string;
  /** Without a workload and not interactive: how long the program runs on its own between snapshots. */
  waitMs?: number;
  /** Record allocation stacks during the run (default: `leakLens.findLeaks.trackAllocations`). */
  trackAllocations?: boolean;
}

export interface FindLeaksResult {
  report: LeakReport;
  reportUri: vscode.Uri;
  /** The main thread's snapshots. */
  snapshots: string[];
  /** The snapshots of each worker thread seen, by snapshot number (a gap where it was not alive). */
  workerSnapshots: { name: string; files: (string | undefined)[] }[];
}

type Step = 'continue' | 'analyze';

/** Asks the person to run their workload; resolves when they continue, rejects when they cancel. */
async function askForWorkload(round: number, rounds: number, canAnalyze: boolean, token: vscode.CancellationToken): Promise<Step> {
  const buttons = ['Continue', ...(canAnalyze ? ['Analyze Now'] : []), 'Cancel'];
  const message = `Leak Lens, round ${round} of ${rounds}: use the program the way that leaks memory (send the requests, open and close the screens), then click Continue.`;
  const answer = await Promise.race([
    Promise.resolve(vscode.window.showInformationMessage(message, ...buttons)),
    new Promise<undefined>((resolve) => token.onCancellationRequested(() => resolve(undefined))),
  ]);
  if (answer === 'Continue') return 'continue';
  if (answer === 'Analyze Now') return 'analyze';
  throw new CancelledError();
}

export function findLeaks(s: Services, options: FindLeaksOptions = {}): Promise<Outcome<FindLeaksResult>> {
  const interactive = options.interactive ?? true;
  return runCommand('find leaks', async () => {
    const target = await s.registry.pick({ interactive, purpose: 'Find Leaks needs' });
    const rounds = Math.max(1, Math.min(20, Math.round(options.rounds ?? settings.findLeaksRounds())));
    const workload = (options.workload ?? settings.workloadCommand()).trim();
    const cwd = options.workloadCwd ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const track = options.trackAllocations ?? settings.trackAllocationsInFindLeaks();
    const files: string[] = [];
    // One id for this run's snapshots, written into their sidecars: the Snapshots view shows each run as a group.
    const run = randomBytes(6).toString('hex');
    const series = new Map<string, ThreadSeries>();
    // Each snapshot of the main thread comes with one of every worker alive; a worker is known by its capture's key.
    const record = (taken: CapturedSnapshot): string => {
      const index = files.length;
      for (const w of taken.workers) {
        const entry = series.get(w.key) ?? { name: w.name, files: [] };
        entry.files[index] = w.file;
        series.set(w.key, entry);
      }
      return taken.file;
    };

    const report = await withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Leak Lens: finding leaks in ${target.label}`, cancellable: true },
      async (progress, token) => {
        await target.ready();
        let stopTracking = false;
        try {
          if (track && !target.trackingAllocations) {
            await target.startAllocationTracking();
            stopTracking = true;
          }
          if (workload) {
            // A first run warms the program up, so caches filled once do not look like growth.
            progress.report({ message: `warming up: ${workload}` });
            await runWorkload(workload, { cwd, timeoutMs: settings.workloadTimeoutMs(), token, sweeper: s.sweeper });
          }
          files.push(record(await captureSnapshot(s, target, 'baseline', progress, token, run)));
          let planned = rounds;
          for (let round = 1; round <= planned; round++) {
            const step = await runRound(target, round, planned, { workload, cwd, interactive, waitMs: options.waitMs, canAnalyze: files.length >= 2, sweeper: s.sweeper }, progress, token);
            if (step === 'analyze') break;
            files.push(record(await captureSnapshot(s, target, `after round ${round}`, progress, token, run)));
            if (round === planned && interactive && !workload) {
              const more = await Promise.resolve(vscode.window.showInformationMessage(`Leak Lens took ${files.length} snapshots. Analyze them now, or run another round first (more rounds make slow leaks stand out)?`, 'Analyze', 'Another Round'));
              if (more === 'Another Round') planned++;
              else if (more !== 'Analyze') throw new CancelledError();
            }
          }
        } finally {
          if (stopTracking && !target.ended) await target.stopAllocationTracking().catch((e: unknown) => log().warn(`could not stop allocation tracking: ${String(e)}`));
        }
        if (files.length < 2) throw new UserError('Find Leaks needs a baseline and at least one more snapshot; run at least one round.');
        progress.report({ message: 'analysing the snapshots' });
        // Every thread is analysed alone in the engine worker (its own heap, its own object ids), then merged.
        const { threads, notes } = comparableThreads(series.values(), files.length);
        for (const note of notes) log().info(`find leaks on ${target.label}: ${note}`);
        const request = series.size > 0 ? { kind: 'analyze' as const, files, threads, threadNotes: notes } : { kind: 'analyze' as const, files };
        return s.engine.request(request, token, (message) => progress.report({ message }));
      },
    );
    log().info(`find leaks on ${target.label}: ${report.verdict}, ${report.leaks.map((g) => `${g.className}@${g.owner.name}${g.thread && g.thread !== 'main' ? ` in ${g.thread}` : ''}`).join(', ') || 'no leak groups'} (${files.map((f) => path.basename(f)).join(', ')})`);
    const reportUri = await showReport(report, { documents: s.documents, extension: s.context, engine: () => s.engine.engine }, { interactive, title: `Leak report - ${target.label}` });
    s.onReport?.(report);
    return { report, reportUri, snapshots: files, workerSnapshots: [...series.values()].map((w) => ({ name: w.name, files: Array.from({ length: files.length }, (_, i) => w.files[i]) })) };
  });
}

async function runRound(
  target: MemoryTarget,
  round: number,
  rounds: number,
  o: { workload: string; cwd?: string; interactive: boolean; waitMs?: number; canAnalyze: boolean; sweeper?: Sweeper },
  progress: Progress,
  token: vscode.CancellationToken,
): Promise<Step> {
  if (token.isCancellationRequested) throw new CancelledError();
  if (target.ended) throw new UserError(`The program in "${target.session.name}" ended during Find Leaks. Keep it running until the report is ready, then run Find Leaks again.`);
  if (target.programFinished) {
    throw new UserError(`The program in "${target.session.name}" finished during Find Leaks: its code no longer runs, so more rounds would show nothing new. Keep it running (a server, or a loop) until the report is ready, then run Find Leaks again.`);
  }
  if (o.workload) {
    progress.report({ message: `round ${round} of ${rounds}: ${o.workload}` });
    await runWorkload(o.workload, { cwd: o.cwd, timeoutMs: settings.workloadTimeoutMs(), token, sweeper: o.sweeper });
    return 'continue';
  }
  if (o.interactive) {
    progress.report({ message: `round ${round} of ${rounds}: waiting for you to run the workload` });
    return askForWorkload(round, rounds, o.canAnalyze, token);
  }
  // Nobody to ask and nothing to run: let the program run on its own for a while.
  const waitMs = o.waitMs ?? 1000;
  progress.report({ message: `round ${round} of ${rounds}: letting the program run for ${waitMs} ms` });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, waitMs);
    token.onCancellationRequested(() => {
      clearTimeout(timer);
      reject(new CancelledError());
    });
  });
  return 'continue';
}
