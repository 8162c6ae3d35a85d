/**
 * Find Leaks, guided: a baseline snapshot, then rounds of "run your workload, then continue" each followed by a
 * snapshot, more rounds if wanted, then the analysis (in the engine worker) and the report. The workload is either
 * the user (prompted), or a shell command (`leakLens.findLeaks.workloadCommand` or the `workload` option), as the
 * CLI's `--action`. With `interactive: false` nothing is asked: tests and automation drive it by options.
 *
 * The sampling mode takes no snapshot: V8's sampling heap profiler runs from the warm-up on, and at each round
 * boundary the live samples are read after a forced GC (engine/sampling.ts). It costs the program almost no memory,
 * so it is offered where a snapshot would not fit (the capture check's question has "Use Sampling"), and it cannot
 * tell what holds the objects. Worker threads are not sampled.
 */
import { randomBytes } from 'crypto';
import * as path from 'path';
import * as vscode from 'vscode';
import { comparableThreads, type ThreadSeries } from '../../../engine/threads';
import { chooseTargetUrl, workloadEnvironment } from '../../capture/address';
import { CancelledError } from '../../../protocol/cancel';
import { UserError } from '../errors';
import { log } from '../log';
import { settings } from '../settings';
import type { Sweeper } from '../../sweeper/client';
import type { ListeningAddress, MemoryTarget } from '../targets/target';
import { withProgress } from '../ui/progress';
import { showReport } from '../ui/showReport';
import { runWorkload } from '../workload';
import { ask } from './findLeaksPrompt';
import {
  captureSnapshot,
  guardCommand,
  UseSamplingInstead,
  withEitherToken,
  type CapturedSnapshot,
  type CommandOptions,
  type Outcome,
  type Progress,
  type Services,
} from './common';
import type { LeakReport, SamplingProfile } from '../../../protocol/report';

/** How Find Leaks measures: heap snapshots, or V8's sampling heap profiler (no snapshot, no retainers). */
export type FindLeaksMode = 'snapshots' | 'sampling';

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
  /** Snapshots or sampling (default: `leakLens.findLeaks.mode`; `ask` asks a person, else means snapshots). */
  mode?: FindLeaksMode;
  /** In the sampling mode: one allocation sampled per this many bytes (default: `leakLens.findLeaks.samplingIntervalBytes`). */
  samplingIntervalBytes?: number;
  /**
   * When a snapshot would not fit in the program's memory: ask (default), capture anyway, go on with sampling, or
   * fail with the reason. Automation and tests answer here; a person gets the question with both buttons.
   */
  whenTooBig?: 'ask' | 'capture' | 'sampling' | 'fail';
}

export interface FindLeaksResult {
  report: LeakReport;
  reportUri: vscode.Uri;
  /** The main thread's snapshots. */
  snapshots: string[];
  /** The snapshots of each worker thread seen, by snapshot number (a gap where it was not alive). */
  workerSnapshots: { name: string; files: (string | undefined)[] }[];
  /** Where the program listened (found through the inspector), passed to the workload command as TARGET_URL. */
  targetUrl?: string;
  /** How the report was made; `sampling` also when a refused snapshot made the run go on with sampling. */
  mode: FindLeaksMode;
  /** Why a run asked for snapshots went on with sampling: the capture check's refusal. */
  switchedToSampling?: string;
}

type Step = 'continue' | 'analyze';

/** Where the program listens, in words: its URL, else host:port with the protocol. */
function describeAddress(a: ListeningAddress): string {
  return a.url ?? `${a.host}:${a.port} (${a.protocol.toUpperCase()})`;
}

/**
 * Asks the person to run their workload (against the address the program listens on, when known); resolves when
 * they continue, rejects when they cancel. The question stays in the status bar until answered.
 */
async function askForWorkload(
  round: number,
  rounds: number,
  canAnalyze: boolean,
  address: ListeningAddress | undefined,
  token: vscode.CancellationToken,
): Promise<Step> {
  const answers = ['Continue', ...(canAnalyze ? ['Analyze Now'] : [])];
  const where = address
    ? `your program listens on ${describeAddress(address)}. Use it the way that leaks memory (run your workload against it)`
    : 'use the program the way that leaks memory (send the requests, open and close the screens)';
  const answer = await ask(
    {
      message: `Leak Lens, round ${round} of ${rounds}: ${where}, then click Continue.`,
      status: `Leak Lens: Continue round ${round}`,
      tooltip: `Round ${round} of ${rounds}: ${address ? `run your workload against ${describeAddress(address)}` : 'use the program the way that leaks memory'}, then click here to take the next snapshot.`,
      answers,
    },
    token,
  );
  return answer === 'Analyze Now' ? 'analyze' : 'continue';
}

