/**
 * `npm run bench`: speed and peak memory of the engine on generated snapshots, from the CLI and through the
 * extension's bundled engine worker, beside Chrome DevTools' worker (heap-snapshot-toolkit), memlab and VS Code's
 * @vscode/v8-heap-parser on the same files, with the load average at each measurement (the machine may be shared).
 * Each measurement runs in its own process.
 *
 * Env: BENCH_DIR (default ~/.cache/leak-lens-bench) holds the generated snapshots and the peers (memlab and
 *      @vscode/v8-heap-parser are installed there, each in its own folder, never into the project);
 *      BENCH_SIZES (default "150,600") are target sizes in MB of the full-analysis files ("150,600,1500" for all three);
 *      BENCH_OTHERS=0 skips the other tools; BENCH_RUNS (default 1) repeats each Leak Lens measurement;
 *      BENCH_TARGET=0 skips what capture and tracking cost the target (capture-bench.js at 50 MB: the memory estimate
 *      against the measured rise; `leak-lens run` on the corpus's worst case for tracking, with and without it);
 *      BENCH_E2E=0 skips `leak-lens run` end to end on bench/e2e-service.js (BENCH_E2E_MB, default 300 MB of heap),
 *      and, at the same heap size, what V8 itself costs (bench/v8-limits.js: its snapshot generator alone, and heap
 *      object tracking's stalls), the floor under any snapshot technique.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { estimateAnalysisBytes } from '../engine/memoryBudget';
import { endToEnd } from './e2e';

const root = path.resolve(__dirname, '..', '..');
const dir = process.env.BENCH_DIR ?? path.join(os.homedir(), '.cache', 'leak-lens-bench');
const sizes = (process.env.BENCH_SIZES ?? '150,600').split(',').map(Number);
const others = process.env.BENCH_OTHERS !== '0';
const runs = Number(process.env.BENCH_RUNS ?? 1);
// Records per MB of snapshot for bench/make-big-snapshot.js (measured: 1 M records give about 600 MB).
const RECORDS_PER_MB = 1 / 600;

function generate(args: string[], heapMB: number): void {
  execFileSync(
    process.execPath,
    [`--max-old-space-size=${heapMB}`, path.join(root, 'bench', 'make-big-snapshot.js'), ...args],
    { stdio: 'inherit' },
  );
}

function ensureFiles(): { big: { size: number; file: string }[]; series: string[] } {
  fs.mkdirSync(dir, { recursive: true });
  const big = sizes.map((size) => {
    const file = path.join(dir, `big-${size}.heapsnapshot`);
    if (!fs.existsSync(file)) generate([file, String(size * RECORDS_PER_MB)], 24000);
    return { size, file };
  });
  const prefix = path.join(dir, 'series-50');
  const series = [1, 2, 3].map((i) => `${prefix}-${i}.heapsnapshot`);
  if (!series.every((f) => fs.existsSync(f))) generate(['--series', prefix, String(45 * RECORDS_PER_MB)], 8000);
  return { big, series };
}

/**
 * Installs a peer tool into its own folder under the bench cache (never into the project), once. Returns the folder, or
 * undefined when it cannot be installed (the table then says so).
 */
function ensurePeer(
  folder: string,
  packages: string[],
  probe: string,
  env: NodeJS.ProcessEnv = {},
): string | undefined {
  const peerDir = path.join(dir, folder);
  if (fs.existsSync(path.join(peerDir, 'node_modules', probe))) return peerDir;
  fs.mkdirSync(peerDir, { recursive: true });
  fs.writeFileSync(path.join(peerDir, 'package.json'), '{"private":true}');
  console.log(`installing ${packages.join(', ')} into ${peerDir} for comparison ...`);
  const r = spawnSync('npm', ['i', '--no-audit', '--no-fund', '--loglevel=error', ...packages], {
    cwd: peerDir,
    env: { ...process.env, ...env },
    stdio: 'inherit',
  });
  return r.status === 0 && fs.existsSync(path.join(peerDir, 'node_modules', probe)) ? peerDir : undefined;
}

interface Measurement {
  ms: number;
  maxRssMB: number;
  detail?: unknown;
  error?: string;
  /** The machine's 1-minute load average when the measurement started (the machine may be shared). */
  load?: number;
}

function measure(mode: string, files: string[], env: NodeJS.ProcessEnv = {}, heapMB = 16000): Measurement {
  const load = os.loadavg()[0];
  const m = measureOnce(mode, files, env, heapMB);
  m.load = load;
  return m;
}

function measureOnce(mode: string, files: string[], env: NodeJS.ProcessEnv, heapMB: number): Measurement {
  const r = spawnSync(
    process.execPath,
    [`--max-old-space-size=${heapMB}`, path.join(root, 'out', 'bench', 'measure.js'), mode, ...files],
    { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 24 },
  );
  if (r.status !== 0)
    return { ms: NaN, maxRssMB: NaN, error: (r.stderr || `exit ${r.status}`).trim().split('\n').slice(-1)[0] };
  // Other tools print progress on stdout too: take the measurement line.
  const line = r.stdout.split('\n').find((l) => l.startsWith('{"ms"'));
  if (!line) return { ms: NaN, maxRssMB: NaN, error: 'no measurement printed' };
  return JSON.parse(line) as Measurement;
}

