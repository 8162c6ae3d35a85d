import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EngineClient } from '../../engine/client';
import { lastSnapshotOfThread, type SourceLocation, type ToWebview, type WebviewAnswer } from '../../protocol/webview';
import { PanelController, pageOf } from '../../src/extension/webview/controller';
import { fixture } from '../helpers/fixtures';
import type { LeakReport } from '../../protocol/report';

/** A controller on the real engine, recording what it posts, opens and logs. */
function harness(engine: EngineClient) {
  const posted: ToWebview[] = [];
  const opened: SourceLocation[] = [];
  const logs: string[] = [];
  const controller = new PanelController(engine, {
    post: (m) => posted.push(m),
    openLocation: (l) => void opened.push(l),
    log: (level, m) => logs.push(`${level}: ${m}`),
  });
  let id = 0;
  const ask = async (query: unknown): Promise<WebviewAnswer<unknown>> => {
    const n = ++id;
    await controller.handle({ type: 'query', id: n, query });
    const a = posted.find((m): m is Extract<ToWebview, { type: 'answer' }> => m.type === 'answer' && m.id === n);
    assert.ok(a, `no answer to ${JSON.stringify(query)}; logs: ${logs.join('; ')}`);
    return a.answer;
  };
  return { controller, posted, opened, logs, ask };
}

