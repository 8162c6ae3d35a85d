/// <reference types="mocha" />
/**
 * A leak inside a worker thread, found by Find Leaks in both kinds of sessions: js-debug (each worker is a child
 * session of the process's session, with a CDP proxy of its own) and a `leak-lens` launch (the adapter follows the
 * workers through the NodeWorker domain). worker-jobs.js keeps its main thread's heap flat; its worker keeps every
 * ThumbnailJob in `jobs`. The report must name the worker thread, the owner and the allocation line in the worker's
 * file, and every worker snapshot must have a sidecar naming its thread. A second worker, `short`, exits during the
 * first round: it is left out of the comparison and named in a warning.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as vscode from 'vscode';
import type { FindLeaksResult } from '../../src/extension/commands/findLeaks';
import type { CapturedSnapshot } from '../../src/extension/commands/common';
import {
  api,
  fixture,
  freePort,
  nextEvent,
  ok,
  startLeakLens,
  startPwaNode,
  stopAllSessions,
  workspaceDir,
} from './helpers';

const ROUNDS = 2;
const PER_ROUND = 100;
/** The warm-up sends requests 1-100, the first round 101-200: `short` is alive at the baseline only. */
const SHORT_WORKER_UNTIL = PER_ROUND + PER_ROUND / 2;
const PROGRAM_ENV = { SHORT_WORKER_UNTIL: String(SHORT_WORKER_UNTIL) };

/** The 1-based line of the first line of `file` that contains `text`. */
function lineOf(file: string, text: string): number {
  const index = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(text));
  assert.ok(index >= 0, `${text} is in ${file}`);
  return index + 1;
}

/** Resolves when some debug adapter reports program output that contains `text`. */
function outputContaining(text: string, ms = 45_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      registration.dispose();
      reject(new Error(`no program output "${text}" within ${ms} ms`));
    }, ms);
    const registration = vscode.debug.registerDebugAdapterTrackerFactory('*', {
      createDebugAdapterTracker: () => ({
        onDidSendMessage: (m: { type?: string; event?: string; body?: { output?: string } }) => {
          if (m.type !== 'event' || m.event !== 'output' || !m.body?.output?.includes(text)) return;
          clearTimeout(timer);
          registration.dispose();
          resolve();
        },
      }),
    });
  });
}

/** The checks both kinds of session share: the group, its thread, owner and allocation lines, the snapshots. */
function checkWorkerLeak(result: FindLeaksResult): void {
  const workerFile = fixture('worker-jobs-worker.js');
  const { report } = result;
  const summary = JSON.stringify(report.leaks.map((g) => [g.className, g.owner.name, g.thread]));
  const jobs = report.leaks.filter((g) => g.className === 'ThumbnailJob');
  assert.deepStrictEqual(
    jobs.map((g) => g.thread),
    ['worker 1 jobs'],
    `one ThumbnailJob group, in the worker (got ${summary}; warnings: ${report.warnings.join(' | ')})`,
  );
  const g = jobs[0];
  assert.strictEqual(g.owner.name, 'jobs');
  assert.strictEqual(g.growthPerRound, PER_ROUND);
  assert.deepStrictEqual(
    g.newPerRound,
    [PER_ROUND, PER_ROUND],
    'object ids stayed comparable across the worker snapshots',
  );
  assert.deepStrictEqual(
    [g.owner.location?.file, g.owner.location?.line],
    [workerFile, lineOf(workerFile, 'const jobs = new Map()')],
  );
  const site = g.allocationSites[0];
  assert.deepStrictEqual(
    [site?.location?.file, site?.location?.line],
    [workerFile, lineOf(workerFile, 'new ThumbnailJob(')],
  );
  assert.deepStrictEqual(
    report.threads?.map((t) => [t.name, t.snapshots.length]),
    [
      ['main', ROUNDS + 1],
      ['worker 1 jobs', ROUNDS + 1],
    ],
  );

  // The worker that exited during the first round was snapshotted at the baseline only, and is not compared.
  assert.ok(
    report.warnings.includes(
      `worker 2 short was alive in 1 of ${ROUNDS + 1} snapshots, so it was not compared (only workers alive at every snapshot are)`,
    ),
    `a warning names the short-lived worker (warnings: ${report.warnings.join(' | ')})`,
  );
  assert.ok(!report.leaks.some((l) => l.thread === 'worker 2 short'));

  // A snapshot of each worker beside each of the main thread's, each with a sidecar naming its thread.
  assert.strictEqual(result.snapshots.length, ROUNDS + 1);
  assert.deepStrictEqual(result.workerSnapshots.map((w) => [w.name, w.files.map((f) => f !== undefined)]).sort(), [
    ['worker 1 jobs', [true, true, true]],
    ['worker 2 short', [true, false, false]],
  ]);
  const jobsFiles = result.workerSnapshots.find((w) => w.name === 'worker 1 jobs')!.files;
  const folder = fs.realpathSync(result.snapshots[0].replace(/\/[^/]+$/, ''));
  for (const file of jobsFiles) {
    assert.ok(file && fs.existsSync(file), `worker snapshot ${file} exists`);
    assert.strictEqual(
      fs.realpathSync(file.replace(/\/[^/]+$/, '')),
      folder,
      'worker snapshots go to the snapshot folder',
    );
    const meta = JSON.parse(fs.readFileSync(`${file}.meta.json`, 'utf8')) as { thread?: { id: string; title: string } };
    assert.strictEqual(meta.thread?.id, '1');
    assert.match(meta.thread?.title ?? '', /^\[worker 1\] jobs/);
  }
}

