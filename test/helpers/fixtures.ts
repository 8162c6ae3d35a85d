/**
 * Test fixtures: heap snapshots made by real Node processes running the scripts in test/fixtures/apps. They are
 * generated on first use into .leak-lens/fixtures (ignored by git) and regenerated when a script changes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { LeakReport } from '../../protocol/report';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');
const appsDir = path.join(repoRoot, 'test', 'fixtures', 'apps');

export interface Fixture {
  dir: string;
  files: string[];
}

/** Runs fixture app `app` (optionally with allocation tracking) and returns its snapshot files in order. */
export function fixture(app: string, options: { track?: boolean; snapshots?: number; variant?: string } = {}): Fixture {
  const snapshots = options.snapshots ?? 3;
  const name = `${app}${options.track ? '-tracked' : ''}${options.variant ? '-' + options.variant : ''}-${snapshots}`;
  const dir = path.join(repoRoot, '.leak-lens', 'fixtures', name);
  const files = Array.from({ length: snapshots }, (_, i) => path.join(dir, `s${i + 1}.heapsnapshot`));
  const script = path.join(appsDir, `${app}.js`);
  const newest = Math.max(fs.statSync(script).mtimeMs, fs.statSync(path.join(appsDir, 'harness.js')).mtimeMs);
  const isFresh = () => files.every((f) => fs.existsSync(f) && fs.statSync(f).mtimeMs > newest);
  if (isFresh()) return { dir, files };
  // Test files run in parallel processes: one generates (holding a lock file) into a temporary folder that is renamed
  // into place whole, so nobody ever reads a half-written fixture or a mix of two runs.
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const lock = `${dir}.lock`;
  const deadline = Date.now() + 180_000;
  for (;;) {
    let fd: number | undefined;
    try {
      fd = fs.openSync(lock, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (fd !== undefined) {
      try {
        if (!isFresh()) generate(app, script, dir, snapshots, options.track === true);
      } finally {
        fs.closeSync(fd);
        fs.rmSync(lock, { force: true });
      }
      break;
    }
    // Someone else is generating: wait for them (a lock older than the longest generation is left over: take it).
    if (isFresh() && !fs.existsSync(lock)) break;
    try {
      if (Date.now() - fs.statSync(lock).mtimeMs > 150_000) fs.rmSync(lock, { force: true });
    } catch {
      /* released meanwhile */
    }
    if (Date.now() > deadline) throw new Error(`fixture ${app}: timed out waiting for another process to generate it`);
    spawnSync('sleep', ['0.1']);
  }
  return { dir, files };
}

function generate(app: string, script: string, dir: string, snapshots: number, track: boolean): void {
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const r = spawnSync(process.execPath, [script], {
    env: { ...process.env, FIXTURE_OUT: tmp, FIXTURE_SNAPSHOTS: String(snapshots), FIXTURE_TRACK: track ? '1' : '0' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`fixture ${app} failed (${r.status}): ${r.stderr}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
}

/**
 * `leak-lens run --sampling` on demo/leaky-server.js (real process, real load, no snapshot): its JSON report, checked
 * to be one of the sampling mode with no snapshot.
 */
export function demoSamplingReport(): LeakReport {
  const r = spawnSync(
    process.execPath,
    [
      path.join(repoRoot, 'bin', 'leak-lens.js'),
      'run',
      '--sampling',
      '--format',
      'json',
      '--action',
      'node demo/load.js',
      '--',
      'node',
      'demo/leaky-server.js',
    ],
    { cwd: repoRoot, encoding: 'utf8', timeout: 180_000 },
  );
  assert.ok(
    r.status === 0 || r.status === 1,
    `leak-lens run --sampling failed (${r.status}): ${r.stderr.slice(-2000)}`,
  );
  assert.ok(r.stdout, `leak-lens run --sampling printed no report; stderr: ${r.stderr.slice(-2000)}`);
  const report = JSON.parse(r.stdout) as LeakReport;
  assert.ok(report.sampling && report.snapshots.length === 0, 'a report of the sampling mode, with no snapshot');
  return report;
}
