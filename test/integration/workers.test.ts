/**
 * Worker threads under `leak-lens run`, with real programs: a server whose worker leaks one Job per request must be
 * reported with the class, the worker thread and the owner variable in the worker's file; workers that start or
 * exit during the run are left out of the comparison and named in a warning.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import Ajv from 'ajv';
import { repoRoot } from '../helpers/fixtures';
import type { LeakReport } from '../../protocol/report';

const cli = path.join(repoRoot, 'bin', 'leak-lens.js');
const apps = path.join(repoRoot, 'test', 'fixtures', 'apps');
const load = `node ${path.join(repoRoot, 'demo', 'load.js')} 100`;

function run(app: string, extra: string[] = []) {
  return spawnSync(process.execPath, [cli, 'run', ...extra, '--action', load, '--', 'node', path.join(apps, app)], {
    encoding: 'utf8',
    timeout: 180_000,
  });
}

test(
  'a leak inside a worker thread is found, named with its thread and its owner in the worker file',
  { timeout: 200_000 },
  () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-lens-workers-'));
    try {
      const r = run('worker-leak.js', ['--track-allocations', '--format', 'json', '--out', out]);
      assert.equal(r.status, 1, r.stderr.slice(-2000));
      const report = JSON.parse(r.stdout) as LeakReport;
      assert.equal(report.verdict, 'leak');
      const schema = JSON.parse(
        fs.readFileSync(path.join(repoRoot, 'schema', 'leak-report.schema.json'), 'utf8'),
      ) as object;
      const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
      assert.ok(validate(report), JSON.stringify(validate.errors));

      // The Jobs are in the worker's heap, not the main thread's. (Other groups are left to the engine's own tests: on
      // a loaded machine the main thread's http timers have been seen to grow a TimersList per round.)
      const jobs = report.leaks.filter((g) => g.className === 'Job');
      assert.deepEqual(
        jobs.map((g) => g.thread),
        ['worker 1 jobs'],
        JSON.stringify(report.leaks.map((g) => [g.className, g.thread])),
      );
      const group = jobs[0];
      assert.equal(group.growthPerRound, 100);
      assert.deepEqual(group.newPerRound, [100, 100], 'object ids stayed comparable across the worker snapshots');
      assert.equal(group.owner.name, 'jobs');
      assert.deepEqual(
        [group.owner.location?.file, group.owner.location?.line],
        [path.join(apps, 'worker-jobs.js'), 13],
      );
      assert.deepEqual([group.classLocation?.file, group.classLocation?.line], [path.join(apps, 'worker-jobs.js'), 6]);
      // Allocation tracking runs in the worker too: the Jobs are allocated at the push in its message handler.
      const site = group.allocationSites[0];
      assert.deepEqual(
        [site?.location?.file, site?.location?.line, site?.count],
        [path.join(apps, 'worker-jobs.js'), 16, 200],
      );
      assert.deepEqual(
        report.threads?.map((t) => [t.name, t.snapshots.length]),
        [
          ['main', 3],
          ['worker 1 jobs', 3],
        ],
      );

      // Each worker snapshot has a sidecar naming its thread, and no partial file is left.
      const files = fs.readdirSync(out).sort();
      assert.deepEqual(
        files.filter((f) => f.includes('partial')),
        [],
      );
      for (let i = 1; i <= 3; i++) {
        const meta = JSON.parse(fs.readFileSync(path.join(out, `worker1-s${i}.heapsnapshot.meta.json`), 'utf8')) as {
          thread: { id: string; title: string; url: string };
          sequence: number;
          scripts: { url: string }[];
        };
        assert.deepEqual(meta.thread, {
          id: '1',
          title: '[worker 1] jobs',
          url: `file://${path.join(apps, 'worker-jobs.js')}`,
        });
        assert.equal(meta.sequence, i);
        assert.ok(meta.scripts.some((s) => s.url.endsWith('worker-jobs.js')));
      }

      const text = run('worker-leak.js');
      assert.equal(text.status, 1, text.stderr.slice(-2000));
      assert.match(text.stdout, /^\d\. Job x\d+ \(\+100 per round\), .* retained \(thread: worker 1 jobs\)$/m);
      assert.match(text.stdout, /held by jobs \[variable\] {2}test\/fixtures\/apps\/worker-jobs\.js:13/);
      assert.match(text.stdout, /Threads analysed, each with its own heap: main, worker 1 jobs\./);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  },
);

test('workers that start or exit during the run are not compared, and the report says so', { timeout: 200_000 }, () => {
  const r = run('worker-lifecycle.js', ['--format', 'json']);
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  const report = JSON.parse(r.stdout) as LeakReport;
  assert.equal(report.verdict, 'clean');
  // Worker ids follow the order in which threads reach the inspector, which the program does not fix.
  const names = report.threads?.map((t) => t.name) ?? [];
  assert.equal(names.length, 2);
  assert.equal(names[0], 'main');
  assert.match(names[1], /^worker \d+ steady$/);
  assert.equal(report.warnings.length, 2, report.warnings.join('\n'));
  assert.match(
    report.warnings[0],
    /^worker \d+ brief was alive in 1 of 3 snapshots, so it was not compared \(only workers alive at every snapshot are\)$/,
  );
  assert.match(report.warnings[1], /^worker \d+ late was alive in 2 of 3 snapshots, so it was not compared/);
});
