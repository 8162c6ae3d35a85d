/**
 * Growth graphs: per-class object count or size in each snapshot of an investigation, for the fastest growing
 * classes of the report, with the classes to draw chosen by checkboxes.
 */
import type { LeakReport } from '../../../protocol/webview';
import type { App } from '../app';
import { byteAxis, chartTheme, ChartTheme, followWidth, onThemeChange, plainAxis, uPlot } from '../chart';
import { formatBytes, formatCount, formatSigned, formatSignedBytes, h, replace } from '../dom';

const HEIGHT = 260;
const DEFAULT_SHOWN = 5;

type Metric = 'counts' | 'sizes';

export class GrowthView {
  readonly el: HTMLElement;
  private readonly chartBox = h('div', {
    class: 'chart',
    attrs: { role: 'img', 'aria-label': 'Class growth across snapshots' },
  });
  private readonly list = h('table', { class: 'mini growth-list', attrs: { 'aria-label': 'Fastest growing classes' } });
  private readonly metricBox = h('div', { class: 'segmented', attrs: { role: 'radiogroup', 'aria-label': 'Measure' } });
  private readonly note = h('p', { class: 'muted' });
  private readonly logBox = h('input', { attrs: { type: 'checkbox' } });
  private report: LeakReport | undefined;
  private selected = new Set<string>();
  private metric: Metric = 'counts';
  private chart: uPlot | undefined;
  private theme: ChartTheme | undefined;

  constructor(private readonly app: App) {
    for (const [m, label] of [
      ['counts', 'Objects'],
      ['sizes', 'Size'],
    ] as const) {
      const input = h('input', {
        attrs: { type: 'radio', name: 'growth-metric', value: m, checked: m === this.metric },
      });
      input.addEventListener('change', () => {
        if (input.checked) {
          this.metric = m;
          this.rebuild();
        }
      });
      this.metricBox.append(h('label', null, input, ' ', label));
    }
    this.logBox.addEventListener('change', () => this.rebuild(true));
    this.el = h(
      'div',
      { class: 'view-body' },
      h(
        'div',
        { class: 'toolbar' },
        this.note,
        this.metricBox,
        h('label', { attrs: { title: 'Draw small and large classes together' } }, this.logBox, ' Log scale'),
      ),
      this.chartBox,
      this.list,
    );
    followWidth(this.chartBox, () => this.chart, HEIGHT);
    onThemeChange(() => this.rebuild());
  }

  setReport(report: LeakReport | undefined): void {
    this.report = report;
    const growth = report?.classGrowth ?? [];
    const leaking = new Set(report?.leaks.map((l) => l.className));
    // Leaking classes first, then the fastest growing, up to five drawn at first.
    const first = [
      ...growth.filter((g) => leaking.has(g.className)),
      ...growth.filter((g) => !leaking.has(g.className)),
    ].slice(0, DEFAULT_SHOWN);
    this.selected = new Set(first.map((g) => g.className));
    // Classes of very different sizes (78,000 strings next to 400 leaked objects) start on a log scale.
    const lasts = first.map((g) => g.counts[g.counts.length - 1]).filter((n) => n > 0);
    this.logBox.checked = lasts.length > 1 && Math.max(...lasts) / Math.min(...lasts) > 50;
    this.note.textContent = report
      ? `The ${growth.length} fastest growing classes across ${report.snapshots.length} snapshots. Choose the classes to draw.`
      : '';
    this.rebuild();
  }

  private colorOf(className: string): string {
    const t = this.theme!;
    const growth = this.report?.classGrowth ?? [];
    const i = growth.findIndex((g) => g.className === className);
    return t.palette[i % t.palette.length];
  }

