/**
 * Leak groups: the verdict, a sortable table of the report's groups (class, count, growth per round, retained size,
 * owner) and, for the selected group, where it is held and made, its retainer path and what it keeps alive.
 */
import { lastSnapshotOfThread, type LeakGroup, type LeakReport, type ResourceGroup } from '../../../protocol/webview';
import type { App } from '../app';
import {
  ADDED_AT,
  callerSentence,
  chainSentence,
  collectionGrowth,
  containerSentence,
  frameText,
  heldViaSentence,
  kindWords,
  siteOrigin,
  RESOURCE_WORDS,
  resourceAwaited,
  resourceCreated,
  resourceHeadline,
} from '../../../render/words';
import { formatBytes, formatCount, formatSigned, h, replace } from '../dom';
import { DataTable } from '../table';
import { renderPath } from './path';
import { SamplingView } from './sampling';

export class LeaksView {
  readonly el: HTMLElement;
  private readonly banner = h('div', { class: 'banner', attrs: { role: 'status' } });
  private readonly table: DataTable<LeakGroup>;
  private readonly detail = h('section', { class: 'detail', attrs: { 'aria-label': 'Leak group details' } });
  private readonly extra = h('div');
  private readonly resources: DataTable<ResourceGroup>;
  private readonly resourceSection = h('section', {
    class: 'resources',
    attrs: { 'aria-label': 'Resources that grow' },
  });
  private report: LeakReport | undefined;
  /** A report of the sampling mode has growing allocation stacks instead of leak groups. */
  private readonly sampling: SamplingView;
  private readonly groups: HTMLElement;