function best(mode: string, files: string[]): Measurement {
  let result: Measurement | undefined;
  for (let i = 0; i < runs; i++) {
    const m = measure(mode, files);
    if (!result || m.ms < result.ms) result = m;
  }
  return result!;
}

function row(label: string, m: Measurement, note = ''): string {
  const load = m.load === undefined ? '' : m.load.toFixed(1);
  if (m.error) return `| ${label} | failed: ${m.error} | | ${load} | |`;
  return `| ${label} | ${(m.ms / 1000).toFixed(1)} s | ${(m.maxRssMB / 1024).toFixed(2)} GB | ${load} | ${note} |`;
}

/** How Leak Lens compares with the fastest peer that finished: speed-up and share of its peak memory. */
function ratio(ll: Measurement, peer: { name: string; m: Measurement } | undefined): string {
  if (!peer || ll.error) return '';
  return `${(peer.m.ms / ll.ms).toFixed(1)}x faster, ${(ll.maxRssMB / peer.m.maxRssMB).toFixed(2)}x the memory of ${peer.name}`;
}

async function main(): Promise<void> {
  console.log(
    `Leak Lens benchmark on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, Node ${process.version}, ${new Date().toISOString()}`,
  );
  const { big, series } = ensureFiles();
  const memlabDir = others
    ? ensurePeer('memlab', ['memlab', '@memlab/heap-analysis'], '@memlab/heap-analysis', {
        PUPPETEER_SKIP_DOWNLOAD: '1',
      })
    : undefined;
  const v8hpDir = others
    ? ensurePeer('v8-heap-parser', ['@vscode/v8-heap-parser'], '@vscode/v8-heap-parser')
    : undefined;
  const lines: string[] = [
    '',
    '| measurement | time | peak RSS | load | against the fastest peer |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const { file } of big) {
    const mb = (fs.statSync(file).size / 1048576).toFixed(0);
    const peers: { name: string; m: Measurement }[] = [];
    if (others) {
      const peer = (name: string, m: Measurement) => {
        lines.push(row(`${name}, ${mb} MiB`, m));
        if (!m.error) peers.push({ name, m });
      };
      peer('Chrome DevTools worker (heap-snapshot-toolkit)', measure('toolkit', [file]));
      if (memlabDir) peer('memlab getFullHeapFromFile', measure('memlab', [file], { MEMLAB_DIR: memlabDir }));
      else lines.push(`| memlab, ${mb} MiB | not installed (npm i memlab failed) | | | |`);
      if (v8hpDir)
        peer(
          '@vscode/v8-heap-parser (decode + class groups)',
          measure('v8-heap-parser', [file], { V8HP_DIR: v8hpDir }),
        );
      else
        lines.push(`| @vscode/v8-heap-parser, ${mb} MiB | not installed (npm i @vscode/v8-heap-parser failed) | | | |`);
    }
    const fastest = peers.sort((a, b) => a.m.ms - b.m.ms)[0];
    const ll = best('leak-lens-full', [file]);
    const d = ll.detail as { nodes: number; edges: number; stages: Record<string, number> } | undefined;
    const shape = d ? `${(d.nodes / 1e6).toFixed(1)} M nodes / ${(d.edges / 1e6).toFixed(1)} M edges` : '';
    lines.push(row(`**Leak Lens CLI engine: full analysis of ${mb} MiB** (${shape})`, ll, ratio(ll, fastest)));
    const worker = best('leak-lens-worker', [file]);
    lines.push(
      row(
        `**Leak Lens through the extension's engine worker (dist/worker.js), ${mb} MiB**`,
        worker,
        ratio(worker, fastest),
      ),
    );
    if (d) {
      const estimate = estimateAnalysisBytes(d.nodes, d.edges) / 2 ** 30;
      lines.push(
        `| memory estimate before analysing ${mb} MiB (what the engine checks against free memory) | | ${estimate.toFixed(2)} GB | | actual peak ${(ll.maxRssMB / 1024).toFixed(2)} GB (CLI), ${(worker.maxRssMB / 1024).toFixed(2)} GB (worker) |`,
      );
      console.log(`stages for ${mb} MiB (ms): ${JSON.stringify(d.stages)}`);
    }
  }
  const sizesMB = series.map((f) => (fs.statSync(f).size / 1048576).toFixed(0)).join(' + ');
  lines.push(row(`Leak Lens: three-snapshot comparison (${sizesMB} MiB)`, best('leak-lens-compare', series)));
  console.log(lines.join('\n'));
  if (process.env.BENCH_TARGET !== '0') {
    captureCost();
    trackingOverhead();
  }
  if (process.env.BENCH_E2E !== '0') {
    await endToEnd();
    v8Limits();
  }
}