  private renderList(): void {
    const report = this.report;
    const growth = report?.classGrowth ?? [];
    const head = h(
      'tr',
      null,
      h('th', { attrs: { scope: 'col' } }, 'Draw'),
      h('th', { attrs: { scope: 'col' } }, 'Class'),
      h('th', { class: 'num', attrs: { scope: 'col' } }, 'Per snapshot'),
      h('th', { class: 'num', attrs: { scope: 'col' } }, 'Change'),
    );
    const rows = growth.map((g, i) => {
      const series = this.metric === 'counts' ? g.counts : g.sizes;
      const fmt = this.metric === 'counts' ? formatCount : formatBytes;
      const change = series[series.length - 1] - series[0];
      const box = h('input', {
        attrs: {
          type: 'checkbox',
          checked: this.selected.has(g.className),
          'aria-label': `Draw ${g.className}`,
          'data-class-index': i,
        },
      });
      box.addEventListener('change', () => {
        if (box.checked) this.selected.add(g.className);
        else this.selected.delete(g.className);
        this.rebuild(true);
      });
      const swatch = h('span', { class: 'swatch', attrs: { 'aria-hidden': 'true' } });
      swatch.style.backgroundColor = this.colorOf(g.className);
      return h(
        'tr',
        null,
        h('td', null, box, swatch),
        h('td', null, h('span', { class: 'cls' }, g.className)),
        h('td', { class: 'num' }, series.map(fmt).join(' → ')),
        h('td', { class: 'num' }, this.metric === 'counts' ? formatSigned(change) : formatSignedBytes(change)),
      );
    });
    replace(
      this.list,
      h('thead', null, head),
      h(
        'tbody',
        null,
        ...(rows.length
          ? rows
          : [
              h('tr', null, h('td', { attrs: { colspan: 4 }, class: 'muted' }, 'No class grew between the snapshots.')),
            ]),
      ),
    );
  }

  private rebuild(keepList = false): void {
    const focused =
      document.activeElement instanceof HTMLInputElement ? document.activeElement.dataset.classIndex : undefined;
    this.chart?.destroy();
    this.chart = undefined;
    this.theme = chartTheme();
    if (!keepList) this.renderList();
    const report = this.report;
    if (!report) return;
    const t = this.theme;
    const shown = report.classGrowth.filter((g) => this.selected.has(g.className));
    const labels = report.snapshots.map((s, i) => s.label ?? `Snapshot ${i + 1}`);
    const xs = labels.map((_, i) => i);
    const bytes = this.metric === 'sizes';
    const log = this.logBox.checked;
    const opts: uPlot.Options = {
      width: Math.max(300, this.chartBox.clientWidth || 600),
      height: HEIGHT,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: false, range: [-0.15, Math.max(1, xs.length - 1) + 0.15] },
        y: log ? { distr: 3, log: 10 } : {},
      },
      axes: [
        plainAxis(t, { splits: () => xs, values: (_u, vals) => vals.map((v) => labels[v] ?? '') }),
        bytes
          ? byteAxis(t, log)
          : plainAxis(t, {
              size: 64,
              values: (_u, vals) => vals.map((v) => (v === null || (log && !isPowerOf10(v)) ? '' : formatCount(v))),
            }),
      ],
      series: [
        {},
        ...shown.map((g): uPlot.Series => ({
          label: g.className,
          stroke: this.colorOf(g.className),
          width: 2,
          points: { show: true, size: 6 },
        })),
      ],
    };
    const data = [
      xs,
      ...shown.map((g) => (bytes ? g.sizes : g.counts).map((v) => (log && v <= 0 ? null : v))),
    ] as uPlot.AlignedData;
    this.chart = new uPlot(opts, data, this.chartBox);
    this.chartBox.dataset.series = String(shown.length);
    if (focused !== undefined)
      (this.list.querySelector(`input[data-class-index="${focused}"]`) as HTMLInputElement | null)?.focus();
  }

  activate(): void {
    if (this.chart && this.chartBox.clientWidth > 0 && this.chartBox.clientWidth !== this.chart.width)
      this.chart.setSize({ width: this.chartBox.clientWidth, height: HEIGHT });
    void this.app;
  }
}

function isPowerOf10(v: number): boolean {
  const e = Math.log10(v);
  return Math.abs(e - Math.round(e)) < 1e-9;
}