  constructor(private readonly app: App) {
    this.sampling = new SamplingView(app);
    this.table = new DataTable<LeakGroup>({
      label: 'Leak groups',
      className: 'leaks',
      sort: app.saved().sorts?.leaks ?? { key: 'retainedSize', dir: 'desc' },
      empty: 'No leak groups.',
      onActivate: (g) => this.showGroup(g),
      columns: [
        {
          key: 'className',
          label: 'Class',
          value: (g) => g.className,
          // A chain or a growing collection says so beside its class; separate objects need no word.
          cell: (g) => [
            h('span', { class: 'cls' }, g.className),
            g.kind === 'chain' || g.kind === 'collection'
              ? h(
                  'span',
                  {
                    class: 'badge kind',
                    attrs: { title: g.kind === 'chain' ? chainSentence(g) || 'a chain' : collectionGrowth(g) },
                  },
                  kindWords(g),
                )
              : null,
          ],
        },
        {
          key: 'count',
          label: 'Count',
          numeric: true,
          value: (g) => g.count,
          cell: (g) => formatCount(g.count),
          title: 'Leaked objects alive in the last snapshot',
        },
        {
          key: 'growthPerRound',
          label: 'Growth / round',
          numeric: true,
          value: (g) => g.growthPerRound,
          cell: (g) => formatSigned(g.growthPerRound),
          title: 'Objects per workload round that stay alive',
        },
        {
          key: 'retainedSize',
          label: 'Retained size',
          numeric: true,
          value: (g) => g.retainedSize,
          cell: (g) => [
            formatBytes(g.retainedSize),
            g.nativeSize > 0
              ? h(
                  'span',
                  { class: 'muted', attrs: { title: 'Outside the JS heap (Buffer and ArrayBuffer contents)' } },
                  ` (${formatBytes(g.nativeSize)} native)`,
                )
              : null,
          ],
        },
        {
          key: 'owner',
          label: 'Owner',
          value: (g) => g.owner.name,
          cell: (g) => [
            h('span', { class: 'owner-name' }, g.owner.name),
            g.owner.location ? ' ' : null,
            g.owner.location ? app.link(g.owner.location) : null,
          ],
        },
        {
          key: 'thread',
          label: 'Thread',
          value: (g) => g.thread ?? '',
          cell: (g) => g.thread ?? '',
          title: 'The thread whose heap holds the group (main, or a worker_threads worker)',
        },
      ],
    });
    // Pending promises, open handles and contexts that grow: a table of their own, each row with its creating line.
    this.resources = new DataTable<ResourceGroup>({
      label: 'Resources that grow',
      className: 'resources',
      sort: { key: 'growthPerRound', dir: 'desc' },
      empty: 'No growing resources.',
      columns: [
        {
          key: 'kind',
          label: 'Resource',
          value: (r) => r.kind,
          cell: (r) => [
            h('span', { class: 'cls', attrs: { title: resourceHeadline(r) } }, RESOURCE_WORDS[r.kind] ?? r.kind),
            h('span', { class: 'muted' }, ` ${r.name}${r.native && r.native !== r.name ? ` (${r.native})` : ''}`),
          ],
        },
        {
          key: 'count',
          label: 'Count',
          numeric: true,
          value: (r) => r.count,
          cell: (r) => formatCount(r.count),
          title: 'Made after the baseline and still there in the last snapshot',
        },
        {
          key: 'growthPerRound',
          label: 'Growth / round',
          numeric: true,
          value: (r) => r.growthPerRound,
          cell: (r) => formatSigned(r.growthPerRound),
        },
        {
          key: 'series',
          label: 'Per snapshot',
          value: (r) => r.countSeries[r.countSeries.length - 1] ?? 0,
          cell: (r) => r.countSeries.join(' → '),
          title: 'Resources of the kind in each snapshot',
        },
        {
          key: 'created',
          label: 'Created at',
          value: (r) => r.createdAt?.function ?? '',
          cell: (r) =>
            r.createdAt
              ? [
                  resourceCreated(r),
                  r.createdAt.location ? ' ' : null,
                  r.createdAt.location ? app.link(r.createdAt.location) : null,
                ]
              : h('span', { class: 'muted', attrs: { title: r.createdNote ?? '' } }, 'unknown'),
        },
        {
          key: 'owner',
          label: 'Held by',
          value: (r) => r.owner.name,
          cell: (r) => [
            h('span', { class: 'owner-name' }, r.owner.name),
            r.owner.location ? ' ' : null,
            r.owner.location ? app.link(r.owner.location) : null,
          ],
        },
        {
          key: 'awaited',
          label: 'Awaited by',
          value: (r) => r.awaitedBy?.function ?? '',
          cell: (r) =>
            r.awaitedBy
              ? [
                  resourceAwaited(r).replace(/^awaited by /, ''),
                  r.awaitedBy.location ? ' ' : null,
                  r.awaitedBy.location ? app.link(r.awaitedBy.location) : null,
                ]
              : '',
        },
      ],
    });
    const wrap = h('div', { class: 'table-wrap' }, this.table.el);
    this.table.el.addEventListener('click', () =>
      this.app.save({ sorts: { ...this.app.saved().sorts, leaks: this.table.sort! } }),
    );
    this.groups = h('div', { class: 'view-body' }, this.banner, wrap, this.detail, this.resourceSection, this.extra);
    this.sampling.el.hidden = true;
    this.el = h('div', null, this.groups, this.sampling.el);
  }

  setReport(report: LeakReport | undefined): void {
    this.report = report;
    this.groups.hidden = !!report?.sampling;
    this.sampling.el.hidden = !report?.sampling;
    if (report?.sampling) {
      this.sampling.setReport(report, report.sampling);
      this.table.setRows([]);
      replace(this.detail);
      replace(this.extra);
      return;
    }
    if (!report) {
      replace(this.banner, 'No report yet.');
      this.table.setRows([]);
      replace(this.detail);
      return;
    }
    const first = report.snapshots[0];
    const last = report.snapshots[report.snapshots.length - 1];
    const grew = last.totalSize - first.totalSize;
    const across = `across ${report.snapshots.length} snapshots (${report.rounds} ${report.rounds === 1 ? 'round' : 'rounds'}; heap ${grew >= 0 ? 'grew' : 'shrank'} ${formatBytes(Math.abs(grew))})`;
    const grown = report.resources?.length ?? 0;
    const headline =
      report.verdict !== 'leak'
        ? `No leak found ${across}`
        : report.leaks.length === 0
          ? `${grown} growing ${grown === 1 ? 'resource' : 'resources'} found ${across}`
          : `${report.leaks.length} ${report.leaks.length === 1 ? 'leak' : 'leaks'} found ${across}`;
    this.banner.className = `banner ${report.verdict}`;
    const threads =
      report.threads && report.threads.length > 1
        ? h(
            'span',
            { class: 'muted threads' },
            `; threads analysed, each with its own heap: ${report.threads.map((t) => t.name).join(', ')}`,
          )
        : null;
    replace(
      this.banner,
      h('strong', null, headline),
      report.pid !== undefined ? h('span', { class: 'muted' }, ` in pid ${report.pid}`) : null,
      threads,
    );
    this.table.setRows(report.leaks);
    const resources = report.resources ?? [];
    this.resources.setRows(resources);
    replace(
      this.resourceSection,
      ...(resources.length
        ? [h('h3', null, 'Resources that grow every round'), h('div', { class: 'table-wrap' }, this.resources.el)]
        : []),
    );
    replace(this.extra);
    if (report.warnings.length)
      this.extra.append(
        h(
          'ul',
          { class: 'warnings', attrs: { 'aria-label': 'Warnings' } },
          ...report.warnings.map((w) => h('li', null, w)),
        ),
      );
    if (report.duplicateModules.length) {
      this.extra.append(
        h('h3', null, 'Modules loaded more than once'),
        h(
          'ul',
          { class: 'plain' },
          ...report.duplicateModules.map((d) =>
            h(
              'li',
              null,
              d.location ? this.app.link(d.location, this.app.displayPath(d.file)) : this.app.displayPath(d.file),
              h('span', { class: 'muted' }, ` — live copies per snapshot: ${d.instances.join(' → ')}`),
            ),
          ),
        ),
      );
    }
    if (this.table.length > 0) {
      this.table.select(0, false);
      this.showGroup(this.table.rowAt(0)!);
    } else replace(this.detail);
  }

