/** Commands on the debugged process: Take Heap Snapshot, Collect Garbage, allocation tracking, Show Memory Graph. */
import * as vscode from 'vscode';
import { settings } from '../settings';
import { formatBytes, signed } from '../ui/format';
import {
  captureSnapshot,
  guardCommand,
  snapshotSummary,
  withEitherToken,
  type CapturedSnapshot,
  type CommandOptions,
  type Outcome,
  type Services,
} from './common';

export interface TakeSnapshotOptions extends CommandOptions {
  label?: string;
}

export function takeHeapSnapshot(s: Services, options: TakeSnapshotOptions = {}): Promise<Outcome<CapturedSnapshot>> {
  const interactive = options.interactive ?? true;
  return guardCommand('take a heap snapshot', async () => {
    const target = await s.registry.pick({ interactive, purpose: 'Taking a heap snapshot needs' });
    const label = options.label ?? `${target.session.name} ${new Date().toLocaleTimeString()}`;
    const entry = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Leak Lens: taking a heap snapshot', cancellable: true },
      (progress, shown) =>
        withEitherToken(shown, options.token, (token) => captureSnapshot(s, target, label, progress, token)),
    );
    const workers =
      entry.workers.length === 0
        ? ''
        : ` Each worker thread has a heap of its own: ${entry.workers.map((w) => w.name).join(', ')} ${entry.workers.length === 1 ? 'was' : 'were'} snapshotted beside it.`;
    void vscode.window
      .showInformationMessage(
        `Heap snapshot "${entry.label}" saved (${snapshotSummary(entry)}).${workers}`,
        'Open',
        'Find Leaks',
      )
      .then((picked) => {
        if (picked === 'Open') void vscode.commands.executeCommand('leakLens.snapshots.open', entry);
        else if (picked === 'Find Leaks') void vscode.commands.executeCommand('leakLens.findLeaks');
      });
    return entry;
  });
}

export function collectGarbage(
  s: Services,
  options: CommandOptions = {},
): Promise<Outcome<{ before: number; after: number }>> {
  return guardCommand('collect garbage', async () => {
    const target = await s.registry.pick({
      interactive: options.interactive ?? true,
      purpose: 'Collecting garbage needs',
    });
    const { before, after } = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: 'Leak Lens: collecting garbage' },
      () => target.collectGarbage(),
    );
    s.graphs.mark(target, 'gc');
    const freed = before.heapUsed - after.heapUsed;
    void vscode.window.showInformationMessage(
      `Garbage collected in ${target.label}: heap used ${formatBytes(before.heapUsed)} → ${formatBytes(after.heapUsed)} (${signed(-freed, (x) => formatBytes(x))}).`,
    );
    return { before: before.heapUsed, after: after.heapUsed };
  });
}

export function startAllocationTracking(s: Services, options: CommandOptions = {}): Promise<Outcome<void>> {
  return guardCommand('start allocation tracking', async () => {
    const target = await s.registry.pick({
      interactive: options.interactive ?? true,
      purpose: 'Allocation tracking needs',
    });
    if (target.trackingAllocations) {
      void vscode.window.showInformationMessage(`Allocation tracking is already on for ${target.label}.`);
      return;
    }
    await target.startAllocationTracking();
    void vscode.window.showInformationMessage(
      `Allocation tracking is on for ${target.label}: snapshots now record where objects were allocated. It slows the program down; stop it when done.`,
    );
  });
}

export function stopAllocationTracking(s: Services, options: CommandOptions = {}): Promise<Outcome<void>> {
  return guardCommand('stop allocation tracking', async () => {
    const target = await s.registry.pick({
      interactive: options.interactive ?? true,
      purpose: 'Allocation tracking needs',
    });
    if (!target.trackingAllocations) {
      void vscode.window.showInformationMessage(`Allocation tracking is not on for ${target.label}.`);
      return;
    }
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: 'Leak Lens: stopping allocation tracking' },
      () => target.stopAllocationTracking(),
    );
    void vscode.window.showInformationMessage(`Allocation tracking stopped for ${target.label}.`);
  });
}

export function showMemoryGraph(s: Services, options: CommandOptions = {}): Promise<Outcome<vscode.Uri>> {
  const interactive = options.interactive ?? true;
  return guardCommand('show the memory graph', async () => {
    const target = await s.registry.pick({ interactive, purpose: 'The memory graph needs' });
    await target.ready();
    // The status bar samples the active session's process; make sure this one is sampled too.
    if (target !== s.registry.activeTarget() || target.samples.length === 0)
      target.startSampling(settings.samplingIntervalMs());
    return s.graphs.show(target, { interactive });
  });
}
