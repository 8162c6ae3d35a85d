/**
 * One measurement in its own process, so that peak RSS belongs to that measurement alone.
 * Usage: node out/bench/measure.js <leak-lens-full|leak-lens-worker|leak-lens-compare|toolkit|memlab|v8-heap-parser> <files...>
 * Prints one JSON line: { ms, maxRssMB, detail }.
 */
import * as fs from 'fs';
import { createRequire } from 'module';
import * as path from 'path';
import { loadAnalysis } from '../engine/analysis';
import { EngineClient } from '../engine/client';
import { buildLeakReport } from '../engine/report';
import { summarizeClasses } from '../engine/summary';

async function main(): Promise<void> {
  const [mode, ...files] = process.argv.slice(2);
  const t = performance.now();
  let detail: unknown;
  if (mode === 'leak-lens-full') {
    const a = loadAnalysis(files[0]);
    const rows = summarizeClasses(a);
    detail = {
      nodes: a.snapshot.nodeCount,
      edges: a.snapshot.edgeCount,
      classes: rows.length,
      totalSize: a.totalSize,
      stages: a.timings,
    };
  } else if (mode === 'leak-lens-worker') {
    // What the extension does to open a snapshot, through its bundled engine worker (dist/worker.js): load, then the
    // class summary (all rows here, so that the work equals the CLI's).
    const client = new EngineClient(4096, path.join(__dirname, '..', '..', 'dist', 'worker.js'));
    try {
      const load = await client.request({ kind: 'load', file: files[0] });
      if (!load.ok) throw new Error(load.error);
      const summary = await client.request({ kind: 'summary', file: files[0], limit: 1e9 });
      if (!summary.ok) throw new Error(summary.error);
      detail = {
        nodes: load.value.nodeCount,
        edges: load.value.edgeCount,
        classes: summary.value.total,
        totalSize: load.value.totalSize,
        stages: load.value.timings,
      };
    } finally {
      await client.dispose();
    }
  } else if (mode === 'leak-lens-compare') {
    const r = buildLeakReport(files);
    detail = { verdict: r.verdict, groups: r.leaks.length, stages: r.timings };
  } else if (mode === 'toolkit') {
    // Chrome DevTools' own heap snapshot worker, as packaged by heap-snapshot-toolkit: parse, dominators, retained sizes, class aggregates.
    const load = new Function('p', 'return import(p)') as (p: string) => Promise<Record<string, unknown>>;
    const tk = (await load('heap-snapshot-toolkit')) as {
      parse: (s: fs.ReadStream) => Promise<{ totalSize: number; aggregatesWithFilter: (f: unknown) => object }>;
      DevToolsAPI: { HeapSnapshotModel: { NodeFilter: new () => unknown } };
    };
    const snap = await tk.parse(fs.createReadStream(files[0], 'utf-8'));
    const aggregates = snap.aggregatesWithFilter(new tk.DevToolsAPI.HeapSnapshotModel.NodeFilter());
    detail = { classes: Object.keys(aggregates).length, totalSize: snap.totalSize };
  } else if (mode === 'memlab') {
    // memlab's full heap load computes dominators and retained sizes on load.
    const memlabDir = process.env.MEMLAB_DIR!;
    const req = createRequire(path.join(memlabDir, 'package.json'));
    const heapAnalysis = req('@memlab/heap-analysis') as {
      getFullHeapFromFile: (f: string) => Promise<{ nodes: { length: number } }>;
    };
    const heap = await heapAnalysis.getFullHeapFromFile(path.resolve(files[0]));
    detail = { nodes: heap.nodes.length };
  } else if (mode === 'v8-heap-parser') {
    // VS Code's own heap snapshot parser (Rust compiled to WebAssembly): decode the file, then the class groups with
    // retained sizes, as its viewer shows them.
    const req = createRequire(path.join(process.env.V8HP_DIR!, 'package.json'));
    const parser = req('@vscode/v8-heap-parser') as {
      decode_bytes: (b: Uint8Array) => {
        get_class_groups: (start: number, end: number, noRetained: boolean) => unknown[];
      };
    };
    try {
      const graph = parser.decode_bytes(fs.readFileSync(files[0]));
      detail = { classes: graph.get_class_groups(0, 1e9, false).length };
    } catch (e) {
      // A Rust panic surfaces as a bare WebAssembly trap; a wasm32 module cannot address more than 4 GiB.
      throw new Error(
        `@vscode/v8-heap-parser stopped with a WebAssembly trap (${(e as Error).message}); its memory is limited to 4 GiB`,
      );
    }
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  const ms = Math.round(performance.now() - t);
  process.stdout.write(
    JSON.stringify({ ms, maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024), detail }) + '\n',
  );
}

main().catch((e: Error) => {
  process.stderr.write(`measure: ${e.message}\n`);
  process.exit(2);
});