  /**
   * Selects the group with this id (a code lens or hover asked for it) and shows its details, retainer path
   * included, scrolled into view. Returns false when the report has no such group.
   */
  selectGroup(id: string): boolean {
    for (let i = 0; i < this.table.length; i++) {
      const g = this.table.rowAt(i)!;
      if (g.id !== id) continue;
      this.table.select(i, false);
      this.showGroup(g);
      // Scrolled to just below the sticky header with the tabs, so that the group's heading shows.
      requestAnimationFrame(() => {
        const header = document.querySelector('header.top');
        const top =
          this.detail.getBoundingClientRect().top + window.scrollY - (header?.getBoundingClientRect().height ?? 0) - 8;
        window.scrollTo({ top: Math.max(0, top) });
      });
      return true;
    }
    return false;
  }

  private site(s: Site): HTMLElement {
    return siteItem(this.app, s);
  }

  private showGroup(g: LeakGroup): void {
    const report = this.report!;
    this.detail.dataset.group = g.id;
    // A worker's objects are in that worker's snapshots (listed after the main thread's), never in the main heap.
    const lastSnapshot = lastSnapshotOfThread(report, g.thread);
    const app = this.app;
    const facts = h('dl', { class: 'facts' });
    const fact = (term: string, ...value: (Node | string | null)[]) =>
      facts.append(h('dt', null, term), h('dd', null, ...value));
    // The owner stays the first fact: it is the line a person edits.
    fact(
      'Held by',
      h('span', { class: 'owner-name' }, g.owner.name),
      h('span', { class: 'muted' }, ` (${ownerKindWords[g.owner.kind] ?? g.owner.kind})`),
      g.owner.location ? ' ' : null,
      g.owner.location ? app.link(g.owner.location) : null,
    );
    fact(
      'Kind',
      kindWords(g),
      chainSentence(g) ? h('span', { class: 'muted chain-link' }, `: ${chainSentence(g)}`) : null,
    );
    if (g.kind === 'collection' && g.collection) fact('Grows', collectionGrowth(g));
    if (g.heldVia)
      fact(
        'Held through',
        heldViaSentence(g),
        g.heldVia.location ? ' ' : null,
        g.heldVia.location ? app.link(g.heldVia.location) : null,
      );
    if (g.owner.related?.length)
      fact(
        'Related',
        h(
          'ul',
          { class: 'plain related' },
          ...g.owner.related.map((r) => h('li', null, r.label, ' ', app.link(r.location))),
        ),
      );
    if (g.kind === 'collection' && g.collection?.addedAt)
      fact(ADDED_AT.charAt(0).toUpperCase() + ADDED_AT.slice(1), app.link(g.collection.addedAt));
    if (containerSentence(g)) fact('Container', containerSentence(g));
    if (g.thread) fact('Thread', g.thread);
    if (g.classLocation) fact('Class defined in', app.link(g.classLocation));
    if (g.allocationSites.length && g.kind !== 'collection') {
      fact('Allocated in', h('ul', { class: 'plain sites' }, ...g.allocationSites.map((s) => this.site(s))));
    }
    fact(
      'Count per snapshot',
      g.countSeries.map(formatCount).join(' → '),
      h('span', { class: 'muted' }, ` (new and still alive per round: ${g.newPerRound.map(formatCount).join(', ')})`),
    );
    if (g.alsoHeld.length)
      fact(
        'Also held there',
        g.alsoHeld
          .map(
            (a) =>
              `${a.className} ×${formatCount(a.count)} (${formatSigned(a.growthPerRound)}/round, ${formatBytes(a.retainedSize)})`,
          )
          .join('; '),
      );
    const retains = g.retains.length
      ? h(
          'table',
          { class: 'mini', attrs: { 'aria-label': `What ${g.className} objects keep alive` } },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', { attrs: { scope: 'col' } }, 'Class'),
              h('th', { class: 'num', attrs: { scope: 'col' } }, 'Count'),
              h('th', { class: 'num', attrs: { scope: 'col' } }, 'Size'),
            ),
          ),
          h(
            'tbody',
            null,
            ...g.retains.map((r) =>
              h(
                'tr',
                null,
                h('td', null, r.className),
                h('td', { class: 'num' }, formatCount(r.count)),
                h('td', { class: 'num' }, formatBytes(r.size)),
              ),
            ),
          ),
        )
      : null;
    const explore = h(
      'button',
      {
        attrs: { type: 'button' },
        on: { click: () => app.showView('retainers', { snapshot: lastSnapshot, nodeId: g.sampleIds[0] }) },
      },
      'Explore retainers',
    );
    replace(
      this.detail,
      g.kind === 'collection' && g.collection
        ? h(
            'h2',
            null,
            h('span', { class: 'owner-name' }, g.owner.name),
            ' (',
            h('span', { class: 'cls' }, g.className),
            ') grows',
            h('span', { class: 'muted' }, ` ${collectionGrowth(g)}, ${formatBytes(g.retainedSize)} retained`),
          )
        : h(
            'h2',
            null,
            h('span', { class: 'cls' }, g.className),
            g.kind === 'chain' ? ' chain' : '',
            ` ×${formatCount(g.count)}`,
            h(
              'span',
              { class: 'muted' },
              ` ${formatSigned(g.growthPerRound)} per round, ${formatBytes(g.retainedSize)} retained`,
            ),
          ),
      facts,
      h('div', { class: 'actions' }, explore),
      h('h3', null, 'Retainer path'),
      renderPath(app, g.retainerPath, `Retainer path of ${g.className}`),
      retains ? h('h3', null, 'Keeps alive') : null,
      retains,
    );
  }
}

