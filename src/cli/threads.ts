/**
 * Worker threads in `leak-lens run`: a snapshot of every worker alive at each snapshot of the main thread, and one
 * report over all threads, each analysed alone (a worker's heap and object ids are its own).
 */
import * as path from 'path';
import { buildLeakReport } from '../../engine/report';
import { comparableThreads, mergeThreadReports, type ThreadReport, type ThreadSeries } from '../../engine/threads';
import { ConnectionClosedError, type WorkerTracker } from '../capture';
import type { LeakReport } from '../../protocol/report';

/** The snapshots of one worker, by snapshot number (1-based); a gap where it was not alive. */
export type WorkerSeries = ThreadSeries;

/**
 * Snapshots every worker alive now as snapshot `index` of the run. A worker that exits meanwhile is logged and left
 * out (it will not be compared); any other failure is thrown.
 */
export async function snapshotWorkers(
  tracker: WorkerTracker,
  outDir: string,
  index: number,
  label: string,
  series: Map<string, WorkerSeries>,
  log: (line: string) => void,
): Promise<void> {
  for (const worker of await tracker.live()) {
    const file = path.join(outDir, `worker${worker.thread.id}-s${index}.heapsnapshot`);
    const entry = series.get(worker.id) ?? { name: worker.name, files: [] };
    series.set(worker.id, entry);
    const started = Date.now();
    try {
      const { meta } = await worker.takeSnapshot(file, { label });
      log(
        `snapshot ${index} of ${worker.name}: ${(meta.fileSize / 1048576).toFixed(1)} MB in ${Date.now() - started} ms`,
      );
    } catch (error) {
      if (error instanceof ConnectionClosedError || worker.isClosed) {
        log(`${worker.name} exited during snapshot ${index}`);
        continue;
      }
      throw error;
    }
    entry.files[index - 1] = file;
  }
}

/**
 * The report of the main thread's snapshots merged with the report of every worker present in all `snapshots`
 * snapshots; the others are named in a warning.
 */
export function buildThreadsReport(
  mainFiles: string[],
  series: Map<string, WorkerSeries>,
  snapshots: number,
  log: (line: string) => void,
): LeakReport {
  const main = buildLeakReport(mainFiles);
  const { threads, notes } = comparableThreads(series.values(), snapshots);
  const workers: ThreadReport[] = threads.map(({ name, files }) => {
    log(`analysing ${name}`);
    return { name, report: buildLeakReport(files) };
  });
  return mergeThreadReports(main, workers, notes);
}
