/**
 * The memory timeline: heap used and total, RSS, external memory and array buffers over time, with markers for
 * snapshots and forced GCs, a leak-rate estimate from the post-GC baseline and a plain-words diagnosis. Samples live
 * in a bounded buffer (render/timeline.ts) and are drawn at most once per frame, so hours of sampling neither grow the
 * webview's memory without bound nor redraw per sample.
 */
import type { TimelineColumns, TimelineMarker, TimelineSample } from '../../../protocol/webview';
import type { App } from '../app';
import { byteAxis, chartTheme, ChartTheme, followWidth, onThemeChange, timeAxis, uPlot } from '../chart';
import { formatBytes, h, replace } from '../dom';
import {
  estimateLeak,
  formatDuration,
  layoutMarkerLabels,
  MIN_SPAN_SECONDS,
  SERIES_KEYS,
  SeriesKey,
  TimelineBuffer,
} from '../../../render/timeline';

const HEIGHT = 280;
/** Rows of snapshot labels above the chart, their height and the space kept between two labels of a row (CSS px). */
const LABEL_ROWS = 3;
const LABEL_LINE = 16;
const LABEL_GAP = 8;
/** A label cut narrower than this is dropped; the label that took its place names it in its tooltip. */
const LABEL_MIN_WIDTH = 28;

const seriesNames: Record<SeriesKey, string> = {
  heapUsed: 'Heap used',
  heapTotal: 'Heap total',
  rss: 'RSS',
  external: 'External',
  arrayBuffers: 'Array buffers',
};
const seriesHelp: Record<SeriesKey, string> = {
  heapUsed: 'JS objects alive on the V8 heap',
  heapTotal: 'Memory V8 reserved for the JS heap',
  rss: 'Resident set size: all memory of the process in RAM',
  external: 'Memory of C++ objects bound to JS objects, Buffers included',
  arrayBuffers: 'ArrayBuffer and Buffer contents (part of external)',
};
const RANGES: { label: string; seconds: number }[] = [
  { label: 'All', seconds: 0 },
  { label: 'Last hour', seconds: 3600 },
  { label: 'Last 10 minutes', seconds: 600 },
  { label: 'Last minute', seconds: 60 },
];

export class TimelineView {
  readonly el: HTMLElement;
  readonly buffer = new TimelineBuffer();
  private readonly chartBox = h('div', { class: 'chart', attrs: { role: 'img', 'aria-label': 'Memory over time' } });
  /** The snapshot labels above the plot, as text (the marker list below says the same for screen readers). */
  private readonly labelsBox = h('div', { class: 'marker-labels', attrs: { 'aria-hidden': 'true' } });
  private labelsKey = '';
  private readonly legend = h('div', { class: 'legend', attrs: { role: 'group', 'aria-label': 'Series' } });
  private readonly estimate = h('div', { class: 'estimate', attrs: { role: 'status', 'aria-live': 'polite' } });
  private readonly markerList = h('ul', {
    class: 'plain markers',
    attrs: { 'aria-label': 'Snapshots and garbage collections' },
  });
  private readonly liveNote = h('span', { class: 'muted' });
  private readonly rangePick = h(
    'select',
    { attrs: { 'aria-label': 'Time range' } },
    ...RANGES.map((r, i) => h('option', { attrs: { value: i } }, r.label)),
  );
  private readonly values = new Map<SeriesKey, HTMLElement>();
  private readonly toggles = new Map<SeriesKey, HTMLInputElement>();
  private chart: uPlot | undefined;
  private theme: ChartTheme | undefined;
  private frame = 0;
  private zoomed = false;
  private live = false;
  private drawnOnce = false;
  private lastEstimate = -Infinity;

  constructor(private readonly app: App) {
    this.rangePick.addEventListener('change', () => {
      this.zoomed = false;
      this.schedule();
    });
    this.el = h(
      'div',
      { class: 'view-body' },
      h('div', { class: 'toolbar' }, this.liveNote, h('label', null, 'Show ', this.rangePick)),
      this.legend,
      this.estimate,
      this.chartBox,
      h('h3', null, 'Snapshots and forced GCs'),
      this.markerList,
    );
    this.chartBox.append(this.labelsBox);
    followWidth(this.chartBox, () => this.chart, HEIGHT);
    onThemeChange(() => this.rebuild());
  }

  /** Replaces the timeline (a new session, or a report's snapshot figures). */
  reset(samples: TimelineColumns, markers: TimelineMarker[], live: boolean): void {
    this.buffer.clear();
    this.live = live;
    this.liveNote.textContent = live ? 'Live: sampling the running program.' : 'Memory at each snapshot of the report.';
    this.buffer.pushColumns(samples);
    for (const m of markers) this.buffer.addMarker(m);
    this.buildLegend();
    this.rebuild();
  }

