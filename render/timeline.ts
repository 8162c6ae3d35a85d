/**
 * The memory timeline as data: a bounded buffer of samples and the leak-rate estimate drawn from it. Plain
 * TypeScript without the DOM, so the extension host keeps the same bounded history to replay into a new webview.
 *
 * The buffer holds at most `capacity` points in preallocated columns. When it is full, the older half is merged
 * pairwise, so old history gets coarser while recent samples keep full resolution; a session sampled for hours never
 * holds more than `capacity` points. Merged points keep the mean of each series and the minimum heap used (the
 * post-GC floor), which the leak-rate estimate relies on. Push is O(1) amortised; compaction O(capacity).
 */
import { formatBytes } from '../protocol/units';
import type { TimelineColumns, TimelineMarker, TimelineSample } from '../protocol/webview';

export const SERIES_KEYS = ['heapUsed', 'heapTotal', 'rss', 'external', 'arrayBuffers'] as const;
export type SeriesKey = (typeof SERIES_KEYS)[number];

export const DEFAULT_CAPACITY = 12_000;
export const MAX_MARKERS = 500;

export class TimelineBuffer {
  /** Sample time in seconds since the epoch (uPlot's time unit). */
  readonly time: Float64Array;
  readonly series: Record<SeriesKey, Float64Array>;
  /** The lowest heap used among the samples merged into each point. */
  readonly heapFloor: Float64Array;
  /** How many samples each point stands for. */
  readonly weight: Float64Array;
  readonly markers: TimelineMarker[] = [];
  /** Which series ever had a value (rss and external are missing for non-Node targets). */
  readonly present: Record<SeriesKey, boolean> = {
    heapUsed: false,
    heapTotal: false,
    rss: false,
    external: false,
    arrayBuffers: false,
  };
  private count = 0;
  private total = 0;

  constructor(readonly capacity = DEFAULT_CAPACITY) {
    if (capacity < 8) throw new RangeError('timeline capacity must be at least 8');
    this.time = new Float64Array(capacity);
    this.heapFloor = new Float64Array(capacity);
    this.weight = new Float64Array(capacity);
    this.series = {
      heapUsed: new Float64Array(capacity),
      heapTotal: new Float64Array(capacity),
      rss: new Float64Array(capacity),
      external: new Float64Array(capacity),
      arrayBuffers: new Float64Array(capacity),
    };
  }

  /** Points held now (at most `capacity`). */
  get length(): number {
    return this.count;
  }

  /** Samples pushed since the start, merged or not. */
  get samplesSeen(): number {
    return this.total;
  }

  push(sample: TimelineSample): void {
    if (!Number.isFinite(sample.time)) return;
    // Samples arrive in order; a late one is dropped rather than drawn backwards.
    if (this.count > 0 && sample.time / 1000 < this.time[this.count - 1]) return;
    if (this.count === this.capacity) this.compact();
    const i = this.count++;
    this.total++;
    this.time[i] = sample.time / 1000;
    for (const k of SERIES_KEYS) {
      const v = sample[k];
      if (typeof v === 'number' && Number.isFinite(v)) {
        this.series[k][i] = v;
        this.present[k] = true;
      } else this.series[k][i] = i > 0 ? this.series[k][i - 1] : 0;
    }
    this.heapFloor[i] = this.series.heapUsed[i];
    this.weight[i] = 1;
  }

  pushAll(samples: readonly TimelineSample[]): void {
    for (const s of samples) this.push(s);
  }

  addMarker(marker: TimelineMarker): void {
    if (!Number.isFinite(marker.time)) return;
    this.markers.push(marker);
    if (this.markers.length > MAX_MARKERS) this.markers.splice(0, this.markers.length - MAX_MARKERS);
  }

  /** Merges neighbouring points of the older half pairwise. */
  private compact(): void {
    const half = this.count >> 1;
    let w = 0;
    for (let r = 0; r < half; r += 2, w++) {
      if (r + 1 >= half) {
        this.copy(r, w);
        continue;
      }
      const a = this.weight[r];
      const b = this.weight[r + 1];
      const sum = a + b;
      this.time[w] = (this.time[r] * a + this.time[r + 1] * b) / sum;
      for (const k of SERIES_KEYS) {
        const col = this.series[k];
        col[w] = (col[r] * a + col[r + 1] * b) / sum;
      }
      this.heapFloor[w] = Math.min(this.heapFloor[r], this.heapFloor[r + 1]);
      this.weight[w] = sum;
    }
    for (let r = half; r < this.count; r++, w++) this.copy(r, w);
    this.count = w;
  }

