/**
 * One measurement in its own process, so that peak RSS belongs to that measurement alone.
 * Usage: node out/bench/measure.js <leak-lens-full|leak-lens-compare|toolkit|memlab> <files...>
 * Prints one JSON line: { ms, maxRssMB, detail }.
 */
import * as fs from 'fs';
import { createRequire } from 'module';
import * as path from 'path';
import { loadAnalysis } from '../engine/analysis';
import { buildLeakReport } from '../engine/report';
import { summarizeClasses } from '../engine/summary';

async function main(): Promise<void> {
  const [mode, ...files] = process.argv.slice(2);
  const t = performance.now();
  let detail: unknown;
  if (mode === 'leak-lens-full') {
    const a = loadAnalysis(files[0]);
    const rows = summarizeClasses(a);
    detail = { nodes: a.snapshot.nodeCount, edges: a.snapshot.edgeCount, classes: rows.length, totalSize: a.totalSize, stages: a.timings };
  } else if (mode === 'leak-lens-compare') {
    const r = buildLeakReport(files);
    detail = { verdict: r.verdict, groups: r.leaks.length, stages: r.timings };
  } else if (mode === 'toolkit') {
    // Chrome DevTools' own heap snapshot worker, as packaged by heap-snapshot-toolkit: parse, dominators, retained sizes, class aggregates.
    const load = new Function('p', 'return import(p)') as (p: string) => Promise<Record<string, unknown>>;
    const tk = (await load('heap-snapshot-toolkit')) as { parse: (s: fs.ReadStream) => Promise<{ totalSize: number; aggregatesWithFilter: (f: unknown) => object }>; DevToolsAPI: { HeapSnapshotModel: { NodeFilter: new () => unknown } } };
    const snap = await tk.parse(fs.createReadStream(files[0], 'utf-8'));
    const aggregates = snap.aggregatesWithFilter(new tk.DevToolsAPI.HeapSnapshotModel.NodeFilter());
    detail = { classes: Object.keys(aggregates).length, totalSize: snap.totalSize };
  } else if (mode === 'memlab') {
    // memlab's full heap load computes dominators and retained sizes on load.
    const memlabDir = process.env.MEMLAB_DIR!;
    const req = createRequire(path.join(memlabDir, 'package.json'));
    const heapAnalysis = req('@memlab/heap-analysis') as { getFullHeapFromFile: (f: string) => Promise<{ nodes: { length: number } }> };
    const heap = await heapAnalysis.getFullHeapFromFile(path.resolve(files[0]));
    detail = { nodes: heap.nodes.length };
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  const ms = Math.round(performance.now() - t);
  process.stdout.write(JSON.stringify({ ms, maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024), detail }) + '\n');
}

main().catch((e: Error) => {
  process.stderr.write(`measure: ${e.message}\n`);
  process.exit(2);
});
