/**
 * What every command shares: the extension's services, the outcome a command resolves with (so tests and other
 * extensions can tell what happened), and capturing one snapshot with progress.
 */
import * as vscode from 'vscode';
import type { EngineHost } from '../engineHost';
import { isCaptureTooBig } from '../../capture/budget';
import { isCancellation, reportError } from '../errors';
import { log } from '../log';
import type { SnapshotEntry, SnapshotStore } from '../snapshots/store';
import type { Sweeper } from '../../sweeper/client';
import type { TargetRegistry } from '../targets/registry';
import type { MemoryTarget, TakenWorkerSnapshot } from '../targets/target';
import type { LeakLensDocuments } from '../ui/documents';
import { formatBytes } from '../ui/format';
import type { MemoryGraphs } from '../ui/memoryGraph';
import type { LeakReport } from '../../../protocol/report';

export interface Services {
  context: vscode.ExtensionContext;
  registry: TargetRegistry;
  store: SnapshotStore;
  engine: EngineHost;
  documents: LeakLensDocuments;
  graphs: MemoryGraphs;
  /** Stops workloads and removes partial snapshots should the extension host be killed (a closed window). */
  sweeper?: Sweeper;
  /** Called with every report Find Leaks makes (the language server marks it in the editor). */
  onReport?: (report: LeakReport) => void;
}

/** What a command resolves with: its value, or the message the user was shown. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: string; cancelled?: boolean };

/** Options most commands take when run by a test or another extension rather than a person. */
export interface CommandOptions {
  /** False: never ask (pickers, prompts); fail with a message instead. Defaults to true. */
  interactive?: boolean;
  /** Cancels the command as its progress notification's Cancel does (a language model tool call cancelled by its caller). */
  token?: vscode.CancellationToken;
}

/**
 * Runs `body` with a token cancelled by either `shown` (the progress notification's) or `extra` (the caller's), and
 * drops the link when it ends.
 */
export async function withEitherToken<T>(
  shown: vscode.CancellationToken,
  extra: vscode.CancellationToken | undefined,
  body: (token: vscode.CancellationToken) => Promise<T>,
): Promise<T> {
  if (!extra) return body(shown);
  const source = new vscode.CancellationTokenSource();
  const links = [
    shown.onCancellationRequested(() => source.cancel()),
    extra.onCancellationRequested(() => source.cancel()),
  ];
  if (shown.isCancellationRequested || extra.isCancellationRequested) source.cancel();
  try {
    return await body(source.token);
  } finally {
    for (const l of links) l.dispose();
    source.dispose();
  }
}

/** Runs a command handler's body and never throws: failures are shown (with what to do) and logged, and come back as an outcome. */
export async function guardCommand<T>(doing: string, body: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await body() };
  } catch (error) {
    if (isCancellation(error)) {
      reportError(error, doing);
      return { ok: false, error: 'cancelled', cancelled: true };
    }
    const shown = reportError(error, doing);
    return { ok: false, error: shown?.message ?? String(error) };
  }
}

/** The buttons of the question asked before a capture that could get the program killed. */
const CAPTURE_ANYWAY = 'Capture Anyway';
const USE_SAMPLING = 'Use Sampling';

/**
 * Thrown by {@link captureSnapshot} when a snapshot would not fit in the program's memory and the answer was to go
 * on without snapshots (Find Leaks' sampling mode). No snapshot was written.
 */
export class UseSamplingInstead extends Error {
  constructor(readonly refusal: string) {
    super('going on with allocation sampling instead of snapshots');
    this.name = 'UseSamplingInstead';
  }
}

/** What to do when the capture check refuses a snapshot. */
export interface TooBigChoice {
  /** Offer "Use Sampling" beside "Capture Anyway" (Find Leaks can go on without snapshots). */
  offerSampling?: boolean;
  /** Answer without asking (automation, tests): capture anyway, go on with sampling, or fail with the refusal. */
  answer?: 'capture' | 'sampling' | 'fail';
}

/** The progress callback of `window.withProgress`. */
export type Progress = vscode.Progress<{ message?: string; increment?: number }>;