  private copy(from: number, to: number): void {
    if (from === to) return;
    this.time[to] = this.time[from];
    for (const k of SERIES_KEYS) this.series[k][to] = this.series[k][from];
    this.heapFloor[to] = this.heapFloor[from];
    this.weight[to] = this.weight[from];
  }

  /** Views of the held points (no copy). */
  column(k: SeriesKey | 'time' | 'heapFloor'): Float64Array {
    const col = k === 'time' ? this.time : k === 'heapFloor' ? this.heapFloor : this.series[k];
    return col.subarray(0, this.count);
  }

  /** Appends samples given as columns (a whole timeline from the extension). */
  pushColumns(c: TimelineColumns): void {
    const n = c.time.length;
    const s: TimelineSample = { time: 0, heapUsed: 0, heapTotal: 0 };
    for (let i = 0; i < n; i++) {
      s.time = c.time[i];
      s.heapUsed = c.heapUsed[i];
      s.heapTotal = c.heapTotal[i];
      s.rss = c.rss?.[i];
      s.external = c.external?.[i];
      s.arrayBuffers = c.arrayBuffers?.[i];
      this.push(s);
    }
  }

  /** The held points as columns, for replaying into a new webview. */
  toColumns(): TimelineColumns {
    const n = this.count;
    const col = (a: Float64Array) => Array.from(a.subarray(0, n), Math.round);
    const out: TimelineColumns = {
      time: Array.from(this.time.subarray(0, n), (t) => Math.round(t * 1000)),
      heapUsed: col(this.series.heapUsed),
      heapTotal: col(this.series.heapTotal),
    };
    if (this.present.rss) out.rss = col(this.series.rss);
    if (this.present.external) out.external = col(this.series.external);
    if (this.present.arrayBuffers) out.arrayBuffers = col(this.series.arrayBuffers);
    return out;
  }

  /** The held points as samples. */
  toSamples(): TimelineSample[] {
    const out: TimelineSample[] = [];
    for (let i = 0; i < this.count; i++) {
      const s: TimelineSample = {
        time: Math.round(this.time[i] * 1000),
        heapUsed: this.series.heapUsed[i],
        heapTotal: this.series.heapTotal[i],
      };
      if (this.present.rss) s.rss = this.series.rss[i];
      if (this.present.external) s.external = this.series.external[i];
      if (this.present.arrayBuffers) s.arrayBuffers = this.series.arrayBuffers[i];
      out.push(s);
    }
    return out;
  }

  clear(): void {
    this.count = 0;
    this.total = 0;
    this.markers.length = 0;
    for (const k of SERIES_KEYS) this.present[k] = false;
  }
}

/** A straight-line fit, value per second. */
export interface Trend {
  perSecond: number;
  /** The fitted value at the first and last point. */
  from: number;
  to: number;
  points: number;
}

/** Least-squares line through (x, y); undefined with fewer than two distinct x. */
export function fitLine(xs: readonly number[], ys: readonly number[]): Trend | undefined {
  const n = xs.length;
  if (n < 2) return undefined;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i];
    my += ys[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  if (sxx === 0) return undefined;
  const slope = sxy / sxx;
  const at = (x: number) => my + slope * (x - mx);
  return { perSecond: slope, from: at(xs[0]), to: at(xs[n - 1]), points: n };
}

/** What the timeline says about growth, in words a person reads without the numbers. */
export interface LeakEstimate {
  /** Where the heap baseline came from: samples right after forced GCs or snapshots, or the lowest point per window. */
  source: 'gc' | 'troughs' | 'none';
  spanSeconds: number;
  heap?: Trend;
  rss?: Trend;
  external?: Trend;
  /** growing: the post-GC heap grows; outside-heap: the heap is flat but RSS or external memory grows. */
  verdict: 'collecting' | 'stable' | 'growing' | 'outside-heap';
  /** The figure that matters, e.g. `Leak rate +1.2 MB/min` or `External memory +20 MB/min`; empty while collecting. */
  headline: string;
  /** One or two sentences for the panel. */
  diagnosis: string;
}

