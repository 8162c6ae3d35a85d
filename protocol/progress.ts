/**
 * Progress of an engine request, as the engine reports it and as people read it. The engine names its stages by
 * what the code does (`essentialEdges`, `interfaces`); a user is told what that means for them ("Computing retained
 * sizes"), and which snapshot of how many is being read, so that the figures only ever go forward. No imports: the
 * extension host and the webview bundle both include this module.
 */

/** The stages of analysing one snapshot, in the order engine/analysis.ts runs them. */
export type AnalysisStage =
  | 'parse'
  | 'retainers'
  | 'detachedness'
  | 'flags'
  | 'essentialEdges'
  | 'shallowSizes'
  | 'dominators'
  | 'distances'
  | 'interfaces'
  | 'classes';

/** Where a request is: a stage, how far into it (bytes of the file while reading), and on which snapshot. */
export interface EngineProgress {
  stage: AnalysisStage;
  done?: number;
  total?: number;
  /** The snapshot being worked on, from 1, of `snapshots` (only for requests on several snapshots). */
  snapshot?: number;
  snapshots?: number;
  /** The worker thread the snapshots are of (`worker <id> <name>`); absent for the main thread. */
  thread?: string;
}

/** What each stage does, in words for the person waiting. */
export const STAGE_WORDS: Record<AnalysisStage, string> = {
  parse: 'Reading',
  retainers: 'Indexing references',
  detachedness: 'Finding detached objects',
  flags: 'Sorting out internal objects',
  essentialEdges: 'Sorting out internal objects',
  shallowSizes: 'Measuring objects',
  dominators: 'Computing retained sizes',
  distances: 'Measuring distances from the roots',
  interfaces: 'Recognising object shapes',
  classes: 'Grouping objects by class',
};

/**
 * One line for a progress report: `Reading snapshot 2 of 3 — 40%`, `Computing retained sizes (snapshot 3 of 3)`,
 * `Reading the snapshot — 40%`; a worker thread's snapshots name the thread.
 */
export function progressText(p: EngineProgress): string {
  const words = STAGE_WORDS[p.stage] ?? 'Analysing';
  const several = p.snapshot !== undefined && p.snapshots !== undefined && p.snapshots > 1;
  const of = p.thread ? ` of ${p.thread}` : '';
  if (p.stage === 'parse') {
    const pct = p.total ? ` — ${Math.min(100, Math.floor((100 * (p.done ?? 0)) / p.total))}%` : '';
    return `${words} ${several ? `snapshot ${p.snapshot} of ${p.snapshots}` : 'the snapshot'}${of}${pct}`;
  }
  if (several) return `${words} (snapshot ${p.snapshot} of ${p.snapshots}${of})`;
  return p.thread ? `${words} (${p.thread})` : words;
}