/** A snapshot of the main thread, with those of the worker threads taken beside it. */
export interface CapturedSnapshot extends SnapshotEntry {
  /** Every worker thread alive at the snapshot (each has a heap of its own); empty for a program without workers. */
  workers: TakenWorkerSnapshot[];
}

/**
 * Captures one snapshot of `target` into the snapshot folder, and one of each of its worker threads alive beside it
 * (a worker that exits meanwhile is logged and left out), reporting V8's progress, cancellable through `token`.
 * Notes from the capture (no GC while paused, reset ids) are shown as warnings. `run` marks the snapshots as taken by
 * one Find Leaks run, so the Snapshots view shows them together.
 */
export async function captureSnapshot(
  s: Services,
  target: MemoryTarget,
  label: string,
  progress: Progress,
  token: vscode.CancellationToken,
  run?: string,
  tooBig: TooBigChoice = {},
): Promise<CapturedSnapshot> {
  await target.ready();
  const folder = await s.store.ensureWritable();
  const file = s.store.newSnapshotPath(folder, target.pid);
  const controller = new AbortController();
  const sub = token.onCancellationRequested(() => controller.abort());
  let reported = 0;
  // The extension host writes the snapshot itself for js-debug sessions; killed meanwhile, it leaves the partial file.
  const guard = s.sweeper?.watchSnapshot(file);
  try {
    progress.report({ message: `${label}: collecting garbage, then walking the heap` });
    const take = (force: boolean) =>
      target.takeSnapshot(file, {
        label,
        workers: true,
        signal: controller.signal,
        force,
        onProgress: (done, total) => {
          const pct = total > 0 ? Math.floor((100 * done) / total) : 0;
          if (pct <= reported) return;
          progress.report({ message: `${label}: ${pct}% of the heap`, increment: 0 });
          reported = pct;
        },
      });
    // A snapshot that could get the program killed (its container's limit, the machine's memory) is asked about first.
    const taken = await take(false).catch(async (error: unknown) => {
      if (!isCaptureTooBig(error)) throw error;
      const refusal = (error as Error).message;
      log().warn(`${label}: ${refusal}`);
      if (tooBig.answer === 'fail') throw error;
      const offers = tooBig.offerSampling ? [USE_SAMPLING, CAPTURE_ANYWAY] : [CAPTURE_ANYWAY];
      const detail = tooBig.offerSampling
        ? "Use Sampling goes on without snapshots: V8's sampling heap profiler finds where growing objects are allocated, at almost no memory cost, but cannot tell what holds them."
        : undefined;
      const choice =
        tooBig.answer === 'capture'
          ? CAPTURE_ANYWAY
          : tooBig.answer === 'sampling' && tooBig.offerSampling
            ? USE_SAMPLING
            : await vscode.window.showWarningMessage(
                `Leak Lens: ${refusal}`,
                { modal: true, ...(detail ? { detail } : {}) },
                ...offers,
              );
      if (choice === USE_SAMPLING) throw new UseSamplingInstead(refusal);
      if (choice !== CAPTURE_ANYWAY) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
      return take(true);
    });
    for (const note of taken.notes) void vscode.window.showWarningMessage(`Leak Lens: ${note}`);
    s.graphs.mark(target, 'snapshot', label);
    const workers = taken.workers ?? [];
    if (run) await s.store.markRun([file, ...workers.map((w) => w.file)], run);
    else s.store.changed();
    const entry = await s.store.describe(file);
    if (!entry) throw new Error(`the snapshot file ${file} disappeared right after it was written`);
    if (workers.length > 0)
      log().info(`${label}: also snapshotted ${workers.map((w) => w.name).join(', ')} of ${target.label}`);
    return { ...entry, workers };
  } finally {
    sub.dispose();
    guard?.dispose();
  }
}

export function snapshotSummary(entry: SnapshotEntry): string {
  return `${formatBytes(entry.size)}${entry.heapUsed !== undefined ? `, heap used ${formatBytes(entry.heapUsed)}` : ''}`;
}
