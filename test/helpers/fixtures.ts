/**
 * Test fixtures: heap snapshots made by real Node processes running the scripts in test/fixtures/apps. They are
 * generated on first use into .leak-lens/fixtures (ignored by git) and regenerated when a script changes.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

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
  const fresh = files.every((f) => fs.existsSync(f) && fs.statSync(f).mtimeMs > newest);
  if (!fresh) {
    fs.rmSync(dir, { recursive: true, force: true });
    const r = spawnSync(process.execPath, [script], {
      env: { ...process.env, FIXTURE_OUT: dir, FIXTURE_SNAPSHOTS: String(snapshots), FIXTURE_TRACK: options.track ? '1' : '0' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (r.status !== 0) throw new Error(`fixture ${app} failed (${r.status}): ${r.stderr}`);
  }
  return { dir, files };
}
