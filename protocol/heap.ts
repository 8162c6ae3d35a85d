/**
 * Answers about one snapshot or a pair, as the engine computes them (engine/summary.ts, engine/compare.ts) and the
 * snapshot views show them. No imports.
 */

/** One row of the summary. */
export interface ClassSummary {
  className: string;
  count: number;
  shallowSize: number;
  retainedSize: number;
  /** Constructor location from the snapshot (CDP script id, 0-based line and column), when known. */
  scriptId?: number;
  line?: number;
  column?: number;
  /** Minimum distance from the roots of the class's objects. */
  distance: number;
}

/** One row of a comparison of two snapshots: objects new in the target, deleted since the base, and their sizes. */
export interface ClassDelta {
  className: string;
  newCount: number;
  deletedCount: number;
  countDelta: number;
  allocatedSize: number;
  freedSize: number;
  sizeDelta: number;
}
