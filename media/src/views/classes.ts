/**
 * Summary and Comparison of snapshots, as in Chrome DevTools' Memory panel: per class counts and sizes (Summary) or
 * what was allocated and freed between two snapshots (Comparison). Both are paged and sorted by the extension, which
 * asks the engine; a class row opens the objects of that class, and an object opens its retainers.
 */
import type { ClassDelta, ClassSummary, CompareSortKey, ObjectInfo, SummarySortKey } from '../../../protocol/webview';
import type { App } from '../app';
import { formatBytes, formatCount, formatPercent, formatSigned, formatSignedBytes, h, replace } from '../dom';
import { Column, DataTable, Pager, SortDir } from '../table';
import { snapshotOption } from './snapshotOption';

export const CLASS_PAGE = 100;
export const OBJECT_PAGE = 50;

/** Objects of one class in one snapshot, a page at a time; an object opens the retainers view. */
class ObjectsPanel {
  readonly el: HTMLElement;
  private readonly heading = h('h3');
  private readonly table: DataTable<ObjectInfo>;
  private readonly pager: Pager;
  private readonly note = h('p', { class: 'muted', attrs: { role: 'status', 'data-status': 'objects' } });
  private target: { snapshot: number; className: string } | undefined;
  private pending: number | undefined;

  constructor(private readonly app: App) {
    this.table = new DataTable<ObjectInfo>({
      label: 'Objects',
      empty: 'No objects.',
      onActivate: (o) =>
        this.target &&
        app.showView('retainers', { snapshot: this.target.snapshot, nodeId: o.nodeId, name: o.className }),
      columns: [
        {
          key: 'name',
          label: 'Object',
          cell: (o) => [
            h(
              'span',
              { class: 'obj-name', attrs: { title: o.name.slice(0, 2000) } },
              shorten(o.name || o.className, 160),
            ),
            ' ',
            h('span', { class: 'muted id' }, `@${o.nodeId}`),
          ],
        },
        { key: 'distance', label: 'Distance', numeric: true, cell: (o) => distanceText(o.distance) },
        { key: 'shallowSize', label: 'Shallow size', numeric: true, cell: (o) => formatBytes(o.shallowSize) },
        { key: 'retainedSize', label: 'Retained size', numeric: true, cell: (o) => formatBytes(o.retainedSize) },
      ],
    });
    this.pager = new Pager(OBJECT_PAGE, (offset) => this.load(offset), 'Objects');
    this.el = h(
      'section',
      { class: 'objects', attrs: { 'aria-label': 'Objects of the selected class' } },
      this.heading,
      h('p', { class: 'muted' }, 'Enter or click an object to see what retains it.'),
      h('div', { class: 'table-wrap' }, this.table.el),
      this.pager.el,
      this.note,
    );
    this.el.hidden = true;
  }

  show(snapshot: number, className: string): void {
    this.target = { snapshot, className };
    this.el.hidden = false;
    replace(this.heading, 'Objects of ', h('span', { class: 'cls' }, className));
    this.load(0);
  }

  hide(): void {
    this.target = undefined;
    this.el.hidden = true;
  }

  private load(offset: number): void {
    const t = this.target!;
    if (this.pending !== undefined) this.app.cancel(this.pending);
    this.note.textContent = 'Loading…';
    const { id, answer } = this.app.query(
      { kind: 'objects', snapshot: t.snapshot, className: t.className, offset, limit: OBJECT_PAGE },
      (p) => (this.note.textContent = `${p}…`),
    );
    this.pending = id;
    void answer.then((a) => {
      if (this.pending !== id) return;
      this.pending = undefined;
      if (!a.ok) {
        this.note.textContent = a.error;
        return;
      }
      this.note.textContent = '';
      this.table.setRows(a.value.items);
      this.pager.update(a.value.offset, a.value.items.length, a.value.total);
    });
  }
}

/** A paged, server-sorted class table with a filter: the shared part of Summary and Comparison. */
abstract class ClassTableView<R extends { className: string }, K extends string> {
  readonly el: HTMLElement;
  protected readonly toolbar = h('div', { class: 'toolbar' });
  protected readonly table: DataTable<R>;
  protected readonly pager: Pager;
  protected readonly note = h('p', { class: 'muted', attrs: { role: 'status', 'data-status': 'classes' } });
  protected readonly objects: ObjectsPanel;
  private readonly filterInput = h('input', {
    attrs: { type: 'search', placeholder: 'Filter classes', 'aria-label': 'Filter classes', spellcheck: 'false' },
  });
  protected sort: { key: K; dir: SortDir };
  private pending: number | undefined;
  private filterTimer = 0;
  private started = false;

