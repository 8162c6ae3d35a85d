/** The extension's settings (contributed in package.json under `leakLens.*`), read when needed. */
import * as vscode from 'vscode';

function cfg(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration('leakLens');
}

export const settings = {
  /** Milliseconds between memory samples of the active session (status bar, memory graph). */
  samplingIntervalMs(): number {
    return Math.max(250, cfg().get<number>('sampling.intervalMs', 2000));
  },
  /** The folder snapshots go to, as configured (empty: the extension's storage). */
  snapshotFolder(): string {
    return cfg().get<string>('snapshots.folder', '').trim();
  },
  /** Rounds of "workload, then snapshot" after the baseline in Find Leaks. */
  findLeaksRounds(): number {
    return Math.min(10, Math.max(1, Math.round(cfg().get<number>('findLeaks.rounds', 2))));
  },
  /** A shell command Find Leaks runs as the workload before each snapshot instead of asking. */
  workloadCommand(): string {
    return cfg().get<string>('findLeaks.workloadCommand', '').trim();
  },
  workloadTimeoutMs(): number {
    return Math.max(1, cfg().get<number>('findLeaks.workloadTimeoutSeconds', 300)) * 1000;
  },
  /** Record allocation stacks during Find Leaks, so the report names where leaked objects are allocated. */
  trackAllocationsInFindLeaks(): boolean {
    return cfg().get<boolean>('findLeaks.trackAllocations', false);
  },
  /**
   * How Find Leaks measures: heap snapshots (retainer paths, but a snapshot needs memory of the order of the heap),
   * V8's sampling heap profiler (no snapshot, almost no memory, no retainers), or ask each time.
   */
  findLeaksMode(): 'snapshots' | 'sampling' | 'ask' {
    const mode = cfg().get<string>('findLeaks.mode', 'snapshots');
    return mode === 'sampling' || mode === 'ask' ? mode : 'snapshots';
  },
  /** In the sampling mode: one allocation sampled per this many bytes on average. */
  samplingIntervalBytes(): number {
    return Math.min(1 << 20, Math.max(64, Math.round(cfg().get<number>('findLeaks.samplingIntervalBytes', 1024))));
  },
  statusBarEnabled(): boolean {
    return cfg().get<boolean>('statusBar.enabled', true);
  },
};
