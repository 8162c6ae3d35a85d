import type { LeakReport } from '../protocol/report';
/**
 * One report for a process with worker threads. Each thread has a heap (an isolate) of its own, with object ids of
 * its own, so each is analysed alone (buildLeakReport over that thread's snapshots); this merges those reports:
 * every leak group says its thread, the verdict is a leak if any thread leaks, and the main thread's report gives
 * the process-wide fields. Time O(groups).
 */

/** The report of one thread's snapshots. */
export interface ThreadReport {
  /** `main`, or `worker <id> <name>`. */
  name: string;
  report: LeakReport;
}

/** The snapshots of one worker thread over a run, by snapshot number (0-based); a gap where it was not alive. */
export interface ThreadSeries {
  name: string;
  files: (string | undefined)[];
}

/**
 * The worker threads to analyse beside the main thread: those alive at every one of `count` snapshots (a worker's
 * object ids are its own, so a worker seen only in some has no baseline to compare); the others, in notes.
 */
export function comparableThreads(
  series: Iterable<ThreadSeries>,
  count: number,
): { threads: { name: string; files: string[] }[]; notes: string[] } {
  const threads: { name: string; files: string[] }[] = [];
  const notes: string[] = [];
  for (const { name, files } of series) {
    const present = files.slice(0, count).filter((f): f is string => f !== undefined);
    if (present.length === count) threads.push({ name, files: present });
    else
      notes.push(
        `${name} was alive in ${present.length} of ${count} snapshots, so it was not compared (only workers alive at every snapshot are)`,
      );
  }
  return { threads, notes };
}

export function mergeThreadReports(main: LeakReport, workers: ThreadReport[], notes: string[] = []): LeakReport {
  const threads: ThreadReport[] = [{ name: 'main', report: main }, ...workers];
  const leaks = threads.flatMap((t) =>
    t.report.leaks.map((g) => ({ ...g, thread: t.name, id: t.name === 'main' ? g.id : `${g.id}#${t.name}` })),
  );
  const resources = threads.flatMap((t) =>
    (t.report.resources ?? []).map((g) => ({
      ...g,
      thread: t.name,
      id: t.name === 'main' ? g.id : `${g.id}#${t.name}`,
    })),
  );
  // Largest first across threads; the sort is stable, so within a thread the report's order stays.
  leaks.sort((a, b) => b.retainedSize - a.retainedSize);
  const timings = { ...main.timings };
  for (const w of workers) for (const [k, v] of Object.entries(w.report.timings)) timings[k] = (timings[k] ?? 0) + v;
  return {
    ...main,
    verdict: leaks.length > 0 || resources.length > 0 ? 'leak' : 'clean',
    leaks,
    resources,
    duplicateModules: threads.flatMap((t) => t.report.duplicateModules),
    warnings: [...main.warnings, ...workers.flatMap((w) => w.report.warnings.map((m) => `${w.name}: ${m}`)), ...notes],
    timings,
    threads: threads.map((t) => ({ name: t.name, snapshots: t.report.snapshots })),
  };
}
