/**
 * The product's main path, for real: `leak-lens run` starts each demo app under the inspector, drives it with the
 * load generator, takes snapshots, and must report the expected leak class, owner declaration line and allocation
 * line (demo/expected.json), or "clean" for the control.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/fixtures';
import type { LeakGroup, LeakReport } from '../../protocol/report';

interface Expected {
  app: string;
  entry: string;
  action: string;
  leakClass: string;
  ownerName: string;
  ownerFile: string;
  ownerLine: number;
  allocFile: string;
  allocLine: number;
  verdict: 'leak' | 'clean';
  build?: string;
  alsoAcceptable?: { ownerName: string; ownerFile: string; ownerLine: number }[];
}

const expected = JSON.parse(fs.readFileSync(path.join(repoRoot, 'demo', 'expected.json'), 'utf8')) as Expected[];
const cli = path.join(repoRoot, 'bin', 'leak-lens.js');

function owns(g: LeakGroup, file: string, line: number): boolean {
  return !!g.owner.location && g.owner.location.file === path.join(repoRoot, file) && g.owner.location.line === line;
}

for (const e of expected) {
  test(`leak-lens run finds the ${e.verdict === 'clean' ? 'control clean' : e.leakClass + ' leak'} in ${e.app}`, () => {
    if (e.build) {
      const b = spawnSync('sh', ['-c', e.build], { cwd: repoRoot, encoding: 'utf8' });
      assert.equal(b.status, 0, b.stderr);
    }
    const r = spawnSync(
      process.execPath,
      [cli, 'run', '--track-allocations', '--format', 'json', '--action', e.action, '--', 'node', e.entry],
      { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 },
    );
    assert.ok(r.stdout, `no report; stderr: ${r.stderr.slice(-2000)}`);
    const report = JSON.parse(r.stdout) as LeakReport;
    if (e.verdict === 'clean') {
      assert.equal(
        report.verdict,
        'clean',
        JSON.stringify(report.leaks.map((l) => `${l.className} via ${l.owner.name}`)),
      );
      assert.equal(r.status, 0);
      return;
    }
    assert.equal(r.status, 1, r.stderr.slice(-2000));
    assert.equal(report.verdict, 'leak');
    // The group whose owner is declared where the demo says (or at one of the other honest answers).
    const owners = [e, ...(e.alsoAcceptable ?? [])];
    const group = report.leaks.find((g) => owners.some((o) => owns(g, o.ownerFile, o.ownerLine)));
    assert.ok(
      group,
      `no group owned at ${e.ownerFile}:${e.ownerLine}; got ${JSON.stringify(report.leaks.map((l) => [l.className, l.owner.name, l.owner.location?.file, l.owner.location?.line]))}`,
    );
    assert.equal(group.growthPerRound, 100);
    const classes = [
      group.className,
      ...group.alsoHeld.map((a) => a.className),
      ...group.retains.map((x) => x.className),
    ];
    assert.ok(
      classes.includes(e.leakClass) || report.leaks.some((l) => l.className === e.leakClass),
      `class ${e.leakClass} not in ${JSON.stringify(classes)}`,
    );
    // The allocation site, from the allocation stacks, points into the app (at the allocating line where it is the demo's own class).
    assert.ok(group.allocationSites.length > 0, 'allocation sites');
    if (group.className === e.leakClass) {
      const site = group.allocationSites[0].location;
      assert.deepEqual(site && [site.file, site.line], [path.join(repoRoot, e.allocFile), e.allocLine]);
    }
  });
}