/** V8's own floor at the end-to-end heap size (bench/v8-limits.js), each in a process of its own. */
function v8Limits(): void {
  const heapMB = process.env.BENCH_E2E_MB ?? '300';
  const probe = (mode: string): Record<string, number> | undefined => {
    const r = spawnSync(process.execPath, [path.join(root, 'bench', 'v8-limits.js'), mode, heapMB], {
      encoding: 'utf8',
    });
    if (r.status !== 0) {
      console.log(`v8 limits: ${mode} failed: ${r.stderr.trim().split('\n').slice(-1)[0] ?? r.status}`);
      return undefined;
    }
    return JSON.parse(r.stdout.trim().split('\n').slice(-1)[0]) as Record<string, number>;
  };
  const load = () => os.loadavg()[0].toFixed(1);
  const gLoad = load();
  const g = probe('generate');
  const tLoad = load();
  const t = probe('tracking');
  console.log(`\n| V8 itself, on a ${heapMB} MB heap of small objects (bench/v8-limits.js) | figure | load |`);
  console.log('| --- | --- | --- |');
  if (g) {
    console.log(
      `| snapshot generator alone (v8.getHeapSnapshot, not read) | ${g.generateS.toFixed(1)} s, peak RSS ${g.generatePeakMB} MB | ${gLoad} |`,
    );
    console.log(
      `| v8.writeHeapSnapshot in the program (generation + JSON, ${g.fileMB} MB) | ${g.writeS.toFixed(1)} s, peak RSS ${g.peakMB} MB | ${gLoad} |`,
    );
  }
  if (t) {
    console.log(`| heap object tracking: starting it | ${t.startS.toFixed(1)} s | ${tLoad} |`);
    console.log(
      `| heap object tracking: turns of a 10 ms interval in ${t.seconds} s (${t.turnsWithoutTracking} untracked) | ${t.turns}, longest stall ${(t.worstStallMs / 1000).toFixed(1)} s | ${tLoad} |`,
    );
  }
}

/** The capture's memory estimate against what the target's RSS really rose by in its first snapshot (capture-bench). */
function captureCost(): void {
  const r = spawnSync(
    process.execPath,
    ['--max-old-space-size=4096', path.join(root, 'out', 'bench', 'capture-bench.js'), '50'],
    {
      encoding: 'utf8',
      env: { ...process.env, CAPTURE_BENCH_JSON: '1' },
      maxBuffer: 1 << 24,
    },
  );
  const line = r.stdout.split('\n').find((l) => l.startsWith('ROWS '));
  if (!line) {
    console.log(`\ncapture cost: capture-bench failed: ${r.stderr.split('\n').slice(-3).join(' ')}`);
    return;
  }
  const rows = JSON.parse(line.slice(5)) as {
    heapMB: number;
    method: string;
    peakRssMB: number;
    rssBeforeMB: number;
    estimateMB?: number;
    seconds: number;
  }[];
  const first = rows[0];
  console.log('\n| target with a 50 MB heap of small objects | estimate | measured | |');
  console.log('| --- | --- | --- | --- |');
  console.log(
    `| first snapshot (${first.method}, ${first.seconds.toFixed(1)} s): the target's RSS rise | ${Math.round(first.estimateMB ?? NaN)} MB | ${Math.round(first.peakRssMB - first.rssBeforeMB)} MB | peak ${Math.round(first.peakRssMB)} MB |`,
  );
}

/** `leak-lens run` on the corpus's worst case for allocation tracking, without and with it: wall time and ratio. */
function trackingOverhead(): void {
  const app = path.join(root, 'test', 'corpus', 'esm-cachebust-reimport');
  const expected = JSON.parse(fs.readFileSync(path.join(app, 'expected.json'), 'utf8')) as {
    action: string;
    ready?: string;
    program: string[];
    nodeArgs?: string[];
  };
  const time = (track: boolean): number => {
    const args = [
      path.join(root, 'bin', 'leak-lens.js'),
      'run',
      ...(track ? ['--track-allocations'] : []),
      '--action',
      expected.action,
      ...(expected.ready ? ['--ready', expected.ready] : []),
      '--',
      'node',
      ...(expected.nodeArgs ?? []),
      ...expected.program,
    ];
    const t = performance.now();
    const r = spawnSync(process.execPath, args, { cwd: app, encoding: 'utf8' });
    if (r.status !== 1)
      console.log(`tracking overhead: leak-lens run exited ${r.status}: ${r.stderr.split('\n').slice(-2).join(' ')}`);
    return (performance.now() - t) / 1000;
  };
  const plain = time(false);
  const tracked = time(true);
  console.log('\n| leak-lens run on test/corpus/esm-cachebust-reimport | untracked | --track-allocations | ratio |');
  console.log('| --- | --- | --- | --- |');
  console.log(`| wall time | ${plain.toFixed(1)} s | ${tracked.toFixed(1)} s | ${(tracked / plain).toFixed(2)}x |`);
}

main().catch((e: Error) => {
  console.error(`bench: ${e.message}`);
  process.exit(2);
});