describe('panel controller on the real engine', () => {
  let engine: EngineClient;
  let files: string[];
  let report: LeakReport;

  before(async () => {
    engine = new EngineClient(1024);
    files = fixture('basic-leak').files;
    const a = await engine.request({ kind: 'analyze', files });
    assert.ok(a.ok, !a.ok ? a.error : '');
    report = a.value;
  });
  after(() => engine.dispose());

  test('after ready it sends the state: views follow the input, snapshots by label only', async () => {
    const h = harness(engine);
    h.controller.setInput({ title: 'basic-leak', report });
    assert.equal(h.posted.length, 0, 'nothing is posted before the webview is ready');
    await h.controller.handle({ type: 'ready' });
    const state = h.posted[0];
    assert.equal(state.type, 'state');
    const s = state.type === 'state' ? state.state : undefined;
    assert.deepEqual(s?.views, ['leaks', 'growth', 'retainers', 'summary', 'comparison', 'timeline']);
    assert.equal(s?.initialView, 'leaks');
    assert.equal(s?.snapshots.length, 3);
    assert.deepEqual(Object.keys(s!.snapshots[0]).sort(), ['detail', 'label', 'nodeCount', 'time', 'totalSize']);
    // Beside its label, a snapshot's file name (for pickers), never where the file is.
    assert.deepEqual(
      s!.snapshots.map((x) => x.detail),
      ['s1.heapsnapshot', 's2.heapsnapshot', 's3.heapsnapshot'],
    );
    assert.equal(s?.timeline?.samples.time.length, 3, 'the memory figures of each snapshot make a timeline');
    assert.deepEqual(
      s?.timeline?.samples.heapUsed,
      report.snapshots.map((x) => x.memoryUsage!.heapUsed),
    );
  });

  test('summary pages are sorted and filtered as asked, matching the engine figures', async () => {
    const h = harness(engine);
    h.controller.setInput({ report });
    const full = await engine.request({ kind: 'summary', file: files[2], offset: 0, limit: 1e6 });
    assert.ok(full.ok);
    const byCount = await h.ask({
      kind: 'summary',
      snapshot: 2,
      offset: 0,
      limit: 10,
      sort: { key: 'count', dir: 'desc' },
    });
    assert.ok(byCount.ok);
    const page = byCount.value as { total: number; items: { className: string; count: number }[] };
    assert.equal(page.total, full.value.total);
    assert.equal(page.items[0].count, Math.max(...full.value.items.map((r) => r.count)));
    for (let i = 1; i < page.items.length; i++) assert.ok(page.items[i - 1].count >= page.items[i].count);
    const second = await h.ask({
      kind: 'summary',
      snapshot: 2,
      offset: 10,
      limit: 10,
      sort: { key: 'count', dir: 'desc' },
    });
    assert.ok(second.ok);
    assert.ok((second.value as typeof page).items[0].count <= page.items[9].count);
    const filtered = await h.ask({ kind: 'summary', snapshot: 2, offset: 0, limit: 10, filter: 'connect' });
    assert.ok(filtered.ok);
    assert.ok((filtered.value as typeof page).items.some((r) => r.className === 'Connection'));
    assert.ok((filtered.value as typeof page).items.every((r) => /connect/i.test(r.className)));
  });

  test('comparison, objects, retainers and paths come from the engine; bad snapshot indexes are answered as errors', async () => {
    const h = harness(engine);
    h.controller.setInput({ report });
    const cmp = await h.ask({
      kind: 'compare',
      base: 0,
      target: 2,
      offset: 0,
      limit: 500,
      sort: { key: 'countDelta', dir: 'desc' },
    });
    assert.ok(cmp.ok);
    const conn = (cmp.value as { items: { className: string; countDelta: number }[] }).items.find(
      (r) => r.className === 'Connection',
    );
    assert.equal(conn?.countDelta, 200);
    const objects = await h.ask({ kind: 'objects', snapshot: 2, className: 'Connection', offset: 0, limit: 5 });
    assert.ok(objects.ok);
    assert.equal((objects.value as { items: unknown[] }).items.length, 5);
    const group = report.leaks.find((l) => l.className === 'Connection')!;
    const retainers = await h.ask({ kind: 'retainers', snapshot: 2, nodeId: group.sampleIds[0], offset: 0, limit: 50 });
    assert.ok(retainers.ok);
    assert.ok((retainers.value as { items: { node: string }[] }).items.some((r) => r.node === 'Array'));
    const path = await h.ask({ kind: 'retainerPath', snapshot: 2, nodeId: group.sampleIds[0] });
    assert.ok(path.ok);
    const gone = await h.ask({ kind: 'retainers', snapshot: 0, nodeId: group.sampleIds[0], offset: 0, limit: 10 });
    assert.deepEqual(
      gone,
      { ok: false, error: `no object with id @${group.sampleIds[0]} in s1` },
      'an object allocated later is not in the baseline; the error names the snapshot, not its path',
    );
    const missing = await h.ask({ kind: 'summary', snapshot: 7, offset: 0, limit: 10 });
    assert.deepEqual(missing, { ok: false, error: 'there is no snapshot 7 in this panel' });
    const same = await h.ask({ kind: 'compare', base: 1, target: 1, offset: 0, limit: 10 });
    assert.equal(same.ok, false);
  });

  test("a report over worker threads: the engine analyses each thread alone; the panel lists each worker's snapshots after the main thread's and explores a worker's group in them", async () => {
    // chains-collections' snapshots stand in for a worker thread's: another heap, with object ids of its own.
    const worker = fixture('chains-collections').files;
    const note =
      'worker 2 short was alive in 1 of 3 snapshots, so it was not compared (only workers alive at every snapshot are)';
    const a = await engine.request({
      kind: 'analyze',
      files,
      threads: [{ name: 'worker 1 jobs', files: worker }],
      threadNotes: [note],
    });
    assert.ok(a.ok, !a.ok ? a.error : '');
    const threaded = a.value;
    assert.deepEqual(
      threaded.threads?.map((t) => [t.name, t.snapshots.map((x) => x.file)]),
      [
        ['main', files],
        ['worker 1 jobs', worker],
      ],
    );
    assert.ok(threaded.warnings.includes(note));
    assert.ok(threaded.leaks.some((l) => l.thread === 'main' && l.className === 'Connection'));
    const group = threaded.leaks.find((l) => l.thread === 'worker 1 jobs');
    assert.ok(
      group,
      `a group of the worker thread (got ${JSON.stringify(threaded.leaks.map((l) => [l.className, l.thread]))})`,
    );

    const h = harness(engine);
    h.controller.setInput({ report: threaded });
    await h.controller.handle({ type: 'ready' });
    const state = h.posted[0].type === 'state' ? h.posted[0].state : undefined;
    const labels = state?.snapshots.map((x) => x.label) ?? [];
    assert.equal(labels.length, 6);
    assert.ok(
      labels.slice(3).every((l) => l.endsWith(' (worker 1 jobs)')),
      labels.join(', '),
    );
    assert.ok(
      labels.slice(0, 3).every((l) => !l.includes('worker')),
      labels.join(', '),
    );
    assert.equal(lastSnapshotOfThread(threaded, 'main'), 2);
    assert.equal(lastSnapshotOfThread(threaded, undefined), 2);
    assert.equal(lastSnapshotOfThread(threaded, group.thread), 5);
    // The worker's object is asked for in the worker's last snapshot, where it is.
    const path = await h.ask({
      kind: 'retainerPath',
      snapshot: lastSnapshotOfThread(threaded, group.thread),
      nodeId: group.sampleIds[0],
    });
    assert.ok(path.ok, !path.ok ? path.error : '');
    const summary = await h.ask({ kind: 'summary', snapshot: 5, offset: 0, limit: 500 });
    assert.ok(summary.ok);
    assert.ok((summary.value as { items: { className: string }[] }).items.some((r) => r.className === group.className));
  });

  test('it opens only locations it sent, with their generated position; other requests are logged and dropped', async () => {
    const h = harness(engine);
    h.controller.setInput({ report });
    const owner = report.leaks[0].owner.location!;
    await h.controller.handle({ type: 'openLocation', file: owner.file, line: owner.line, column: owner.column });
    assert.deepEqual(h.opened, [owner]);
    await h.controller.handle({ type: 'openLocation', file: '/etc/passwd', line: 1, column: 1 });
    await h.controller.handle({ type: 'openLocation', file: owner.file + '.evil', line: 1, column: 1 });
    await h.controller.handle({ type: 'query', id: 1, query: { kind: 'analyze', files: ['/etc/shadow'] } });
    await h.controller.handle({ type: 'shell', command: 'rm -rf ~' });
    assert.equal(h.opened.length, 1);
    assert.equal(h.posted.filter((m) => m.type === 'answer').length, 0);
    assert.equal(h.logs.length, 4, h.logs.join('\n'));
    assert.ok(h.logs.every((l) => l.startsWith('warn: ')));
  });

  test('a snapshot opened alone (the custom editor) is loaded on the first page, with progress and its figures', async () => {
    const h = harness(engine);
    const lone = fixture('clean-churn', { snapshots: 2 }).files[1];
    h.controller.setInput({
      title: 's2.heapsnapshot',
      snapshots: [{ file: lone, label: 's2.heapsnapshot' }],
      views: ['summary', 'retainers'],
    });
    await h.controller.handle({ type: 'ready' });
    const a = await h.ask({ kind: 'summary', snapshot: 0, offset: 0, limit: 20 });
    assert.ok(a.ok);
    assert.ok(
      h.posted.some((m) => m.type === 'progress' && m.id === 1 && m.stage === 'parse'),
      'parse progress reaches the webview',
    );
    const figures = h.posted.find((m) => m.type === 'snapshots');
    assert.ok(figures && figures.type === 'snapshots' && figures.snapshots[0].totalSize! > 0);
  });

  test('a cancelled query gets no answer; a disposed controller posts nothing', async () => {
    const h = harness(engine);
    const lone = fixture('clean-churn', { snapshots: 2 }).files[0];
    h.controller.setInput({ snapshots: [{ file: lone }] });
    const pending = h.controller.handle({
      type: 'query',
      id: 9,
      query: { kind: 'summary', snapshot: 0, offset: 0, limit: 5 },
    });
    await h.controller.handle({ type: 'cancel', id: 9 });
    await pending;
    assert.equal(h.posted.filter((m) => m.type === 'answer').length, 0);
    h.controller.dispose();
    await h.controller.handle({ type: 'ready' });
    assert.equal(h.posted.filter((m) => m.type === 'state').length, 0);
  });

  test('live samples are kept in a bounded history and replayed to a restarted webview', async () => {
    const h = harness(engine);
    const small = new PanelController(
      engine,
      { post: (m) => h.posted.push(m), openLocation: () => undefined, log: () => undefined },
      64,
    );
    small.setInput({ live: true, title: 'live' });
    const t0 = Date.now();
    for (let i = 0; i < 1000; i++)
      small.addSamples([
        { time: t0 + i * 1000, heapUsed: 1e6 + i, heapTotal: 2e6, rss: 5e7, external: 1e5, arrayBuffers: 1e4 },
      ]);
    small.addSamples([], [{ time: t0 + 500_000, kind: 'gc' }]);
    assert.equal(h.posted.length, 0);
    await small.handle({ type: 'ready' });
    const state = h.posted[0];
    assert.ok(state.type === 'state' && state.state.timeline?.live);
    const times = state.type === 'state' ? state.state.timeline!.samples.time : [];
    assert.ok(times.length <= 64 && times.length > 16, String(times.length));
    assert.equal(times[times.length - 1], t0 + 999_000);
    assert.deepEqual(state.type === 'state' && state.state.views, ['timeline']);
    small.addSamples([{ time: t0 + 1_000_000, heapUsed: 1, heapTotal: 2 }]);
    assert.equal(h.posted[1].type, 'samples');
  });
});

test('pageOf sorts numbers and names both ways, with ties broken by name', () => {
  const rows = [
    { className: 'b', count: 2 },
    { className: 'a', count: 2 },
    { className: 'c', count: 9 },
  ] as unknown as Parameters<typeof pageOf>[0];
  assert.deepEqual(
    pageOf(rows, 0, 10, { key: 'count', dir: 'desc' }).items.map((r) => r.className),
    ['c', 'a', 'b'],
  );
  assert.deepEqual(
    pageOf(rows, 0, 10, { key: 'className', dir: 'desc' }).items.map((r) => r.className),
    ['c', 'b', 'a'],
  );
  assert.deepEqual(pageOf(rows, 1, 1, { key: 'count', dir: 'asc' }), { total: 3, offset: 1, items: [rows[0]] });
});