export function findLeaksCommand(s: Services, options: FindLeaksOptions = {}): Promise<Outcome<FindLeaksResult>> {
  const interactive = options.interactive ?? true;
  return guardCommand('find leaks', async () => {
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

    // Where the program listens: shown in the round prompts and passed to the workload as TARGET_URL, as the CLI
    // does. Looked up again before each round until an HTTP server is found, since a server may start listening late.
    let address: ListeningAddress | undefined;
    const lookUp = async (): Promise<void> => {
      if (address?.url) return;
      const listening = await target.listeningAddresses().catch((e: unknown) => {
        log().debug(`find leaks on ${target.label}: could not ask where it listens: ${String(e)}`);
        return [];
      });
      if (listening.length === 0 || (address && !listening[0].url)) return;
      address = listening[0];
      log().info(`find leaks on ${target.label}: the program listens on ${listening.map(describeAddress).join(', ')}`);
    };
    // Said when a workload fails without TARGET_URL, which it may have needed.
    const noAddress = (): string | undefined =>
      address?.url
        ? undefined
        : `The program listens on no HTTP port Leak Lens could find${address ? ` (only ${describeAddress(address)})` : ''}, so the workload got no TARGET_URL.`;
    const env = (): Record<string, string> => {
      const url = chooseTargetUrl(undefined, address ? [address] : []);
      return url ? (workloadEnvironment(url, {}) as Record<string, string>) : {};
    };

    // The mode: asked for, else the setting; "ask" asks a person (and means snapshots in automation).
    let mode: FindLeaksMode = options.mode ?? (await chooseMode(interactive));
    let switchedToSampling: string | undefined;
    const interval = Math.min(
      1 << 20,
      Math.max(64, Math.round(options.samplingIntervalBytes ?? settings.samplingIntervalBytes())),
    );
    // Samples are evidence by chance: without a number of rounds asked for, sampling looks at one more, as `run` does.
    const samplingRounds = options.rounds === undefined ? Math.min(20, rounds + 1) : rounds;
    const profiles: SamplingProfile[] = [];
    let sourceMapURLs: Record<string, string> = {};
    let sampling = false;
    const tooBig = {
      offerSampling: true,
      ...(options.whenTooBig && options.whenTooBig !== 'ask' ? { answer: options.whenTooBig } : {}),
    };

    const report = await withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Leak Lens: finding leaks in ${target.label}`,
        cancellable: true,
      },
      (progress, shown) =>
        withEitherToken(shown, options.token, async (token) => {
          await target.ready();
          await lookUp();
          let stopTracking = false;
          const startSampling = async (): Promise<void> => {
            await target.startAllocationSampling(interval);
            sampling = true;
            log().info(`find leaks on ${target.label}: sampling allocations, one per ${interval} bytes (no snapshot)`);
          };
          // A round boundary: a snapshot, or the live allocation samples after a forced GC.
          const boundaries = (): number => (mode === 'sampling' ? profiles.length : files.length);
          const readSamples = async (label: string, last: boolean): Promise<void> => {
            if (token.isCancellationRequested) throw new CancelledError();
            progress.report({ message: `${label}: collecting garbage, then reading the live allocation samples` });
            const read = await target.readAllocationSampling(last);
            profiles.push(read.profile);
            if (last) sourceMapURLs = read.sourceMapURLs;
            s.graphs.mark(target, 'gc', `${label}: allocation samples`);
            log().info(
              `find leaks on ${target.label}: ${label}: ${read.profile.samples.length} allocation samples alive`,
            );
          };
          // Analysis was asked for before the last read knew it was the last: the scripts' source maps, alone.
          const readSourceMaps = async (): Promise<void> => {
            progress.report({ message: "reading the scripts' source maps" });
            sourceMapURLs = (await target.readAllocationSampling(true)).sourceMapURLs;
          };
          const boundary = async (label: string, last: boolean): Promise<void> => {
            if (mode === 'sampling') return readSamples(label, last);
            try {
              files.push(record(await captureSnapshot(s, target, label, progress, token, run, tooBig)));
            } catch (error) {
              if (!(error instanceof UseSamplingInstead)) throw error;
              // Going on without snapshots: this boundary becomes the sampling baseline, and the rounds start again.
              mode = 'sampling';
              switchedToSampling = error.refusal;
              void vscode.window.showInformationMessage(
                'Leak Lens: going on without snapshots, with allocation sampling. The report will say where growing objects are allocated, not what holds them.',
              );
              if (stopTracking && !target.ended) {
                await target
                  .stopAllocationTracking()
                  .catch((e: unknown) => log().warn(`could not stop allocation tracking: ${String(e)}`));
                stopTracking = false;
              }
              await startSampling();
              await readSamples(`${label} (sampling baseline)`, false);
              throw new RestartRounds();
            }
          };
          try {
            if (mode === 'sampling') await startSampling();
            else if (track && !target.trackingAllocations) {
              await target.startAllocationTracking();
              stopTracking = true;
            }
            if (workload) {
              // A first run warms the program up, so caches filled once do not look like growth.
              progress.report({ message: `warming up: ${workload}` });
              await runWorkload(workload, {
                cwd,
                timeoutMs: settings.workloadTimeoutMs(),
                token,
                env: env(),
                sweeper: s.sweeper,
                failureNote: noAddress(),
              });
            }
            let planned = mode === 'sampling' ? samplingRounds : rounds;
            let first = 1;
            await boundary('baseline', false).catch((e: unknown) => {
              if (!(e instanceof RestartRounds)) throw e;
              planned = samplingRounds;
            });
            for (let round = 1; round - first < planned; round++) {
              const done = round - first + 1;
              await lookUp();
              const step = await runRound(
                target,
                done,
                planned,
                {
                  workload,
                  cwd,
                  env: env(),
                  failureNote: noAddress(),
                  address,
                  interactive,
                  waitMs: options.waitMs,
                  canAnalyze: boundaries() >= 2,
                  sweeper: s.sweeper,
                },
                progress,
                token,
              );
              if (step === 'analyze') {
                if (mode === 'sampling') await readSourceMaps();
                break;
              }
              const restarted = await boundary(
                `after round ${done}`,
                done === planned && (!interactive || !!workload),
              ).then(
                () => false,
                (e: unknown) => {
                  if (e instanceof RestartRounds) return true;
                  throw e;
                },
              );
              if (restarted) {
                // The rounds so far were measured by snapshots; sampling counts its own from this boundary.
                first = round + 1;
                planned = samplingRounds;
                continue;
              }
              if (done === planned && interactive && !workload) {
                const n = boundaries();
                const what =
                  mode === 'sampling' ? `read the live allocation samples ${n} times` : `took ${n} snapshots`;
                progress.report({
                  message: `${mode === 'sampling' ? `${n} sample readings` : `${n} snapshots`} taken: analyze them, or run another round`,
                });
                const more = await ask(
                  {
                    message: `Leak Lens ${what}. Analyze them now, or run another round first (more rounds make slow leaks stand out)?`,
                    status: `Leak Lens: Analyze ${mode === 'sampling' ? `${n} sample readings` : `${n} snapshots`}`,
                    tooltip: `Find Leaks ${what}: click here to analyze them (or run "Leak Lens: Continue Find Leaks" for another round).`,
                    answers: ['Analyze', 'Another Round'],
                  },
                  token,
                );
                if (more === 'Another Round') planned++;
                else if (mode === 'sampling') await readSourceMaps();
              }
            }
          } finally {
            if (stopTracking && !target.ended)
              await target
                .stopAllocationTracking()
                .catch((e: unknown) => log().warn(`could not stop allocation tracking: ${String(e)}`));
            if (sampling && !target.ended)
              await target
                .stopAllocationSampling()
                .catch((e: unknown) => log().warn(`could not stop allocation sampling: ${String(e)}`));
          }
          if (mode === 'sampling') {
            if (profiles.length < 2)
              throw new UserError(
                'Find Leaks in the sampling mode needs the samples of a baseline and of at least one round; run at least one round.',
              );
            progress.report({ message: 'analysing the allocation samples' });
            return s.engine.request(
              {
                kind: 'analyzeSampling',
                profiles,
                interval,
                ...(target.pid !== undefined ? { pid: target.pid } : {}),
                sourceMapURLs,
              },
              token,
              (message) => progress.report({ message }),
            );
          }
          if (files.length < 2)
            throw new UserError('Find Leaks needs a baseline and at least one more snapshot; run at least one round.');
          progress.report({ message: 'analysing the snapshots' });
          // Every thread is analysed alone in the engine worker (its own heap, its own object ids), then merged.
          const { threads, notes } = comparableThreads(series.values(), files.length);
          for (const note of notes) log().info(`find leaks on ${target.label}: ${note}`);
          const request =
            series.size > 0
              ? { kind: 'analyze' as const, files, threads, threadNotes: notes }
              : { kind: 'analyze' as const, files };
          return s.engine.request(request, token, (message) => progress.report({ message }));
        }),
    );
    if (report.sampling) {
      const top = report.sampling.growth.map(
        (g) =>
          `${g.constructs ?? g.site.function}${g.site.location ? ` ${path.basename(g.site.location.file)}:${g.site.location.line}` : ''}`,
      );
      log().info(
        `find leaks on ${target.label} (sampling): ${report.verdict}, ${top.join(', ') || 'no growing allocation stack'} (${profiles.length} sample readings)`,
      );
    } else
      log().info(
        `find leaks on ${target.label}: ${report.verdict}, ${report.leaks.map((g) => `${g.className}@${g.owner.name}${g.thread && g.thread !== 'main' ? ` in ${g.thread}` : ''}`).join(', ') || 'no leak groups'} (${files.map((f) => path.basename(f)).join(', ')})`,
      );
    const reportUri = await showReport(
      report,
      { documents: s.documents, extension: s.context, engine: () => s.engine.engine },
      { interactive, title: `Leak report - ${target.label}` },
    );
    s.onReport?.(report);
    const targetUrl = env().TARGET_URL;
    return {
      report,
      reportUri,
      snapshots: files,
      workerSnapshots: [...series.values()].map((w) => ({
        name: w.name,
        files: Array.from({ length: files.length }, (_, i) => w.files[i]),
      })),
      ...(targetUrl ? { targetUrl } : {}),
      mode,
      ...(switchedToSampling ? { switchedToSampling } : {}),
    };
  });
}

/** Said by a boundary that switched to sampling: the rounds start again from it. */
class RestartRounds extends Error {}

/** The mode from the setting; `ask` asks a person which (automation, with nobody to ask, takes snapshots). */
async function chooseMode(interactive: boolean): Promise<FindLeaksMode> {
  const setting = settings.findLeaksMode();
  if (setting !== 'ask') return setting;
  if (!interactive) return 'snapshots';
  const items: (vscode.QuickPickItem & { mode: FindLeaksMode })[] = [
    {
      label: 'Heap snapshots',
      detail:
        "Retainer paths: what holds the leaked objects. Each snapshot needs memory of the order of the program's heap.",
      mode: 'snapshots',
    },
    {
      label: 'Allocation sampling',
      detail: 'No snapshot, almost no memory: where growing objects are allocated, but not what holds them.',
      mode: 'sampling',
    },
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Leak Lens: Find Leaks with',
    ignoreFocusOut: true,
  });
  if (!picked) throw new CancelledError();
  return picked.mode;
}

async function runRound(
  target: MemoryTarget,
  round: number,
  rounds: number,
  o: {
    workload: string;
    cwd?: string;
    env: Record<string, string>;
    failureNote?: string;
    address?: ListeningAddress;
    interactive: boolean;
    waitMs?: number;
    canAnalyze: boolean;
    sweeper?: Sweeper;
  },
  progress: Progress,
  token: vscode.CancellationToken,
): Promise<Step> {
  if (token.isCancellationRequested) throw new CancelledError();
  if (target.ended)
    throw new UserError(
      `The program in "${target.session.name}" ended during Find Leaks. Keep it running until the report is ready, then run Find Leaks again.`,
    );
  if (target.programFinished) {
    throw new UserError(
      `The program in "${target.session.name}" finished during Find Leaks: its code no longer runs, so more rounds would show nothing new. Keep it running (a server, or a loop) until the report is ready, then run Find Leaks again.`,
    );
  }
  if (o.workload) {
    progress.report({ message: `round ${round} of ${rounds}: ${o.workload}` });
    await runWorkload(o.workload, {
      cwd: o.cwd,
      timeoutMs: settings.workloadTimeoutMs(),
      token,
      env: o.env,
      sweeper: o.sweeper,
      failureNote: o.failureNote,
    });
    return 'continue';
  }
  if (o.interactive) {
    progress.report({
      message: `round ${round} of ${rounds}: run your workload${o.address ? ` against ${describeAddress(o.address)}` : ''}, then click "Leak Lens: Continue round ${round}" in the status bar`,
    });
    return askForWorkload(round, rounds, o.canAnalyze, o.address, token);
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
