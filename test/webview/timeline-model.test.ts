import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TimelineSample } from '../../protocol/webview';
import { estimateLeak, fitLine, layoutMarkerLabels, TimelineBuffer } from '../../render/timeline';

const MB = 1024 * 1024;

/**
 * A sampled process with a sawtooth heap: it climbs by `sawtooth` bytes between collections every `gcEvery` samples,
 * while the post-GC floor rises by `heapRate`, and RSS and external memory rise by their own rates (bytes/second).
 */
function sampled(
  seconds: number,
  o: {
    heapRate?: number;
    rssRate?: number;
    externalRate?: number;
    perSecond?: number;
    sawtooth?: number;
    gcEvery?: number;
  },
): TimelineSample[] {
  const out: TimelineSample[] = [];
  const n = seconds * (o.perSecond ?? 4);
  const t0 = Date.UTC(2026, 0, 1);
  const gcEvery = o.gcEvery ?? 20;
  for (let i = 0; i < n; i++) {
    const t = i / (o.perSecond ?? 4);
    const floor = 20 * MB + (o.heapRate ?? 0) * t;
    const heapUsed = floor + ((i % gcEvery) / gcEvery) * (o.sawtooth ?? 8 * MB);
    out.push({
      time: t0 + t * 1000,
      heapUsed,
      heapTotal: heapUsed + 10 * MB,
      rss: 90 * MB + (o.rssRate ?? 0) * t + 4 * MB * Math.sin(i),
      external: 2 * MB + (o.externalRate ?? 0) * t,
      arrayBuffers: MB,
    });
  }
  return out;
}

test('the buffer never holds more than its capacity, keeps recent samples whole and old ones merged', () => {
  const buf = new TimelineBuffer(1000);
  const samples = sampled(2000, { perSecond: 10 });
  buf.pushAll(samples);
  assert.ok(buf.length <= 1000, String(buf.length));
  assert.equal(buf.samplesSeen, samples.length);
  const time = buf.column('time');
  for (let i = 1; i < time.length; i++) assert.ok(time[i] > time[i - 1], 'time stays in order');
  // The newest samples are kept as they came.
  assert.equal(time[time.length - 1], samples[samples.length - 1].time / 1000);
  assert.equal(buf.series.heapUsed[buf.length - 1], samples[samples.length - 1].heapUsed);
  // Merged points stand for many samples, and the weights add up to every sample seen.
  assert.ok(buf.weight[0] > 1);
  assert.equal(
    Array.from(buf.weight.subarray(0, buf.length)).reduce((a, b) => a + b, 0),
    samples.length,
  );
  // The floor of merged points is the lowest heap used among them: the post-GC baseline survives merging.
  assert.ok(buf.heapFloor[0] <= buf.series.heapUsed[0]);
  assert.equal(Math.min(...buf.column('heapFloor')), Math.min(...samples.map((s) => s.heapUsed)));
});

test('a late sample and a missing series do not corrupt the buffer', () => {
  const buf = new TimelineBuffer(16);
  buf.push({ time: 2000, heapUsed: 5, heapTotal: 10 });
  buf.push({ time: 1000, heapUsed: 6, heapTotal: 10 });
  buf.push({ time: Number.NaN, heapUsed: 6, heapTotal: 10 });
  assert.equal(buf.length, 1);
  assert.equal(buf.present.rss, false);
  assert.deepEqual(buf.toSamples(), [{ time: 2000, heapUsed: 5, heapTotal: 10 }]);
});

test('fitLine recovers a slope', () => {
  const f = fitLine([0, 1, 2, 3], [1, 3, 5, 7])!;
  assert.equal(f.perSecond, 2);
  assert.equal(f.from, 1);
  assert.equal(f.to, 7);
  assert.equal(fitLine([1, 1], [2, 3]), undefined);
});