  constructor(
    protected readonly app: App,
    private readonly name: 'summary' | 'comparison',
    defaultSort: { key: K; dir: SortDir },
    columns: Column<R>[],
  ) {
    this.sort = (app.saved().sorts?.[name] as { key: K; dir: SortDir } | undefined) ?? defaultSort;
    this.table = new DataTable<R>({
      label: name === 'summary' ? 'Classes' : 'Class changes',
      columns,
      sort: this.sort,
      empty: 'No classes match.',
      onSort: (s) => {
        this.sort = s as { key: K; dir: SortDir };
        this.app.save({ sorts: { ...this.app.saved().sorts, [name]: s } });
        this.load(0);
      },
      onActivate: (r) => this.objects.show(this.objectsSnapshot(), r.className),
    });
    this.pager = new Pager(CLASS_PAGE, (offset) => this.load(offset), 'Classes');
    this.objects = new ObjectsPanel(app);
    this.filterInput.addEventListener('input', () => {
      window.clearTimeout(this.filterTimer);
      this.filterTimer = window.setTimeout(() => this.load(0), 200);
    });
    this.toolbar.append(this.filterInput);
    this.el = h(
      'div',
      { class: 'view-body' },
      this.toolbar,
      this.note,
      h('div', { class: 'table-wrap' }, this.table.el),
      this.pager.el,
      this.objects.el,
    );
  }

  protected abstract objectsSnapshot(): number;
  protected abstract request(
    offset: number,
    filter: string | undefined,
  ):
    | {
        id: number;
        answer: Promise<
          { ok: true; value: { total: number; offset: number; items: R[] } } | { ok: false; error: string }
        >;
      }
    | undefined;

  /** Loads the first page the first time the view is shown. */
  activate(): void {
    if (!this.started) {
      this.started = true;
      this.load(0);
    }
  }

  reset(): void {
    this.started = false;
    this.objects.hide();
  }

  protected load(offset: number): void {
    this.started = true;
    if (this.pending !== undefined) this.app.cancel(this.pending);
    const filter = this.filterInput.value.trim() || undefined;
    const req = this.request(offset, filter);
    if (!req) return;
    this.note.textContent = 'Loading…';
    this.pending = req.id;
    void req.answer.then((a) => {
      if (this.pending !== req.id) return;
      this.pending = undefined;
      if (!a.ok) {
        this.note.textContent = a.error;
        this.note.className = 'error';
        return;
      }
      this.note.className = 'muted';
      this.note.textContent = this.describe(a.value.total, filter);
      this.table.setRows(a.value.items);
      this.pager.update(a.value.offset, a.value.items.length, a.value.total);
    });
  }

  protected abstract describe(total: number, filter: string | undefined): string;

  protected progress = (text: string): void => {
    this.note.textContent = `${text}…`;
  };
}

function snapshotOptions(app: App): HTMLOptionElement[] {
  return app.state.snapshots.map(snapshotOption);
}

/** The main thread's last snapshot: a report over worker threads lists the workers' snapshots after the main thread's. */
function lastMainSnapshot(app: App): number {
  const count = app.state.snapshots.length;
  return Math.max(0, Math.min(count, app.state.report?.snapshots.length ?? count) - 1);
}

export class SummaryView extends ClassTableView<ClassSummary, SummarySortKey> {
  private readonly pick = h('select', { attrs: { 'aria-label': 'Snapshot' } });
  /** The snapshot's total size, for the percentage columns (shared with the column renderers). */
  private readonly heap: { total: number };

  constructor(app: App) {
    const heap = { total: 0 };
    const pct = (n: number) => h('span', { class: 'pct muted' }, formatPercent(n, heap.total));
    super(app, 'summary', { key: 'retainedSize', dir: 'desc' }, [
      { key: 'className', label: 'Constructor', cell: (r) => h('span', { class: 'cls' }, r.className) },
      { key: 'distance', label: 'Distance', numeric: true, firstDir: 'asc', cell: (r) => distanceText(r.distance) },
      { key: 'count', label: 'Objects', numeric: true, cell: (r) => formatCount(r.count) },
      {
        key: 'shallowSize',
        label: 'Shallow size',
        numeric: true,
        cell: (r) => [formatBytes(r.shallowSize), ' ', pct(r.shallowSize)],
      },
      {
        key: 'retainedSize',
        label: 'Retained size',
        numeric: true,
        cell: (r) => [formatBytes(r.retainedSize), ' ', pct(r.retainedSize)],
      },
    ]);
    this.heap = heap;
    this.pick.addEventListener('change', () => {
      this.objects.hide();
      this.load(0);
    });
    this.toolbar.prepend(h('label', null, 'Snapshot ', this.pick));
  }