type Site = LeakGroup['allocationSites'][number];

/** One allocation site: where, how many, the application's calling line, and the creating stack when known. */
function siteItem(app: App, s: Site): HTMLElement {
  const origin = siteOrigin(s);
  const li = h(
    'li',
    null,
    h('code', null, `${s.function}()`),
    ' ',
    s.location ? app.link(s.location) : h('span', { class: 'muted' }, '(location unknown)'),
    h('span', { class: 'muted' }, ` — ${formatCount(s.count)} objects${origin ? `, ${origin}` : ''}`),
  );
  if (s.caller)
    li.append(
      h(
        'div',
        { class: 'caller' },
        callerSentence(s),
        s.caller.location ? ' ' : null,
        s.caller.location ? app.link(s.caller.location) : null,
      ),
    );
  if (s.stack?.length) {
    li.append(
      h('div', { class: 'muted' }, 'Creating stack, innermost first:'),
      h(
        'ol',
        { class: 'stack', attrs: { 'aria-label': `Creating stack of ${s.function}()` } },
        ...s.stack.map((f) =>
          h(
            'li',
            { class: f.app ? 'app' : '' },
            h('code', null, frameText(f)),
            f.location ? ' ' : null,
            f.location ? app.link(f.location) : null,
          ),
        ),
      ),
    );
  }
  return li;
}

const ownerKindWords: Record<string, string> = {
  variable: 'variable',
  'static-property': 'static property',
  property: 'property',
  global: 'global',
  listeners: 'event listeners',
  timer: 'timer',
  internal: 'internal',
};
