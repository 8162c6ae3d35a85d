/**
 * Real leak reports for the webview tests: `leak-lens run` on a demo app (real process, real load, real snapshots),
 * kept under .leak-lens/webview/<app> with its snapshots so the engine can answer page queries on them. A report is
 * made again when the demo's source or the built engine changes.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { repoRoot } from './harness';
import type { LeakReport } from '../../protocol/report';

export interface DemoRun {
  dir: string;
  report: LeakReport;
}

export function demoReport(app: string, entry = `demo/${app}.js`): DemoRun {
  // The TypeScript demo runs from its build output, which is not committed.
  if (app === 'ts-app' && !fs.existsSync(path.join(repoRoot, entry))) {
    const b = spawnSync(process.execPath, [path.join(repoRoot, 'demo', 'ts-app', 'build.js')], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    if (b.status !== 0) throw new Error(`building demo/ts-app failed: ${b.stderr}`);
  }
  const dir = path.join(repoRoot, '.leak-lens', 'webview', app);
  const out = path.join(dir, 'report.json');
  const stamp = path.join(dir, 'inputs.sha1');
  // The demo and the built engine, by content: a rebuild that changes nothing keeps the report.
  const hash = createHash('sha1');
  hash.update(fs.readFileSync(path.join(repoRoot, entry)));
  const engineOut = path.join(repoRoot, 'out', 'engine');
  for (const f of fs
    .readdirSync(engineOut)
    .filter((n) => n.endsWith('.js'))
    .sort())
    hash.update(fs.readFileSync(path.join(engineOut, f)));
  const digest = hash.digest('hex');
  const fresh =
    fs.existsSync(out) &&
    fs.existsSync(stamp) &&
    fs.readFileSync(stamp, 'utf8') === digest &&
    JSON.parse(fs.readFileSync(out, 'utf8')).snapshots.every((s: { file: string }) => fs.existsSync(s.file));
  if (!fresh) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const r = spawnSync(
      process.execPath,
      [
        path.join(repoRoot, 'bin', 'leak-lens.js'),
        'run',
        '--format',
        'json',
        '--track-allocations',
        '--out',
        dir,
        '--action',
        'node demo/load.js',
        '--',
        'node',
        entry,
      ],
      { cwd: repoRoot, encoding: 'utf8', timeout: 180_000, maxBuffer: 64 * 1024 * 1024 },
    );
    // Exit status 1 means "leaks found"; 2 is an error.
    if (r.status !== 0 && r.status !== 1) throw new Error(`leak-lens run ${entry} failed (${r.status}): ${r.stderr}`);
    fs.writeFileSync(out, r.stdout);
    fs.writeFileSync(stamp, digest);
  }
  return { dir, report: JSON.parse(fs.readFileSync(out, 'utf8')) as LeakReport };
}

/**
 * A real report of a leak corpus app (test/corpus/<app>), run as its expected.json says (program, node options,
 * action, ready line) with the app folder as cwd, kept under .leak-lens/webview/corpus-<app> with its snapshots and
 * made again when the app's files or the built engine change.
 */
export function corpusReport(app: string): DemoRun {
  const appDir = path.join(repoRoot, 'test', 'corpus', app);
  const e = JSON.parse(fs.readFileSync(path.join(appDir, 'expected.json'), 'utf8')) as {
    program: string[];
    nodeArgs?: string[];
    action: string;
    ready?: string;
  };
  const dir = path.join(repoRoot, '.leak-lens', 'webview', `corpus-${app}`);
  const out = path.join(dir, 'report.json');
  const stamp = path.join(dir, 'inputs.sha1');
  const hash = createHash('sha1');
  const walk = (d: string): void => {
    for (const n of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (n.isDirectory()) walk(path.join(d, n.name));
      else if (n.isFile()) hash.update(n.name).update(fs.readFileSync(path.join(d, n.name)));
    }
  };
  walk(appDir);
  const engineOut = path.join(repoRoot, 'out', 'engine');
  for (const f of fs
    .readdirSync(engineOut)
    .filter((n) => n.endsWith('.js'))
    .sort())
    hash.update(fs.readFileSync(path.join(engineOut, f)));
  const digest = hash.digest('hex');
  const fresh =
    fs.existsSync(out) &&
    fs.existsSync(stamp) &&
    fs.readFileSync(stamp, 'utf8') === digest &&
    JSON.parse(fs.readFileSync(out, 'utf8')).snapshots.every((s: { file: string }) => fs.existsSync(s.file));
  if (!fresh) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const args = [
      path.join(repoRoot, 'bin', 'leak-lens.js'),
      'run',
      '--format',
      'json',
      '--track-allocations',
      '--out',
      dir,
      ...(e.ready ? ['--ready', e.ready] : []),
      '--action',
      e.action,
      '--',
      'node',
      ...(e.nodeArgs ?? []),
      ...e.program,
    ];
    const r = spawnSync(process.execPath, args, {
      cwd: appDir,
      encoding: 'utf8',
      timeout: 240_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.status !== 0 && r.status !== 1)
      throw new Error(`leak-lens run on test/corpus/${app} failed (${r.status}): ${r.stderr}`);
    fs.writeFileSync(out, r.stdout);
    fs.writeFileSync(stamp, digest);
  }
  return { dir, report: JSON.parse(fs.readFileSync(out, 'utf8')) as LeakReport };
}