/** Below this many seconds of samples the estimate says it is still collecting. */
export const MIN_SPAN_SECONDS = 20;
const WINDOWS = 12;

function windowMinima(
  buf: TimelineBuffer,
  col: Float64Array,
  t0: number,
  span: number,
): { xs: number[]; ys: number[] } {
  const mins = new Float64Array(WINDOWS).fill(Infinity);
  const at = new Float64Array(WINDOWS);
  const time = buf.column('time');
  for (let i = 0; i < time.length; i++) {
    const w = Math.min(WINDOWS - 1, Math.floor(((time[i] - t0) / span) * WINDOWS));
    if (col[i] < mins[w]) {
      mins[w] = col[i];
      at[w] = time[i];
    }
  }
  const xs: number[] = [];
  const ys: number[] = [];
  for (let w = 0; w < WINDOWS; w++) {
    if (mins[w] === Infinity) continue;
    xs.push(at[w]);
    ys.push(mins[w]);
  }
  return { xs, ys };
}

/** Bytes the way the CLI shows them (binary units). */
export { formatBytes };

/** Formats a rate in bytes per second as a signed rate per minute. */
export function formatRate(perSecond: number): string {
  const perMinute = perSecond * 60;
  return `${perMinute >= 0 ? '+' : '−'}${formatBytes(Math.abs(perMinute))}/min`;
}

/**
 * Estimates the leak rate from the post-GC heap baseline and says in plain words what the growth means. The
 * baseline is the heap used right after each forced GC or snapshot when there are at least three of them;
 * otherwise the lowest heap used in each of twelve time windows (the troughs a collector leaves). Growth counts when
 * the fitted line rises by more than 5% and 1 MB over the span (heap), or 10% and 4 MB (RSS), or 10% and 1 MB
 * (external memory).
 */
export function estimateLeak(buf: TimelineBuffer): LeakEstimate {
  const n = buf.length;
  const time = buf.column('time');
  const span = n > 1 ? time[n - 1] - time[0] : 0;
  // What counts is the time the points span, not how many there are: a report's timeline has one point per snapshot
  // (three for two rounds) over minutes, and a line through them is as good as the snapshots.
  if (n < 2 || span < MIN_SPAN_SECONDS) {
    const sofar = n > 1 ? ` (${formatDuration(span)} so far)` : '';
    return {
      source: 'none',
      spanSeconds: span,
      verdict: 'collecting',
      headline: '',
      diagnosis: `Collecting samples: a leak-rate estimate needs at least ${MIN_SPAN_SECONDS} s of samples${sofar}.`,
    };
  }
  const t0 = time[0];
  // Post-GC points: the first sample at or after each GC or snapshot marker (snapshots force a GC first).
  const gcXs: number[] = [];
  const gcYs: number[] = [];
  let i = 0;
  for (const m of [...buf.markers].sort((a, b) => a.time - b.time)) {
    const t = m.time / 1000;
    while (i < n && time[i] < t) i++;
    if (i >= n) break;
    if (gcXs.length && gcXs[gcXs.length - 1] === time[i]) continue;
    gcXs.push(time[i]);
    gcYs.push(buf.heapFloor[i]);
  }
  let source: LeakEstimate['source'];
  let heap: Trend | undefined;
  if (gcXs.length >= 3 && gcXs[gcXs.length - 1] - gcXs[0] >= MIN_SPAN_SECONDS / 2) {
    source = 'gc';
    heap = fitLine(gcXs, gcYs);
  } else {
    source = 'troughs';
    const m = windowMinima(buf, buf.column('heapFloor'), t0, span);
    heap = fitLine(m.xs, m.ys);
  }
  const trendOf = (k: SeriesKey): Trend | undefined => {
    if (!buf.present[k]) return undefined;
    const m = windowMinima(buf, buf.column(k), t0, span);
    return fitLine(m.xs, m.ys);
  };
  const rss = trendOf('rss');
  const external = trendOf('external');
  const grows = (t: Trend | undefined, ratio: number, bytes: number) => {
    if (!t) return false;
    const rise = t.to - t.from;
    return rise > bytes && rise > ratio * Math.max(1, t.from);
  };
  const heapGrows = grows(heap, 0.05, 1024 * 1024);
  const rssGrows = grows(rss, 0.1, 4 * 1024 * 1024);
  const externalGrows = grows(external, 0.1, 1024 * 1024);
  const base = source === 'gc' ? 'post-GC heap' : 'heap baseline (lowest point per window)';
  const over = `over ${formatDuration(span)}`;
  let verdict: LeakEstimate['verdict'];
  let diagnosis: string;
  let headline: string;
  if (heapGrows) {
    verdict = 'growing';
    headline = `Leak rate ${formatRate(heap!.perSecond)}`;
    diagnosis = `The ${base} grows by ${formatRate(heap!.perSecond)} ${over}: objects survive garbage collection. Take heap snapshots to see which ones and what holds them.`;
  } else if (externalGrows) {
    verdict = 'outside-heap';
    headline = `External memory ${formatRate(external!.perSecond)}`;
    diagnosis = `The JS heap is flat, but external memory grows by ${formatRate(external!.perSecond)} ${over}: memory is held outside the JS heap, in Buffers, ArrayBuffers or a native addon. In a heap snapshot look for Buffer and ArrayBuffer objects and their native sizes.`;
  } else if (rssGrows) {
    verdict = 'outside-heap';
    headline = `RSS ${formatRate(rss!.perSecond)}`;
    diagnosis = `The JS heap is flat, but RSS grows by ${formatRate(rss!.perSecond)} ${over}: memory is held outside the JS heap, by native code such as an addon or the allocator. Heap snapshots will not show it.`;
  } else {
    verdict = 'stable';
    headline = 'No growth';
    diagnosis = `Memory is stable ${over}: the ${base} changes by ${formatRate(heap?.perSecond ?? 0)}.`;
  }
  return { source, spanSeconds: span, heap, rss, external, verdict, headline, diagnosis };
}