async function checkReportDocument(result: FindLeaksResult): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(result.reportUri);
  assert.match(doc.getText(), /ThumbnailJob ×[\d,]+ \(\+100 per round\).*\(thread: worker 1 jobs\)/);
}

suite('worker threads', () => {
  suiteSetup(async () => {
    await api();
  });

  teardown(async () => {
    await stopAllSessions();
  });

  test('js-debug: each worker is a child session of the process; Find Leaks reports the leak in the worker', async () => {
    const port = await freePort();
    const name = 'worker-jobs (pwa-node)';
    const listening = outputContaining(`worker-jobs listening on http://127.0.0.1:${port}`);
    const workerStarted = nextEvent(
      vscode.debug.onDidStartDebugSession,
      (s) => s.name === '[worker 1] jobs',
      45_000,
      'a js-debug session of worker 1',
    );
    const shortStarted = nextEvent(
      vscode.debug.onDidStartDebugSession,
      (s) => s.name === '[worker 2] short',
      45_000,
      'a js-debug session of worker 2',
    );
    const processSession = await startPwaNode(fixture('worker-jobs.js'), { PORT: String(port), ...PROGRAM_ENV }, name);
    const [worker, short] = await Promise.all([workerStarted, shortStarted]);
    // What js-debug does with worker threads, which the extension relies on: a child session of the process's.
    for (const w of [worker, short]) {
      assert.strictEqual(
        w.parentSession?.id,
        processSession.id,
        `the worker session "${w.name}" is a child of the process session`,
      );
      assert.strictEqual(w.type, 'pwa-node');
    }
    await listening;

    // Take Heap Snapshot: the main thread, and beside it each worker.
    const taken = await ok<CapturedSnapshot>('leakLens.takeHeapSnapshot', {
      interactive: false,
      label: 'with workers',
    });
    assert.deepStrictEqual(taken.workers.map((w) => w.name).sort(), ['worker 1 jobs', 'worker 2 short']);
    assert.strictEqual(
      taken.workers.find((w) => w.name === 'worker 1 jobs')?.file,
      taken.file.replace(/\.heapsnapshot$/, '.worker1.heapsnapshot'),
    );

    const workload = `node load.js http://127.0.0.1:${port}/ ${PER_ROUND}`;
    const result = await ok<FindLeaksResult>('leakLens.findLeaks', {
      interactive: false,
      rounds: ROUNDS,
      workload,
      workloadCwd: workspaceDir(),
      trackAllocations: true,
    });
    checkWorkerLeak(result);
    await checkReportDocument(result);
  });

  test('leak-lens launch: Find Leaks reports the leak in the worker', async () => {
    const port = await freePort();
    const listening = outputContaining(`worker-jobs listening on http://127.0.0.1:${port}`);
    await startLeakLens({
      request: 'launch',
      name: 'worker-jobs (leak-lens)',
      program: fixture('worker-jobs.js'),
      env: { PORT: String(port), ...PROGRAM_ENV },
    });
    await listening;
    const workload = `node load.js http://127.0.0.1:${port}/ ${PER_ROUND}`;
    const result = await ok<FindLeaksResult>('leakLens.findLeaks', {
      interactive: false,
      rounds: ROUNDS,
      workload,
      workloadCwd: workspaceDir(),
      trackAllocations: true,
    });
    checkWorkerLeak(result);
    await checkReportDocument(result);
  });
});