  setSnapshots(): void {
    replace(this.pick, ...snapshotOptions(this.app));
    this.pick.value = String(lastMainSnapshot(this.app));
    this.reset();
  }

  protected objectsSnapshot(): number {
    return Number(this.pick.value);
  }

  protected request(offset: number, filter: string | undefined) {
    const snapshot = Number(this.pick.value);
    if (!(snapshot >= 0)) return undefined;
    return this.app.query(
      { kind: 'summary', snapshot, offset, limit: CLASS_PAGE, sort: this.sort, filter },
      this.progress,
    );
  }

  protected describe(total: number, filter: string | undefined): string {
    const s = this.app.state.snapshots[Number(this.pick.value)];
    this.heap.total = s?.totalSize ?? 0;
    const size = s?.totalSize ? `, ${formatBytes(s.totalSize)} in total` : '';
    return `${formatCount(total)} ${total === 1 ? 'class' : 'classes'}${filter ? ` matching “${filter}”` : ''}${size}`;
  }
}

export class ComparisonView extends ClassTableView<ClassDelta, CompareSortKey> {
  private readonly basePick = h('select', { attrs: { 'aria-label': 'Base snapshot' } });
  private readonly targetPick = h('select', { attrs: { 'aria-label': 'Snapshot to compare' } });

  constructor(app: App) {
    super(app, 'comparison', { key: 'sizeDelta', dir: 'desc' }, [
      { key: 'className', label: 'Constructor', cell: (r) => h('span', { class: 'cls' }, r.className) },
      { key: 'newCount', label: '# New', numeric: true, cell: (r) => formatCount(r.newCount) },
      { key: 'deletedCount', label: '# Deleted', numeric: true, cell: (r) => formatCount(r.deletedCount) },
      {
        key: 'countDelta',
        label: '# Delta',
        numeric: true,
        cell: (r) => h('span', { class: deltaClass(r.countDelta) }, formatSigned(r.countDelta)),
      },
      { key: 'allocatedSize', label: 'Alloc. size', numeric: true, cell: (r) => formatBytes(r.allocatedSize) },
      { key: 'freedSize', label: 'Freed size', numeric: true, cell: (r) => formatBytes(r.freedSize) },
      {
        key: 'sizeDelta',
        label: 'Size delta',
        numeric: true,
        cell: (r) => h('span', { class: deltaClass(r.sizeDelta) }, formatSignedBytes(r.sizeDelta)),
      },
    ]);
    for (const p of [this.basePick, this.targetPick]) {
      p.addEventListener('change', () => {
        this.objects.hide();
        this.load(0);
      });
    }
    this.toolbar.prepend(h('label', null, 'Base ', this.basePick), h('label', null, 'Compared ', this.targetPick));
  }

  setSnapshots(): void {
    replace(this.basePick, ...snapshotOptions(this.app));
    replace(this.targetPick, ...snapshotOptions(this.app));
    this.basePick.value = '0';
    this.targetPick.value = String(lastMainSnapshot(this.app));
    this.reset();
  }

  protected objectsSnapshot(): number {
    return Number(this.targetPick.value);
  }

  protected request(offset: number, filter: string | undefined) {
    const base = Number(this.basePick.value);
    const target = Number(this.targetPick.value);
    if (!(base >= 0 && target >= 0)) return undefined;
    return this.app.query(
      { kind: 'compare', base, target, offset, limit: CLASS_PAGE, sort: this.sort, filter },
      this.progress,
    );
  }

  protected describe(total: number, filter: string | undefined): string {
    const s = this.app.state.snapshots;
    const base = s[Number(this.basePick.value)]?.label;
    const target = s[Number(this.targetPick.value)]?.label;
    return `${formatCount(total)} ${total === 1 ? 'class' : 'classes'} changed from ${base} to ${target}${filter ? ` matching “${filter}”` : ''}`;
  }
}

function deltaClass(n: number): string {
  return n > 0 ? 'delta-up' : n < 0 ? 'delta-down' : '';
}

function distanceText(d: number): string {
  return d >= 0 && d < 1e8 ? String(d) : '–';
}

function shorten(s: string, max: number): string {
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}