test('a growing post-GC heap is a leak rate; a sawtooth that returns to its floor is stable', () => {
  const leaking = new TimelineBuffer();
  leaking.pushAll(sampled(300, { heapRate: 20 * 1024 }));
  const e = estimateLeak(leaking);
  assert.equal(e.verdict, 'growing');
  assert.equal(e.source, 'troughs');
  assert.ok(Math.abs(e.heap!.perSecond - 20 * 1024) < 2 * 1024, String(e.heap!.perSecond));
  assert.match(e.diagnosis, /grows by \+1\.2 MB\/min/);
  assert.equal(e.headline, 'Leak rate +1.2 MB/min');

  const stable = new TimelineBuffer();
  stable.pushAll(sampled(300, { sawtooth: 30 * MB }));
  const s = estimateLeak(stable);
  assert.equal(s.verdict, 'stable');
  assert.match(s.diagnosis, /Memory is stable over 5 min/);
  assert.equal(s.headline, 'No growth');
});

test('the baseline comes from the samples after forced GCs when there are markers', () => {
  const buf = new TimelineBuffer();
  const samples = sampled(120, { heapRate: 50 * 1024, sawtooth: 0 });
  buf.pushAll(samples);
  for (let s = 10; s < 120; s += 20) buf.addMarker({ time: samples[s * 4].time, kind: 'gc' });
  const e = estimateLeak(buf);
  assert.equal(e.source, 'gc');
  assert.equal(e.verdict, 'growing');
  assert.ok(Math.abs(e.heap!.perSecond - 50 * 1024) < 1024);
  assert.match(e.diagnosis, /post-GC heap grows/);
});

test('a flat heap with growing external memory or RSS is memory outside the JS heap, said in plain words', () => {
  const external = new TimelineBuffer();
  external.pushAll(sampled(120, { externalRate: 200 * 1024, rssRate: 200 * 1024 }));
  const e = estimateLeak(external);
  assert.equal(e.verdict, 'outside-heap');
  assert.match(e.diagnosis, /JS heap is flat, but external memory grows .* outside the JS heap, in Buffers/);
  assert.equal(e.headline, 'External memory +11.7 MB/min');

  const rss = new TimelineBuffer();
  rss.pushAll(sampled(120, { rssRate: 400 * 1024 }));
  const r = estimateLeak(rss);
  assert.equal(r.verdict, 'outside-heap');
  assert.match(r.diagnosis, /JS heap is flat, but RSS grows .* native code/);
});

test('with too few seconds of samples the estimate says it is still collecting', () => {
  const buf = new TimelineBuffer();
  buf.pushAll(sampled(5, { heapRate: MB }));
  assert.equal(estimateLeak(buf).verdict, 'collecting');
});

test("a report's few points over minutes give an estimate: the span counts, not the number of points", () => {
  // A report's timeline: one point per snapshot (baseline and two rounds), six minutes apart, a snapshot marker at each.
  const t0 = Date.UTC(2026, 0, 1);
  const points = [0, 360, 720].map((s, i) => ({
    time: t0 + s * 1000,
    heapUsed: 20 * MB + i * 6 * MB,
    heapTotal: 40 * MB,
  }));
  const buf = new TimelineBuffer(8);
  buf.pushAll(points);
  for (const p of points) buf.addMarker({ time: p.time, kind: 'snapshot' });
  const e = estimateLeak(buf);
  assert.notEqual(e.verdict, 'collecting', e.diagnosis);
  assert.equal(e.spanSeconds, 720);
  assert.equal(e.verdict, 'growing');
  assert.equal(e.source, 'gc');
  assert.match(e.headline, /^Leak rate \+1(\.0)? MB\/min$/);
  // Two points are a line too; one is not, and neither is a span under 20 s.
  const two = new TimelineBuffer(8);
  two.pushAll([points[0], points[2]]);
  assert.equal(estimateLeak(two).verdict, 'growing');
  const one = new TimelineBuffer(8);
  one.push(points[0]);
  assert.equal(estimateLeak(one).verdict, 'collecting');
  const short = new TimelineBuffer(8);
  short.pushAll(points.map((p, i) => ({ ...p, time: t0 + i * 5000 })));
  assert.match(estimateLeak(short).diagnosis, /needs at least 20 s of samples \(10 s so far\)/);
});

