/**
 * Reports for the language server tests, made for real: `leak-lens run` on the demo apps (a real process under the
 * inspector, driven by the load generator), and the engine on fixture snapshots made by real Node processes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Diagnostic, Hover, Range } from 'vscode-languageserver';
import { buildLeakReport } from '../../engine/report';
import { fixture, repoRoot } from '../helpers/fixtures';
import type { LeakReport } from '../../protocol/report';

export { repoRoot };

/** Runs `leak-lens run --track-allocations --format json` on a demo entry and returns its report. */
export function runDemo(entry: string, build?: string): LeakReport {
  if (build) {
    const b = spawnSync(process.execPath, [build], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(b.status, 0, b.stderr);
  }
  const cli = path.join(repoRoot, 'bin', 'leak-lens.js');
  const r = spawnSync(
    process.execPath,
    [cli, 'run', '--track-allocations', '--format', 'json', '--action', 'node demo/load.js', '--', 'node', entry],
    { cwd: repoRoot, encoding: 'utf8', timeout: 180_000 },
  );
  assert.ok(r.stdout, `leak-lens run ${entry} printed no report; stderr: ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout) as LeakReport;
}

/** The engine's report on the basic-leak fixture (a module-level array and a static Map that only grow). */
export function fixtureReport(): LeakReport {
  return buildLeakReport(fixture('basic-leak', { track: true }).files);
}

export const basicLeak = path.join(repoRoot, 'test', 'fixtures', 'apps', 'basic-leak.js');

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `leak-lens-${prefix}-`));
}

export function writeJson(file: string, value: unknown): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value));
  return file;
}

/** Rewrites every file name in a report (owner, sites, path steps, class, duplicate modules). */
export function mapReportFiles(report: LeakReport, f: (file: string) => string): LeakReport {
  const copy = JSON.parse(JSON.stringify(report)) as LeakReport;
  const loc = (l: { file: string } | undefined): void => {
    if (l) l.file = f(l.file);
  };
  for (const g of copy.leaks) {
    loc(g.owner.location);
    loc(g.classLocation);
    g.allocationSites.forEach((s) => loc(s.location));
    g.retainerPath.forEach((s) => loc(s.location));
  }
  for (const d of copy.duplicateModules) {
    d.file = f(d.file);
    loc(d.location);
  }
  return copy;
}

/** `line:char-line:char`, zero-based, for short exact assertions. */
export function span(r: Range): string {
  return `${r.start.line}:${r.start.character}-${r.end.line}:${r.end.character}`;
}

/** Diagnostics as `span severity code` lines, in order. */
export function summary(ds: Diagnostic[]): string[] {
  return ds.map((d) => `${span(d.range)} ${d.severity} ${String(d.code)}`);
}

/** The text a range covers in a file. */
export function textAt(file: string, r: Range): string {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  assert.equal(r.start.line, r.end.line, 'single-line range');
  return lines[r.start.line].slice(r.start.character, r.end.character);
}

/** The markdown of a hover (the server always answers MarkupContent). */
export function hoverMarkdown(h: Hover | null): string {
  assert.ok(h, 'a hover');
  const c = h.contents;
  assert.ok(typeof c === 'object' && !Array.isArray(c) && 'kind' in c && c.kind === 'markdown', JSON.stringify(c));
  return c.value;
}

/** The app folder of a leak corpus app (test/corpus/<app>). */
export function corpusDir(app: string): string {
  return path.join(repoRoot, 'test', 'corpus', app);
}

/**
 * Runs `leak-lens run --track-allocations --format json` on a leak corpus app as its expected.json says (program,
 * node options, action, ready line), with the app folder as cwd, and returns the report.
 */
export function runCorpus(app: string): LeakReport {
  const dir = corpusDir(app);
  const e = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as {
    program: string[];
    nodeArgs?: string[];
    action: string;
    ready?: string;
    build?: string;
  };
  if (e.build) {
    const b = spawnSync(e.build, { cwd: dir, shell: true, encoding: 'utf8' });
    assert.equal(b.status, 0, b.stderr);
  }
  const cli = path.join(repoRoot, 'bin', 'leak-lens.js');
  const args = [
    cli,
    'run',
    '--track-allocations',
    '--format',
    'json',
    ...(e.ready ? ['--ready', e.ready] : []),
    '--action',
    e.action,
    '--',
    'node',
    ...(e.nodeArgs ?? []),
    ...e.program,
  ];
  const r = spawnSync(process.execPath, args, {
    cwd: dir,
    encoding: 'utf8',
    timeout: 240_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.ok(
    r.stdout,
    `leak-lens run on test/corpus/${app} printed no report (status ${r.status}); stderr: ${r.stderr.slice(-2000)}`,
  );
  return JSON.parse(r.stdout) as LeakReport;
}