  add(samples: TimelineSample[], markers: TimelineMarker[] = []): void {
    this.buffer.pushAll(samples);
    for (const m of markers) this.buffer.addMarker(m);
    this.schedule();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private buildLegend(): void {
    replace(this.legend);
    this.values.clear();
    this.toggles.clear();
    const t = this.theme ?? chartTheme();
    SERIES_KEYS.forEach((k, i) => {
      if (!this.buffer.present[k] && this.buffer.length > 0) return;
      const box = h('input', {
        attrs: { type: 'checkbox', checked: k !== 'heapTotal' || !this.live, 'data-series': k },
      });
      box.addEventListener('change', () => {
        const idx = SERIES_KEYS.indexOf(k) + 1;
        this.chart?.setSeries(idx, { show: box.checked });
      });
      const swatch = h('span', { class: 'swatch', attrs: { 'aria-hidden': 'true', 'data-color': i } });
      swatch.style.backgroundColor = t.palette[i % t.palette.length];
      const value = h('span', { class: 'legend-value' }, '–');
      this.values.set(k, value);
      this.toggles.set(k, box);
      this.legend.append(
        h(
          'label',
          { class: 'legend-item', attrs: { title: seriesHelp[k] } },
          box,
          swatch,
          h('span', null, seriesNames[k]),
          value,
        ),
      );
    });
  }

  private rebuild(): void {
    this.chart?.destroy();
    this.chart = undefined;
    this.theme = chartTheme();
    for (const [k, box] of this.toggles) {
      const i = SERIES_KEYS.indexOf(k);
      (box.nextElementSibling as HTMLElement).style.backgroundColor = this.theme.palette[i % this.theme.palette.length];
    }
    const t = this.theme;
    const width = Math.max(300, this.chartBox.clientWidth || 600);
    const opts: uPlot.Options = {
      width,
      height: HEIGHT,
      legend: { show: false },
      // The snapshot labels sit in their own rows above the chart (labelsBox).
      padding: [8, 36, 0, 0],
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true } },
      axes: [timeAxis(t), byteAxis(t)],
      series: [
        {},
        ...SERIES_KEYS.map((k, i): uPlot.Series => ({
          label: seriesNames[k],
          stroke: t.palette[i % t.palette.length],
          width: k === 'heapUsed' ? 2 : 1.5,
          dash: k === 'heapTotal' ? [4, 3] : undefined,
          show: (this.toggles.get(k)?.checked ?? true) && (this.buffer.present[k] || this.buffer.length === 0),
        })),
      ],
      hooks: {
        draw: [(u) => this.drawMarkers(u)],
        setCursor: [(u) => this.showValues(u.cursor.idx ?? undefined)],
        setSelect: [(u) => (this.zoomed = u.select.width > 0 || this.zoomed)],
      },
    };
    this.chart = new uPlot(opts, this.data(), this.chartBox);
    this.chart.over.addEventListener('dblclick', () => (this.zoomed = false));
    // The chart was built with the data; only the range and the text around it are left to do.
    this.draw(false);
  }

  private data(): uPlot.AlignedData {
    const b = this.buffer;
    return [b.column('time'), ...SERIES_KEYS.map((k) => b.column(k))] as unknown as uPlot.AlignedData;
  }

  private draw(setData = true): void {
    const u = this.chart;
    if (!u) return;
    if (setData) u.setData(this.data(), !this.zoomed);
    const range = RANGES[Number(this.rangePick.value)]?.seconds ?? 0;
    const n = this.buffer.length;
    if (range > 0 && n > 1 && !this.zoomed) {
      const last = this.buffer.time[n - 1];
      u.setScale('x', { min: Math.max(this.buffer.time[0], last - range), max: last });
    }
    this.showValues(undefined);
    this.renderMarkers();
    // The estimate fits lines over all points: refresh it at most once a second.
    const now = performance.now();
    if (now - this.lastEstimate > 1000 || !this.live) {
      this.lastEstimate = now;
      this.renderEstimate();
    }
  }

  private showValues(idx: number | undefined): void {
    const n = this.buffer.length;
    const i = idx ?? n - 1;
    for (const [k, el] of this.values) el.textContent = i >= 0 && i < n ? formatBytes(this.buffer.series[k][i]) : '–';
  }

  private renderEstimate(): void {
    const e = estimateLeak(this.buffer);
    // A report's points are its snapshots: nothing more will come, so say what they span.
    if (e.verdict === 'collecting' && !this.live && this.buffer.length > 1)
      e.diagnosis = `The snapshots span ${formatDuration(e.spanSeconds)}: a leak-rate estimate needs at least ${MIN_SPAN_SECONDS} s between the first and the last.`;
    this.estimate.className = `estimate ${e.verdict}`;
    const basis =
      e.verdict === 'outside-heap'
        ? ' (the JS heap is flat)'
        : e.source === 'gc'
          ? ' (post-GC heap, after each forced GC or snapshot)'
          : e.source === 'troughs'
            ? ' (heap low points)'
            : '';
    replace(
      this.estimate,
      e.headline ? h('strong', { class: 'rate' }, e.headline) : null,
      e.headline ? h('span', { class: 'muted' }, basis) : null,
      e.headline ? h('br') : null,
      h('span', { class: 'diagnosis' }, e.diagnosis),
    );
  }

  private renderMarkers(): void {
    const ms = this.buffer.markers;
    const shown = ms.slice(-12);
    replace(
      this.markerList,
      ...(shown.length === 0 ? [h('li', { class: 'muted' }, 'None yet.')] : []),
      ...(ms.length > shown.length ? [h('li', { class: 'muted' }, `${ms.length - shown.length} earlier…`)] : []),
      ...shown.map((m) =>
        h(
          'li',
          null,
          h('span', { class: `marker-kind ${m.kind}` }, m.kind === 'gc' ? 'GC' : 'Snapshot'),
          ' ',
          new Date(m.time).toLocaleTimeString(),
          m.label ? ` — ${m.label}` : '',
        ),
      ),
    );
  }

  /** Vertical lines for snapshots (solid) and forced GCs (dashed); snapshot labels go in rows above (placeLabels). */
  private drawMarkers(u: uPlot): void {
    const t = this.theme!;
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    ctx.save();
    let count = 0;
    const labels: { x: number; text: string }[] = [];
    for (const m of this.buffer.markers) {
      const x = Math.round(u.valToPos(m.time / 1000, 'x', true));
      if (x < left || x > left + width) continue;
      count++;
      ctx.strokeStyle = m.kind === 'gc' ? t.grid : t.foreground;
      ctx.setLineDash(m.kind === 'gc' ? [3 * devicePixelRatio, 3 * devicePixelRatio] : []);
      ctx.lineWidth = devicePixelRatio;
      ctx.beginPath();
      ctx.moveTo(x + 0.5, top);
      ctx.lineTo(x + 0.5, top + height);
      ctx.stroke();
      if (m.kind === 'snapshot') labels.push({ x: x / devicePixelRatio, text: m.label || 'snapshot' });
    }
    ctx.restore();
    this.placeLabels(
      u,
      labels.sort((a, b) => a.x - b.x),
    );
    this.chartBox.dataset.markers = String(count);
    this.chartBox.dataset.points = String(this.buffer.length);
    if (!this.drawnOnce && this.buffer.length > 0) {
      // For bench/webview-bench.ts: the first chart drawn with data, and the frame that shows it.
      this.drawnOnce = true;
      performance.mark('leak-lens:timeline-drawn');
      requestAnimationFrame(() => performance.mark('leak-lens:timeline-painted'));
    }
  }

  /**
   * Snapshot labels as text above the plot, each starting at its line, in up to LABEL_ROWS rows so that none overlaps
   * another; a label cut to fit (lines too close) ends in an ellipsis and shows its whole text as a tooltip.
   */
  private placeLabels(u: uPlot, labels: { x: number; text: string }[]): void {
    const t = this.theme!;
    const ctx = u.ctx;
    ctx.save();
    ctx.font = t.font;
    // One pixel more than measured: the DOM may round text widths up.
    const places = layoutMarkerLabels(
      labels.map((l) => ({ x: l.x, width: Math.ceil(ctx.measureText(l.text).width) + 1 })),
      {
        right: (u.bbox.left + u.bbox.width) / devicePixelRatio,
        rows: LABEL_ROWS,
        gap: LABEL_GAP,
        minWidth: LABEL_MIN_WIDTH,
      },
    );
    ctx.restore();
    const key = JSON.stringify([t.font, labels.map((l) => l.text), places]);
    if (key === this.labelsKey) return;
    this.labelsKey = key;
    const rows = places.reduce((n, p) => Math.max(n, p.row + 1), 0);
    this.labelsBox.style.height = `${rows * LABEL_LINE}px`;
    replace(
      this.labelsBox,
      ...places.map((p, i) => {
        // A label that took the place of crowded ones names them all, in order.
        const title = [...p.covers.map((c) => labels[c].text), labels[i].text].join(', ');
        const span = h(
          'span',
          {
            class: `marker-label${p.elided ? ' elided' : ''}`,
            attrs: { title, 'data-row': p.row, 'data-covers': p.covers.length || undefined },
          },
          labels[i].text,
        );
        if (p.width === 0) span.hidden = true;
        span.style.font = t.font;
        span.style.left = `${p.left}px`;
        span.style.width = `${p.width}px`;
        span.style.bottom = `${p.row * LABEL_LINE}px`;
        span.style.lineHeight = `${LABEL_LINE}px`;
        return span;
      }),
    );
  }

  /** Called when the view becomes visible (a hidden container has no width). */
  activate(): void {
    if (this.chart && this.chartBox.clientWidth > 0 && this.chartBox.clientWidth !== this.chart.width)
      this.chart.setSize({ width: this.chartBox.clientWidth, height: HEIGHT });
    void this.app;
  }
}
