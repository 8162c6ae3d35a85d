/**
 * One report for a process with worker threads. Each thread has a heap (an isolate) of its own, with object ids of
 * its own, so each is analysed alone (buildLeakReport over that thread's snapshots); this merges those reports:
 * every leak group says its thread, the verdict is a leak if any thread leaks, and the main thread's report gives
 * the process-wide fields. Time O(groups).
 */
import { LeakReport } from './report';

/** The report of one thread's snapshots. */
export interface ThreadReport {
  /** `main`, or `worker <id> <name>`. */
  name: string;
  report: LeakReport;
}

export function mergeThreadReports(main: LeakReport, workers: ThreadReport[], notes: string[] = []): LeakReport {
  const threads: ThreadReport[] = [{ name: 'main', report: main }, ...workers];
  const leaks = threads.flatMap((t) =>
    t.report.leaks.map((g) => ({ ...g, thread: t.name, id: t.name === 'main' ? g.id : `${g.id}#${t.name}` })),
  );
  // Largest first across threads; the sort is stable, so within a thread the report's order stays.
  leaks.sort((a, b) => b.retainedSize - a.retainedSize);
  const timings = { ...main.timings };
  for (const w of workers) for (const [k, v] of Object.entries(w.report.timings)) timings[k] = (timings[k] ?? 0) + v;
  return {
    ...main,
    verdict: leaks.length > 0 ? 'leak' : 'clean',
    leaks,
    duplicateModules: threads.flatMap((t) => t.report.duplicateModules),
    warnings: [...main.warnings, ...workers.flatMap((w) => w.report.warnings.map((m) => `${w.name}: ${m}`)), ...notes],
    timings,
    threads: threads.map((t) => ({ name: t.name, snapshots: t.report.snapshots })),
  };
}
