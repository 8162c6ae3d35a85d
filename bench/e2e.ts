/**
 * End to end on a production-size heap: `leak-lens run` against bench/e2e-service.js (a 300 MB heap of small catalogue
 * objects plus a small leak), with three snapshots (the default) and with --sampling (no snapshot). For each: the wall
 * time, the CLI's own peak RSS, the target's peak RSS, and, per snapshot, the capture check's estimate against the rise
 * the target really showed.
 *
 * Env: BENCH_E2E_MB (default 300) is the service's heap.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

interface RunFigures {
  seconds: number;
  cliPeakMB: number;
  targetPeakMB: number;
  exitCode: number | null;
  snapshots: { sizeMB: number; ms: number; estimateMB: number; riseMB: number }[];
  found: string;
}

const root = path.resolve(__dirname, '..', '..');

/** "530 MB", "4.1 GB", "900 KB" as MB. */
function megabytes(text: string): number {
  const [n, unit] = text.split(' ');
  return Number(n) * (unit === 'GB' ? 1024 : unit === 'KB' ? 1 / 1024 : 1);
}

/** One `leak-lens run`, its figures read from its JSON report and its progress lines. */
function runOnce(heapMB: number, extra: string[]): Promise<RunFigures> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-lens-e2e-'));
  const rssFile = path.join(tmp, 'cli-maxrss');
  const bin = path.join(root, 'bin', 'leak-lens.js');
  // The CLI runs in a process of its own that records its own peak RSS on the way out.
  const wrapper = `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS))); process.argv.splice(1, 0, ${JSON.stringify(bin)}); require(${JSON.stringify(bin)});`;
  const args = [
    '-e',
    wrapper,
    'run',
    '--format',
    'json',
    ...extra,
    '--action',
    `node ${path.join(root, 'demo', 'load.js')} 200`,
    '--',
    'node',
    path.join(root, 'bench', 'e2e-service.js'),
    String(heapMB),
  ];
  const t = performance.now();
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => {
    child.on('close', (code) => {
      const seconds = (performance.now() - t) / 1000;
      const cliPeakMB = fs.existsSync(rssFile) ? Number(fs.readFileSync(rssFile, 'utf8')) / 1024 : NaN;
      fs.rmSync(tmp, { recursive: true, force: true });
      const size = '([\\d.]+ [KMG]B)';
      const peaks = [...err.matchAll(new RegExp(`program's peak RSS ${size}`, 'g'))].map((m) => megabytes(m[1]));
      const lines = [
        ...err.matchAll(new RegExp(`snapshot \\d+/\\d+: ${size} in (\\d+) ms \\(estimated need ${size}`, 'g')),
      ];
      let report: {
        snapshots?: { memoryUsage?: { rss: number } }[];
        leaks?: { className?: string; owner?: unknown; allocationSites?: unknown }[];
        sampling?: { growth?: { site?: unknown }[] };
      } = {};
      try {
        report = JSON.parse(out) as typeof report;
      } catch {
        /* a failed run prints no report; its exit code says so */
      }
      const snapshots = lines.map((m, i) => {
        const before = report.snapshots?.[i]?.memoryUsage?.rss;
        return {
          sizeMB: megabytes(m[1]),
          ms: Number(m[2]),
          estimateMB: megabytes(m[3]),
          riseMB: i === 0 && before !== undefined && peaks[i] !== undefined ? peaks[i] - before / 1048576 : NaN,
        };
      });
      const first = report.leaks?.[0];
      const found = JSON.stringify(
        first
          ? { className: first.className, owner: first.owner, allocationSites: first.allocationSites }
          : (report.sampling?.growth?.[0]?.site ?? null),
      ).slice(0, 160);
      resolve({
        seconds,
        cliPeakMB,
        targetPeakMB: peaks.length ? Math.max(...peaks) : NaN,
        exitCode: code,
        snapshots,
        found,
      });
      if (code !== 1)
        process.stdout.write(
          `e2e: leak-lens run ${extra.join(' ')} exited ${code}: ${err.trim().split('\n').slice(-2).join(' ')}\n`,
        );
    });
  });
}

export async function endToEnd(): Promise<void> {
  const heapMB = Number(process.env.BENCH_E2E_MB ?? 300);
  const mb = (n: number): string => (Number.isFinite(n) ? `${Math.round(n)} MB` : 'n/a');
  const full = await runOnce(heapMB, []);
  const sampling = await runOnce(heapMB, ['--sampling']);
  console.log(
    `\n| leak-lens run on bench/e2e-service.js (${heapMB} MB heap) | wall time | CLI peak RSS | target peak RSS | exit |`,
  );
  console.log('| --- | --- | --- | --- | --- |');
  console.log(
    `| three snapshots (default) | ${full.seconds.toFixed(1)} s | ${mb(full.cliPeakMB)} | ${mb(full.targetPeakMB)} | ${full.exitCode} |`,
  );
  console.log(
    `| --sampling (no snapshot) | ${sampling.seconds.toFixed(1)} s | ${mb(sampling.cliPeakMB)} | ${mb(sampling.targetPeakMB)} | ${sampling.exitCode} |`,
  );
  if (full.snapshots.length) {
    console.log(
      '\n| snapshot | size | capture time | estimated need | target RSS rise (peak minus RSS before; the first only, as the peak is a high-water mark) |',
    );
    console.log('| --- | --- | --- | --- | --- |');
    full.snapshots.forEach((s, i) =>
      console.log(
        `| ${i + 1} | ${mb(s.sizeMB)} | ${(s.ms / 1000).toFixed(1)} s | ${mb(s.estimateMB)} | ${mb(s.riseMB)} |`,
      ),
    );
  }
  console.log(`first group (three snapshots): ${full.found}`);
  console.log(`first group (--sampling): ${sampling.found}`);
}

if (require.main === module) {
  endToEnd().catch((e: Error) => {
    console.error(`e2e: ${e.message}`);
    process.exit(2);
  });
}
