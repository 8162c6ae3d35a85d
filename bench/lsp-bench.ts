/**
 * Language server benchmark: time from a report's arrival to its diagnostics being published, for a workspace of
 * 1,000 files with one leak group each (owner declaration + allocation site + a retainer path through the file).
 * The server runs as editors run it (`node out/server/main.js --stdio`) and a real LSP client measures, on its side of
 * the pipe, from sending the report until the publishDiagnostics of the last of the 1,000 files arrives.
 *
 * Cases: the report as a file path (`leakLens/setReport { file }`), the report inline, the report file written into
 * the watched `.leak-lens/` folder, the sources edited after the snapshot (every marker re-anchored by parsing), and
 * 10,000 groups. Usage: node out/bench/lsp-bench.js [runs] (default 5). Prints figures; asserts nothing.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LspClient } from '../test/server/lspClient';
import type { LeakGroup, LeakReport } from '../protocol/report';

const FILES = 1000;
const runs = Math.max(1, Number(process.argv[2] ?? 5));

/** A module shaped like the demo: a class, a module-level array, a function that fills it, a request handler. */
function moduleText(i: number): string {
  return [
    `'use strict';`,
    `// Module ${i}: keeps every Item${i} it ever made.`,
    `class Item${i} {`,
    `  constructor(req) {`,
    `    this.url = req.url;`,
    `    this.at = Date.now();`,
    `  }`,
    `}`,
    ``,
    `const items${i} = [];`,
    ``,
    `function track${i}(req) {`,
    `  const item = new Item${i}(req);`,
    `  items${i}.push(item);`,
    `  return item;`,
    `}`,
    ``,
    `module.exports = { track${i}, handler: (req) => track${i}(req) };`,
    ``,
  ].join('\n');
}

function group(i: number, file: string): LeakGroup {
  return {
    id: `Item${i}@items${i}`,
    className: `Item${i}`,
    count: 200,
    growthPerRound: 100,
    newPerRound: [100, 100],
    countSeries: [100, 200, 300],
    retainedSize: 40_000 + i,
    shallowSize: 8_000,
    nativeSize: 0,
    owner: { name: `items${i}`, kind: 'variable', location: { file, line: 10, column: 1 } },
    retainerPath: [
      { edge: '', edgeType: '', node: '', nodeType: 'synthetic', nodeId: 1 },
      { edge: '2', edgeType: 'shortcut', node: 'global / ', nodeType: 'object', nodeId: 3 },
      { edge: 'process', edgeType: 'property', node: 'process', nodeType: 'object', nodeId: 5 },
      { edge: 'mainModule', edgeType: 'property', node: 'Module', nodeType: 'object', nodeId: 7 },
      { edge: 'exports', edgeType: 'property', node: 'Object', nodeType: 'object', nodeId: 9 },
      {
        edge: `track${i}`,
        edgeType: 'property',
        node: `track${i}()`,
        nodeType: 'closure',
        nodeId: 11,
        location: { file, line: 12, column: 1 },
      },
      { edge: 'context', edgeType: 'internal', node: 'system / Context', nodeType: 'object', nodeId: 13 },
      { edge: `items${i}`, edgeType: 'context', node: 'Array', nodeType: 'object', nodeId: 15, owner: true },
      {
        edge: '[199]',
        edgeType: 'element',
        node: `Item${i}`,
        nodeType: 'object',
        nodeId: 17,
        location: { file, line: 4, column: 14 },
      },
    ],
    retains: [{ className: `Item${i}`, count: 200, size: 30_000 }],
    alsoHeld: [],
    allocationSites: [{ function: `track${i}`, count: 200, location: { file, line: 13, column: 16 } }],
    classLocation: { file, line: 4, column: 14 },
    sampleIds: [17],
  };
}

function report(files: string[], groupsPerFile: number): LeakReport {
  const now = new Date().toISOString();
  const leaks: LeakGroup[] = [];
  files.forEach((f, i) => {
    for (let k = 0; k < groupsPerFile; k++) {
      const g = group(i, f);
      if (k > 0) g.id += `#${k}`;
      leaks.push(g);
    }
  });
  return {
    version: 1,
    tool: 'leak-lens',
    verdict: 'leak',
    createdAt: now,
    rounds: 2,
    leaks,
    duplicateModules: [],
    classGrowth: [],
    warnings: [],
    timings: {},
    snapshots: [0, 1, 2].map((k) => ({
      file: `s${k}.heapsnapshot`,
      time: now,
      nodeCount: 0,
      edgeCount: 0,
      totalSize: 0,
      maxJsObjectId: 0,
    })),
  };
}