export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** A marker label to place: its line's x and its text's width, in CSS pixels. */
export interface LabelRequest {
  x: number;
  width: number;
}

/**
 * Where a label goes: its row (0 nearest the plot), left edge and width; `elided` when its text was cut to fit.
 * `covers` lists the earlier labels (by index) cut to nothing to make room for this one, which speaks for them.
 */
export interface LabelPlace {
  row: number;
  left: number;
  width: number;
  elided: boolean;
  covers: number[];
}

/**
 * Lays out marker labels so that no two overlap: left to right, each label starts at its line (or ends inside the
 * plot at its right edge) in the first of `rows` rows where the row's previous label ends `gap` before it. When no row
 * has room, it goes in the row that frees up first, and that row's previous label is cut to end `gap` before it
 * (to nothing when less than `minWidth` would be left: the new label then covers it, and the ones it covered);
 * cut labels are `elided`, and the view gives them a tooltip. `requests` must be sorted by x. Linear in the number
 * of labels times rows.
 */
export function layoutMarkerLabels(
  requests: readonly LabelRequest[],
  o: { right: number; rows: number; gap: number; minWidth?: number },
): LabelPlace[] {
  const rows = Math.max(1, o.rows);
  const out: LabelPlace[] = [];
  // The index of the last label placed in each row.
  const last: number[] = new Array(rows).fill(-1);
  const end = (row: number) => (last[row] < 0 ? -Infinity : out[last[row]].left + out[last[row]].width);
  for (const r of requests) {
    const width = Math.max(0, r.width);
    let left = Math.max(0, Math.min(r.x, o.right - width));
    let row = last.findIndex((_, i) => end(i) + o.gap <= left);
    let elided = false;
    const covers: number[] = [];
    if (row < 0) {
      row = 0;
      for (let i = 1; i < rows; i++) if (end(i) < end(row)) row = i;
      const prevIndex = last[row];
      const prev = out[prevIndex];
      // Never start left of the label it cuts, so that the labels before that one stay clear too.
      left = Math.max(left, prev.left);
      const room = Math.max(0, left - o.gap - prev.left);
      if (room < prev.width) {
        prev.width = room < (o.minWidth ?? 0) ? 0 : room;
        prev.elided = true;
        if (prev.width === 0) {
          covers.push(...prev.covers, prevIndex);
          prev.covers = [];
        }
      }
    }
    let w = width;
    if (left + w > o.right) {
      w = Math.max(0, o.right - left);
      elided = true;
    }
    last[row] = out.length;
    out.push({ row, left, width: w, elided, covers });
  }
  return out;
}
