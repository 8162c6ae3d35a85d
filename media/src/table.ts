/**
 * A sortable table that works from the keyboard: headers are buttons (Enter or Space sorts, again reverses), one row
 * is in the tab order and the arrow keys, Home, End, PageUp and PageDown move among rows; Enter activates a row.
 * Sorting is local (`value`) or done by the caller (`onSort`, for server-side pages). Holds one page of rows.
 */
import { Child, h, replace, rovingIndex } from './dom';

export type SortDir = 'asc' | 'desc';

export interface Column<R> {
  key: string;
  label: string;
  numeric?: boolean;
  /** The sort value for local sorting; a column without it (and without `onSort`) does not sort. */
  value?: (row: R) => number | string;
  cell: (row: R) => Child | Child[];
  title?: string;
  /** Direction of the first click: descending for figures, ascending for names. */
  firstDir?: SortDir;
  sortable?: boolean;
}

export interface TableOptions<R> {
  label: string;
  columns: Column<R>[];
  sort?: { key: string; dir: SortDir };
  /** Sorting by the caller (fetches a new page); without it the table sorts its rows itself. */
  onSort?: (sort: { key: string; dir: SortDir }) => void;
  /** Enter or a click on a row. */
  onActivate?: (row: R, index: number) => void;
  empty?: string;
  className?: string;
}

export class DataTable<R> {
  readonly el: HTMLTableElement;
  private readonly head: HTMLTableSectionElement;
  private readonly body: HTMLTableSectionElement;
  private rows: R[] = [];
  private active = 0;
  private selected = -1;
  sort: { key: string; dir: SortDir } | undefined;

  constructor(private readonly opts: TableOptions<R>) {
    this.sort = opts.sort;
    this.head = h('thead');
    this.body = h('tbody', { on: { keydown: (e) => this.onKey(e) } });
    this.el = h(
      'table',
      {
        class: `grid ${opts.className ?? ''}`,
        attrs: { role: 'grid', 'aria-label': opts.label, 'aria-readonly': 'true' },
      },
      this.head,
      this.body,
    );
    this.renderHead();
  }

  private sortable(c: Column<R>): boolean {
    return c.sortable !== false && (this.opts.onSort !== undefined || c.value !== undefined);
  }

  private renderHead(): void {
    const tr = h('tr');
    for (const c of this.opts.columns) {
      const sorted = this.sort?.key === c.key ? this.sort.dir : undefined;
      const th = h('th', {
        class: c.numeric ? 'num' : '',
        attrs: {
          scope: 'col',
          'aria-sort':
            sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : this.sortable(c) ? 'none' : undefined,
          title: c.title,
        },
      });
      if (this.sortable(c)) {
        const arrow = h(
          'span',
          { class: 'sort-arrow', attrs: { 'aria-hidden': 'true' } },
          sorted === 'asc' ? '▲' : sorted === 'desc' ? '▼' : '',
        );
        // The arrow goes on the inner side, so labels stay aligned with their figures.
        const button = h(
          'button',
          { class: 'sort', attrs: { type: 'button', 'data-key': c.key }, on: { click: () => this.toggleSort(c) } },
          ...(c.numeric ? [arrow, c.label] : [c.label, arrow]),
        );
        th.appendChild(button);
      } else th.textContent = c.label;
      tr.appendChild(th);
    }
    replace(this.head, tr);
  }

  private toggleSort(c: Column<R>): void {
    const dir: SortDir =
      this.sort?.key === c.key
        ? this.sort.dir === 'asc'
          ? 'desc'
          : 'asc'
        : (c.firstDir ?? (c.numeric ? 'desc' : 'asc'));
    this.sort = { key: c.key, dir };
    this.renderHead();
    (this.head.querySelector(`button[data-key="${c.key}"]`) as HTMLButtonElement | null)?.focus();
    if (this.opts.onSort) this.opts.onSort(this.sort);
    else this.setRows(this.rows);
  }

  /** Shows rows (sorted locally when the table sorts itself); keeps the selection by position. */
  setRows(rows: R[], keepFocus = false): void {
    const hadFocus = keepFocus || this.body.contains(document.activeElement);
    this.rows = this.opts.onSort ? rows : this.sortLocal(rows);
    this.active = Math.min(this.active, Math.max(0, this.rows.length - 1));
    if (this.selected >= this.rows.length) this.selected = -1;
    this.renderBody();
    if (hadFocus) this.focusRow(this.active);
  }

  get length(): number {
    return this.rows.length;
  }

  rowAt(i: number): R | undefined {
    return this.rows[i];
  }

