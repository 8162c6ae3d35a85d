/** Whether an analysis fits in memory: what it needs for a snapshot of a given size, and what this process may use. */
import * as fs from 'fs';
import * as os from 'os';

/**
 * Bytes of memory an analysis of a snapshot with this many nodes and edges needs at its peak (measured: about 1.13 GB
 * for 8.5 M nodes / 24 M edges, 2.56 GB for 21 M / 60 M), with some margin.
 */
export function estimateAnalysisBytes(nodeCount: number, edgeCount: number): number {
  return 80 * nodeCount + 30 * edgeCount + 64 * 1024 * 1024;
}

/** Memory this process may use: the machine's available memory, or the container's limit if lower. */
export function availableMemoryBytes(): number {
  const override = Number(process.env.LEAK_LENS_MEMORY_LIMIT_MB);
  if (override > 0) return override * 1024 * 1024;
  let limit = os.totalmem();
  try {
    const cg = fs.readFileSync('/sys/fs/cgroup/memory.max', 'utf8').trim();
    if (/^\d+$/.test(cg)) limit = Math.min(limit, Number(cg));
  } catch {
    /* not in a cgroup v2 container */
  }
  return Math.min(limit, os.freemem() + 256 * 1024 * 1024);
}
