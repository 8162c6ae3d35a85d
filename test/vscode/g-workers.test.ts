/// <reference types="mocha" />
/**
 * A leak inside a worker thread, found by Find Leaks in both kinds of sessions: js-debug (each worker is a child
 * session of the process's session, with a CDP proxy of its own) and a `leak-lens` launch (the adapter follows the
 * workers through the NodeWorker domain). worker-jobs.js keeps its main thread's heap flat; its worker keeps every
 * ThumbnailJob in `jobs`. The report must name the worker thread, the owner and the allocation line in the worker's
 * file, and every worker snapshot must have a sidecar naming its thread.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as vscode from 'vscode';
import type { FindLeaksResult } from '../../src/commands/findLeaks';
import type { CapturedSnapshot } from '../../src/commands/common';
import { api, fixture, freePort, nextEvent, ok, startLeakLens, startPwaNode, stopAllSessions, workspaceDir } from './helpers';

const ROUNDS = 2;
const PER_ROUND = 100;

/** The 1-based line of the first line of `file` that contains `text`. */
function lineOf(file: string, text: string): number {
  const index = fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(text));
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
  assert.deepStrictEqual(g.newPerRound, [PER_ROUND, PER_ROUND], 'object ids stayed comparable across the worker snapshots');
  assert.deepStrictEqual([g.owner.location?.file, g.owner.location?.line], [workerFile, lineOf(workerFile, 'const jobs = new Map()')]);
  const site = g.allocationSites[0];
  assert.deepStrictEqual([site?.location?.file, site?.location?.line], [workerFile, lineOf(workerFile, 'new ThumbnailJob(')]);
  assert.deepStrictEqual(
    report.threads?.map((t) => [t.name, t.snapshots.length]),
    [
      ['main', ROUNDS + 1],
      ['worker 1 jobs', ROUNDS + 1],
    ],
  );

  // A snapshot of the worker beside each of the main thread's, each with a sidecar naming its thread.
  assert.strictEqual(result.snapshots.length, ROUNDS + 1);
  assert.deepStrictEqual(
    result.workerSnapshots.map((w) => [w.name, w.files.length]),
    [['worker 1 jobs', ROUNDS + 1]],
  );
  const folder = fs.realpathSync(result.snapshots[0].replace(/\/[^/]+$/, ''));
  for (const file of result.workerSnapshots[0].files) {
    assert.ok(file && fs.existsSync(file), `worker snapshot ${file} exists`);
    assert.strictEqual(fs.realpathSync(file.replace(/\/[^/]+$/, '')), folder, 'worker snapshots go to the snapshot folder');
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
    const workerStarted = nextEvent(vscode.debug.onDidStartDebugSession, (s) => /^\[worker \d+\]/.test(s.name), 45_000, 'a js-debug session of the worker');
    const processSession = await startPwaNode(fixture('worker-jobs.js'), { PORT: String(port) }, name);
    const worker = await workerStarted;
    // What js-debug does with worker threads, which the extension relies on.
    assert.strictEqual(worker.parentSession?.id, processSession.id, `the worker session "${worker.name}" is a child of the process session`);
    assert.strictEqual(worker.type, 'pwa-node');
    assert.strictEqual(worker.name, '[worker 1] jobs');
    await listening;

    const taken = await ok<CapturedSnapshot>('leakLens.takeHeapSnapshot', { interactive: false, label: 'with workers' });
    assert.deepStrictEqual(
      taken.workers.map((w) => w.name),
      ['worker 1 jobs'],
    );
    assert.ok(taken.workers[0].file.endsWith('.worker1.heapsnapshot'), taken.workers[0].file);

    const workload = `node load.js http://127.0.0.1:${port}/ ${PER_ROUND}`;
    const result = await ok<FindLeaksResult>('leakLens.findLeaks', { interactive: false, rounds: ROUNDS, workload, workloadCwd: workspaceDir(), trackAllocations: true });
    checkWorkerLeak(result);
    await checkReportDocument(result);
  });

  test('leak-lens launch: Find Leaks reports the leak in the worker', async () => {
    const port = await freePort();
    const listening = outputContaining(`worker-jobs listening on http://127.0.0.1:${port}`);
    await startLeakLens({ request: 'launch', name: 'worker-jobs (leak-lens)', program: fixture('worker-jobs.js'), env: { PORT: String(port) } });
    await listening;
    const workload = `node load.js http://127.0.0.1:${port}/ ${PER_ROUND}`;
    const result = await ok<FindLeaksResult>('leakLens.findLeaks', { interactive: false, rounds: ROUNDS, workload, workloadCwd: workspaceDir(), trackAllocations: true });
    checkWorkerLeak(result);
    await checkReportDocument(result);
  });
});