  private sortLocal(rows: R[]): R[] {
    const sort = this.sort;
    const col = sort && this.opts.columns.find((c) => c.key === sort.key);
    if (!sort || !col?.value) return rows;
    const value = col.value;
    const sign = sort.dir === 'asc' ? 1 : -1;
    return [...rows].sort((a, b) => {
      const x = value(a);
      const y = value(b);
      return sign * (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y)));
    });
  }

  private renderBody(): void {
    if (this.rows.length === 0) {
      replace(
        this.body,
        h(
          'tr',
          { class: 'empty' },
          h('td', { attrs: { colspan: this.opts.columns.length } }, this.opts.empty ?? 'Nothing to show.'),
        ),
      );
      return;
    }
    const frag = document.createDocumentFragment();
    this.rows.forEach((row, i) => {
      const tr = h('tr', {
        attrs: {
          tabindex: i === this.active ? 0 : -1,
          'aria-selected': i === this.selected ? 'true' : 'false',
          'data-index': i,
        },
      });
      tr.addEventListener('click', (e) => {
        // A link inside the row opens its location; it does not also activate the row.
        if ((e.target as Element).closest('a')) return;
        this.select(i, true);
      });
      tr.addEventListener('focus', () => this.setActive(i));
      for (const c of this.opts.columns) {
        const v = c.cell(row);
        const td = h('td', { class: c.numeric ? 'num' : '' });
        for (const x of Array.isArray(v) ? v : [v])
          if (x !== null && x !== undefined && x !== false) td.append(typeof x === 'number' ? String(x) : x);
        tr.appendChild(td);
      }
      frag.appendChild(tr);
    });
    replace(this.body, frag);
    // Links inside rows are reached through the row (Enter shows details with the same links), not by Tab.
    for (const a of this.body.querySelectorAll('a')) a.setAttribute('tabindex', '-1');
  }

  private rowEl(i: number): HTMLTableRowElement | undefined {
    return (this.body.children[i] as HTMLTableRowElement | undefined) ?? undefined;
  }

  private setActive(i: number): void {
    if (i === this.active) return;
    this.rowEl(this.active)?.setAttribute('tabindex', '-1');
    this.active = i;
    this.rowEl(i)?.setAttribute('tabindex', '0');
  }

  focusRow(i: number): void {
    if (this.rows.length === 0) return;
    this.setActive(i);
    this.rowEl(i)?.focus();
  }

  /** Marks row `i` selected and, when `activate`, tells the owner. */
  select(i: number, activate: boolean): void {
    if (i < 0 || i >= this.rows.length) return;
    this.rowEl(this.selected)?.setAttribute('aria-selected', 'false');
    this.selected = i;
    this.rowEl(i)?.setAttribute('aria-selected', 'true');
    this.setActive(i);
    if (activate) this.opts.onActivate?.(this.rows[i], i);
  }

  private onKey(e: KeyboardEvent): void {
    const next = rovingIndex(e.key, this.active, this.rows.length);
    if (next !== undefined) {
      e.preventDefault();
      this.focusRow(next);
      return;
    }
    if ((e.key === 'Enter' || e.key === ' ') && (e.target as Element).tagName === 'TR') {
      e.preventDefault();
      this.select(this.active, true);
    }
  }
}

/** "Rows 1–100 of 2,345" with previous and next buttons, for lists the engine answers page by page. */
export class Pager {
  readonly el: HTMLElement;
  private readonly text: HTMLElement;
  private readonly prev: HTMLButtonElement;
  private readonly next: HTMLButtonElement;
  private readonly label: string;
  offset = 0;
  total = 0;

  constructor(
    readonly pageSize: number,
    private readonly onPage: (offset: number) => void,
    label = 'Rows',
  ) {
    this.text = h('span', { class: 'pager-text', attrs: { 'aria-live': 'polite' } });
    this.prev = h(
      'button',
      {
        class: 'secondary',
        attrs: { type: 'button', 'aria-label': `Previous ${pageSize} ${label.toLowerCase()}` },
        on: { click: () => this.go(this.offset - this.pageSize) },
      },
      '‹ Previous',
    );
    this.next = h(
      'button',
      {
        class: 'secondary',
        attrs: { type: 'button', 'aria-label': `Next ${pageSize} ${label.toLowerCase()}` },
        on: { click: () => this.go(this.offset + this.pageSize) },
      },
      'Next ›',
    );
    this.el = h(
      'div',
      { class: 'pager', attrs: { 'data-pager': label.toLowerCase() } },
      this.prev,
      this.text,
      this.next,
    );
    this.label = label;
    this.update(0, 0, 0);
  }

  private go(offset: number): void {
    if (offset < 0 || offset >= this.total) return;
    this.onPage(offset);
  }

  update(offset: number, shown: number, total: number): void {
    this.offset = offset;
    this.total = total;
    this.text.textContent =
      total === 0
        ? `No ${this.label.toLowerCase()}`
        : `${this.label} ${(offset + 1).toLocaleString('en-US')}–${(offset + shown).toLocaleString('en-US')} of ${total.toLocaleString('en-US')}`;
    this.prev.disabled = offset === 0;
    this.next.disabled = offset + shown >= total;
    this.el.hidden = total <= this.pageSize && offset === 0;
  }
}