interface Case {
  name: string;
  groupsPerFile: number;
  /** Source files modified after the snapshot: every marker is found again by parsing. */
  stale: boolean;
  how: 'file' | 'inline' | 'watched';
}

const cases: Case[] = [
  { name: '1,000 files, report file (setReport { file })', groupsPerFile: 1, stale: false, how: 'file' },
  { name: '1,000 files, inline report', groupsPerFile: 1, stale: false, how: 'inline' },
  { name: '1,000 files, report written to the watched .leak-lens/', groupsPerFile: 1, stale: false, how: 'watched' },
  { name: '1,000 files edited since the snapshot (re-anchored)', groupsPerFile: 1, stale: true, how: 'file' },
  { name: '1,000 files, 10,000 groups', groupsPerFile: 10, stale: false, how: 'file' },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function runCase(c: Case, ws: string, files: string[]): Promise<{ client: number[]; server: number[] }> {
  const past = new Date(Date.now() - 3600_000);
  const future = new Date(Date.now() + 3600_000);
  for (const f of files) fs.utimesSync(f, past, c.stale ? future : past);
  const r = report(files, c.groupsPerFile);
  const reportDir = path.join(ws, '.leak-lens');
  fs.rmSync(reportDir, { recursive: true, force: true });
  fs.mkdirSync(reportDir);
  const reportFile = path.join(reportDir, c.how === 'watched' ? 'report.json' : 'bench.json');
  const out = { client: [] as number[], server: [] as number[] };
  for (let run = 0; run < runs; run++) {
    fs.rmSync(path.join(reportDir, 'report.json'), { force: true });
    const client = await LspClient.start({
      roots: [ws],
      initializationOptions: c.how === 'watched' ? {} : { reportFiles: [] },
    });
    const seen = client.published.length;
    const want = new Set(files.map((f) => 'file://' + f));
    const allPublished = (): number | undefined => {
      const got = new Set<string>();
      for (const p of client.published.slice(seen)) if (p.count > 0 && want.has(p.uri)) got.add(p.uri);
      return got.size === want.size ? client.published[client.published.length - 1].at : undefined;
    };
    const text = JSON.stringify(r);
    let t0: number;
    const status = client.waitFor(() => client.statuses.find((s) => s.ok), 'the report status', 120_000);
    if (c.how === 'inline') {
      t0 = performance.now();
      await client.conn.sendNotification('leakLens/setReport', { report: r, source: 'bench' });
    } else if (c.how === 'file') {
      fs.writeFileSync(reportFile, text);
      t0 = performance.now();
      await client.conn.sendNotification('leakLens/setReport', { file: reportFile });
    } else {
      // The time starts when the run finishes writing the report; the server's watcher takes it from there.
      fs.writeFileSync(reportFile + '.tmp', text);
      t0 = performance.now();
      fs.renameSync(reportFile + '.tmp', reportFile);
    }
    const t1 = await client.waitFor(allPublished, 'diagnostics for every file', 120_000);
    out.client.push(t1 - t0);
    out.server.push((await status).durationMs);
    await client.stop();
  }
  return out;
}

async function main(): Promise<void> {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-lens-lsp-bench-'));
  try {
    const files: string[] = [];
    for (let i = 0; i < FILES; i++) {
      const f = path.join(ws, 'src', `m${Math.floor(i / 100)}`, `module${i}.js`);
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, moduleText(i));
      files.push(f);
    }
    console.log(
      `Language server: report arrival -> diagnostics published for ${FILES} files (${runs} runs each, node ${process.version}, ${os.cpus().length} CPUs)`,
    );
    console.log(
      "client: measured by the LSP client, from sending the report (or renaming it into place) to the last file's publishDiagnostics",
    );
    console.log(
      "server: the server's own figure (leakLens/reportStatus durationMs), from arrival to the last diagnostics sent\n",
    );
    for (const c of cases) {
      const r = await runCase(c, ws, files);
      console.log(
        `${c.name.padEnd(58)} client median ${median(r.client).toFixed(0).padStart(5)} ms, max ${Math.max(...r.client)
          .toFixed(0)
          .padStart(5)} ms; server median ${median(r.server).toFixed(0).padStart(5)} ms`,
      );
    }
  } finally {
    fs.rmSync(ws, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
