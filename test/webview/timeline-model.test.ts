import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TimelineSample } from '../../protocol/webview';
import { estimateLeak, fitLine, TimelineBuffer } from '../../media/src/model/timeline';

const MB = 1024 * 1024;

/**
 * A sampled process with a sawtooth heap: it climbs by `sawtooth` bytes between collections every `gcEvery` samples,
 * while the post-GC floor rises by `heapRate`, and RSS and external memory rise by their own rates (bytes/second).
 */
function sampled(seconds: number, o: { heapRate?: number; rssRate?: number; externalRate?: number; perSecond?: number; sawtooth?: number; gcEvery?: number }): TimelineSample[] {
  const out: TimelineSample[] = [];
  const n = seconds * (o.perSecond ?? 4);
  const t0 = Date.UTC(2026, 0, 1);
  const gcEvery = o.gcEvery ?? 20;
  for (let i = 0; i < n; i++) {
    const t = i / (o.perSecond ?? 4);
    const floor = 20 * MB + (o.heapRate ?? 0) * t;
    const heapUsed = floor + ((i % gcEvery) / gcEvery) * (o.sawtooth ?? 8 * MB);
    out.push({ time: t0 + t * 1000, heapUsed, heapTotal: heapUsed + 10 * MB, rss: 90 * MB + (o.rssRate ?? 0) * t + 4 * MB * Math.sin(i), external: 2 * MB + (o.externalRate ?? 0) * t, arrayBuffers: MB });
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
  assert.equal(Array.from(buf.weight.subarray(0, buf.length)).reduce((a, b) => a + b, 0), samples.length);
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

test('a timeline travels as columns and comes back the same', () => {
  const buf = new TimelineBuffer(64);
  buf.pushAll(sampled(10, { heapRate: 1000 }).map((s) => ({ ...s, heapUsed: Math.round(s.heapUsed), heapTotal: Math.round(s.heapTotal), rss: Math.round(s.rss!) })));
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