test('marker labels are laid out so that no two overlap: rows first, then cut with an ellipsis', () => {
  const overlaps = (places: ReturnType<typeof layoutMarkerLabels>) => {
    for (let i = 0; i < places.length; i++)
      for (let j = i + 1; j < places.length; j++) {
        const a = places[i];
        const b = places[j];
        if (a.row === b.row && a.width > 0 && b.width > 0 && a.left < b.left + b.width && b.left < a.left + a.width)
          return `${i} and ${j}: ${JSON.stringify([a, b])}`;
      }
    return undefined;
  };
  // "after round 1" and "after round 2" a few pixels apart: the second goes to the next row, whole.
  const two = layoutMarkerLabels(
    [
      { x: 100, width: 80 },
      { x: 104, width: 80 },
    ],
    { right: 1000, rows: 3, gap: 8 },
  );
  assert.deepEqual(
    two.map((p) => [p.row, p.left, p.width, p.elided, p.covers]),
    [
      [0, 100, 80, false, []],
      [1, 104, 80, false, []],
    ],
  );
  // Far apart: one row.
  assert.deepEqual(
    layoutMarkerLabels(
      [
        { x: 0, width: 50 },
        { x: 200, width: 50 },
      ],
      { right: 1000, rows: 3, gap: 8 },
    ).map((p) => p.row),
    [0, 0],
  );
  // The last label ends inside the plot.
  const edge = layoutMarkerLabels([{ x: 990, width: 60 }], { right: 1000, rows: 3, gap: 8 });
  assert.deepEqual([edge[0].left, edge[0].width], [940, 60]);
  // Many crowded lines: every row used, earlier labels cut, none overlapping, none wider than its text.
  for (const n of [5, 20, 200]) {
    const requests = Array.from({ length: n }, (_, i) => ({ x: 50 + i * 2, width: 70 + (i % 3) * 10 }));
    const places = layoutMarkerLabels(requests, { right: 600, rows: 3, gap: 8 });
    assert.equal(places.length, n);
    assert.equal(overlaps(places), undefined);
    assert.ok(
      places.every(
        (p, i) => p.width <= requests[i].width && p.left >= 0 && p.left + p.width <= 600 && p.row >= 0 && p.row < 3,
      ),
    );
    assert.ok(
      places.some((p) => p.elided),
      'crowded labels are cut',
    );
    // The last label is always whole: nothing comes after it.
    assert.equal(places[n - 1].width, requests[n - 1].width);
  }
  // With a minimum width, a label cut below it is dropped and the label that took its place covers it (and what it covered).
  const dropped = layoutMarkerLabels(
    [0, 2, 4, 6].map((x) => ({ x, width: 80 })),
    { right: 1000, rows: 2, gap: 8, minWidth: 28 },
  );
  assert.deepEqual(
    dropped.map((p) => [p.row, p.width, p.covers]),
    [
      [0, 0, []],
      [1, 0, []],
      [0, 80, [0]],
      [1, 80, [1]],
    ],
  );
  const chain = layoutMarkerLabels(
    [0, 2, 4].map((x) => ({ x, width: 80 })),
    { right: 1000, rows: 1, gap: 8, minWidth: 28 },
  );
  assert.deepEqual(
    chain.map((p) => [p.width, p.covers]),
    [
      [0, []],
      [0, []],
      [80, [0, 1]],
    ],
  );
  // Crowded at the right edge too.
  const right = layoutMarkerLabels(
    Array.from({ length: 30 }, (_, i) => ({ x: 560 + i, width: 90 })),
    { right: 600, rows: 3, gap: 8 },
  );
  assert.equal(overlaps(right), undefined);
  assert.ok(right.every((p) => p.left + p.width <= 600));
});

test('a timeline travels as columns and comes back the same', () => {
  const buf = new TimelineBuffer(64);
  buf.pushAll(
    sampled(10, { heapRate: 1000 }).map((s) => ({
      ...s,
      heapUsed: Math.round(s.heapUsed),
      heapTotal: Math.round(s.heapTotal),
      rss: Math.round(s.rss!),
    })),
  );
  const cols = buf.toColumns();
  assert.equal(cols.time.length, buf.length);
  const copy = new TimelineBuffer(64);
  copy.pushColumns(cols);
  assert.deepEqual(copy.toSamples(), buf.toSamples());
  // A target without RSS or external figures sends no such columns.
  const bare = new TimelineBuffer(16);
  bare.push({ time: 1000, heapUsed: 1, heapTotal: 2 });
  assert.deepEqual(bare.toColumns(), { time: [1000], heapUsed: [1], heapTotal: [2] });
});
