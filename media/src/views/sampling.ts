/**
 * A report of the sampling mode (no snapshot): the allocation stacks whose live sampled objects grow every round,
 * ranked by the bytes kept from the rounds, with the estimated live bytes at each round boundary, the growth per
 * round and the allocating line (a link that opens the editor); the selected stack's frames below. It says plainly
 * what this mode cannot tell: there are no retainer paths.
 */
import type { LeakReport } from '../../../protocol/webview';
import { SAMPLING_NOTICE, samplingBytesPerRound, samplingLiveBytes, samplingSiteText } from '../../../render/words';
import type { App } from '../app';
import { formatBytes, formatCount, h, replace } from '../dom';
import { DataTable } from '../table';
import type { SamplingFindings, SamplingGrowth } from '../../../protocol/report';

/** A row: a growing stack and its rank in the report (the engine's order, by bytes kept). */
interface Row {
  rank: number;
  g: SamplingGrowth;
}

export class SamplingView {
  readonly el: HTMLElement;
  private readonly banner = h('div', { class: 'banner', attrs: { role: 'status' } });
  private readonly notice = h('p', { class: 'notice sampling-notice', attrs: { role: 'note' } });
  private readonly table: DataTable<Row>;
  private readonly detail = h('section', { class: 'detail', attrs: { 'aria-label': 'Allocation stack details' } });
  private readonly extra = h('div');
  private interval = 1;

  constructor(private readonly app: App) {
    this.table = new DataTable<Row>({
      label: 'Growing allocation stacks',
      className: 'sampling',
      sort: { key: 'rank', dir: 'asc' },
      empty: 'No allocation stack grew every round.',
      onActivate: (row) => this.showStack(row),
      columns: [
        { key: 'rank', label: '#', numeric: true, value: (r) => r.rank, cell: (r) => String(r.rank), firstDir: 'asc' },
        {
          key: 'site',
          label: 'Allocated in',
          value: (r) => samplingSiteText(r.g),
          cell: (r) => h('code', null, samplingSiteText(r.g)),
        },
        {
          key: 'location',
          label: 'Line',
          value: (r) =>
            r.g.site.location ? `${r.g.site.location.file}:${String(r.g.site.location.line).padStart(9, '0')}` : '',
          cell: (r) =>
            r.g.site.location ? app.link(r.g.site.location) : h('span', { class: 'muted' }, '(location unknown)'),
        },
        {
          key: 'live',
          label: 'Live bytes per round',
          numeric: true,
          value: (r) => r.g.liveSamples[r.g.liveSamples.length - 1] ?? 0,
          cell: (r) =>
            samplingLiveBytes(r.g, this.interval)
              .map((b) => formatBytes(b))
              .join(' → '),
          title:
            'Estimated bytes of live sampled objects at each round boundary (live samples × the sampling interval), the baseline first',
        },
        {
          key: 'growth',
          label: 'Growth / round',
          numeric: true,
          value: (r) => samplingBytesPerRound(r.g, this.interval),
          cell: (r) => `+${formatBytes(samplingBytesPerRound(r.g, this.interval))}`,
          title: 'Estimated live bytes added per round',
        },
        {
          key: 'kept',
          label: 'Kept from rounds',
          numeric: true,
          value: (r) => r.g.estimatedBytes,
          cell: (r) => formatBytes(r.g.estimatedBytes),
          title: 'Estimated bytes alive at the end that the rounds allocated',
        },
      ],
    });
    const wrap = h('div', { class: 'table-wrap' }, this.table.el);
    this.el = h('div', { class: 'view-body sampling-report' }, this.banner, this.notice, wrap, this.detail, this.extra);
  }

  setReport(report: LeakReport, s: SamplingFindings): void {
    this.interval = s.interval;
    const about = `from allocation samples at ${s.rounds + 1} round boundaries (${s.rounds} ${s.rounds === 1 ? 'round' : 'rounds'}; one sampled per ${formatBytes(s.interval)} allocated, no snapshot)`;
    const n = s.growth.length;
    this.banner.className = `banner ${n > 0 ? 'leak' : 'clean'}`;
    replace(
      this.banner,
      h(
        'strong',
        null,
        n > 0
          ? `${n} allocation ${n === 1 ? 'stack' : 'stacks'} whose live objects grow every round`
          : 'No allocation stack grows every round',
      ),
      h('span', { class: 'muted' }, ` ${about}`),
      report.pid !== undefined ? h('span', { class: 'muted' }, ` in pid ${report.pid}`) : null,
    );
    // What this mode cannot tell, in the words every view uses (render/words.ts).
    this.notice.textContent = `${SAMPLING_NOTICE.charAt(0).toUpperCase()}${SAMPLING_NOTICE.slice(1)}.${n === 0 ? ' A leak smaller than a few sampling intervals per round may draw no sample: run more rounds or a heavier workload.' : ''}`;
    this.table.setRows(s.growth.map((g, i) => ({ rank: i + 1, g })));
    replace(this.extra);
    if (report.warnings.length)
      this.extra.append(
        h(
          'ul',
          { class: 'warnings', attrs: { 'aria-label': 'Warnings' } },
          ...report.warnings.map((w) => h('li', null, w)),
        ),
      );
    if (this.table.length > 0) {
      this.table.select(0, false);
      this.showStack(this.table.rowAt(0)!);
    } else replace(this.detail);
  }

  private showStack(row: Row): void {
    const { g, rank } = row;
    const app = this.app;
    this.detail.dataset.rank = String(rank);
    const facts = h('dl', { class: 'facts' });
    const fact = (term: string, ...value: (Node | string | null)[]) =>
      facts.append(h('dt', null, term), h('dd', null, ...value));
    fact(
      'Allocated in',
      h('code', null, samplingSiteText(g)),
      g.site.location ? ' ' : null,
      g.site.location ? app.link(g.site.location) : null,
    );
    fact(
      'Live bytes per round',
      samplingLiveBytes(g, this.interval)
        .map((b) => formatBytes(b))
        .join(' → '),
      h('span', { class: 'muted' }, ` (estimated; +${formatBytes(samplingBytesPerRound(g, this.interval))} per round)`),
    );
    fact(
      'Live samples per round',
      g.liveSamples.map(formatCount).join(' → '),
      h('span', { class: 'muted' }, ` (survivors from each round: ${g.survivorsPerRound.map(formatCount).join(', ')})`),
    );
    fact('Kept from the rounds', `about ${formatBytes(g.estimatedBytes)}`);
    replace(
      this.detail,
      h(
        'h2',
        null,
        h('code', null, samplingSiteText(g)),
        h('span', { class: 'muted' }, ` +${formatBytes(samplingBytesPerRound(g, this.interval))} live per round`),
      ),
      facts,
      h('h3', null, 'Allocating stack'),
      h(
        'ol',
        { class: 'stack', attrs: { 'aria-label': `Allocating stack of ${samplingSiteText(g)}, innermost first` } },
        ...g.stack.map((f) =>
          h(
            'li',
            { class: f.library ? 'library' : f === g.site || sameFrame(f, g.site) ? 'app site' : 'app' },
            h('code', null, `${f.function}()`),
            f.location ? ' ' : null,
            f.location ? app.link(f.location) : null,
            f.library ? h('span', { class: 'muted' }, ' (library)') : null,
          ),
        ),
      ),
      h(
        'p',
        { class: 'muted' },
        'No retainer path: the sampling profiler records where objects were allocated, not what holds them. Run Find Leaks with heap snapshots to see the owner.',
      ),
    );
  }
}

function sameFrame(a: SamplingGrowth['site'], b: SamplingGrowth['site']): boolean {
  return a.function === b.function && a.location?.file === b.location?.file && a.location?.line === b.location?.line;
}
