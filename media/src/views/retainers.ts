/**
 * Retainers of one object: its retainer path from a GC root, and the retainers tree, fetched a page at a time (the
 * children of a tree item are the retainers of that item's object). Keyboard: the tree follows the WAI-ARIA tree
 * pattern (arrows, Home, End, Enter or Right to expand, Left to collapse or go to the parent); P shows the path of the
 * selected object.
 */
import type { RetainerInfo, SnapshotRef } from '../../../protocol/webview';
import type { App } from '../app';
import { formatBytes, formatCount, h, replace, rovingIndex } from '../dom';
import { edgeText, renderPath } from './path';
import { snapshotOption } from './snapshotOption';

export const RETAINERS_PAGE = 50;

interface TreeItem {
  el: HTMLElement;
  row: HTMLElement;
  group: HTMLElement | undefined;
  info: RetainerInfo | undefined;
  nodeId: number;
  level: number;
  parent: TreeItem | undefined;
  expanded: boolean;
  loaded: number;
  total: number;
  /** An object already on the chain above: expanding it would only repeat that chain. */
  cycle: boolean;
  more?: HTMLElement;
}

export class RetainersView {
  readonly el: HTMLElement;
  private readonly heading = h('h2');
  private readonly snapshotPick = h('select', { attrs: { 'aria-label': 'Snapshot' } });
  private readonly pathBox = h('section', { class: 'path-box', attrs: { 'aria-label': 'Retainer path' } });
  private readonly tree = h('ul', { class: 'tree', attrs: { role: 'tree', 'aria-label': 'Retainers' } });
  private readonly pathButton = h(
    'button',
    {
      class: 'secondary',
      attrs: { type: 'button', title: 'Show the retainer path of the selected object (P)', disabled: true },
    },
    'Show path of selected',
  );
  private readonly empty = h(
    'p',
    { class: 'muted' },
    'Choose an object: “Explore retainers” on a leak group, or an object in the Summary.',
  );
  private focus: { snapshot: number; nodeId: number } | undefined;
  private root: TreeItem | undefined;
  private active: TreeItem | undefined;
  private generation = 0;

  constructor(private readonly app: App) {
    this.snapshotPick.addEventListener('change', () => {
      if (this.focus) this.open({ snapshot: Number(this.snapshotPick.value), nodeId: this.focus.nodeId });
    });
    this.tree.addEventListener('keydown', (e) => this.onKey(e));
    this.pathButton.addEventListener('click', () => {
      if (this.active?.info) this.showPath(this.active.nodeId, this.active.info.node);
    });
    this.el = h(
      'div',
      { class: 'view-body' },
      this.empty,
      h('div', { class: 'toolbar' }, this.heading, h('label', null, 'Snapshot ', this.snapshotPick)),
      h('h3', null, 'Retainer path'),
      this.pathBox,
      h('div', { class: 'toolbar' }, h('h3', null, 'Retainers tree'), this.pathButton),
      this.tree,
    );
    this.setVisible(false);
  }

  private setVisible(has: boolean): void {
    for (const c of Array.from(this.el.children)) (c as HTMLElement).hidden = c === this.empty ? has : !has;
  }

  setSnapshots(snapshots: SnapshotRef[]): void {
    replace(this.snapshotPick, ...snapshots.map(snapshotOption));
  }

  /** Opens the retainers of one object: its path and the first page of the tree. */
  open(focus: { snapshot: number; nodeId: number }, name?: string): void {
    this.focus = focus;
    this.generation++;
    this.setVisible(true);
    this.snapshotPick.value = String(focus.snapshot);
    replace(
      this.heading,
      'Retainers of ',
      h('span', { class: 'cls' }, name ?? 'object'),
      h('span', { class: 'muted' }, ` @${focus.nodeId}`),
    );
    this.showPath(focus.nodeId, name);
    replace(this.tree);
    const row = h('div', { class: 'tree-row' });
    this.root = {
      el: this.tree,
      row,
      group: this.tree,
      info: undefined,
      nodeId: focus.nodeId,
      level: 0,
      parent: undefined,
      expanded: true,
      loaded: 0,
      total: 0,
      cycle: false,
    };
    this.active = undefined;
    this.pathButton.disabled = true;
    this.loadPage(this.root);
  }

  private showPath(nodeId: number, name: string | undefined): void {
    const focus = this.focus!;
    const gen = this.generation;
    replace(this.pathBox, h('p', { class: 'muted' }, 'Finding the retainer path…'));
    const { answer } = this.app.query({ kind: 'retainerPath', snapshot: focus.snapshot, nodeId }, (t) =>
      replace(this.pathBox, h('p', { class: 'muted' }, `${t}…`)),
    );
    void answer.then((a) => {
      if (gen !== this.generation) return;
      if (!a.ok) replace(this.pathBox, h('p', { class: 'error' }, a.error));
      else {
        const last = a.value[a.value.length - 1];
        if (name === undefined && last && nodeId === focus.nodeId)
          replace(
            this.heading,
            'Retainers of ',
            h('span', { class: 'cls' }, last.node),
            h('span', { class: 'muted' }, ` @${nodeId}`),
          );
        replace(
          this.pathBox,
          h('p', { class: 'muted' }, `Path to ${last?.node ?? 'object'} @${nodeId}, from a GC root:`),
          renderPath(this.app, a.value, `Retainer path of @${nodeId}`),
        );
      }
    });
  }

  private loadPage(item: TreeItem): void {
    const focus = this.focus!;
    const gen = this.generation;
    const group = item.group!;
    item.more?.remove();
    const loading = h('li', { class: 'muted tree-note', attrs: { role: 'none' } }, 'Loading retainers…');
    group.appendChild(loading);
    const { answer } = this.app.query(
      { kind: 'retainers', snapshot: focus.snapshot, nodeId: item.nodeId, offset: item.loaded, limit: RETAINERS_PAGE },
      (t) => (loading.textContent = `${t}…`),
    );
    void answer.then((a) => {
      if (gen !== this.generation) return;
      loading.remove();
      if (!a.ok) {
        group.appendChild(h('li', { class: 'error tree-note', attrs: { role: 'none' } }, a.error));
        return;
      }
      item.total = a.value.total;
      for (const r of a.value.items) group.appendChild(this.makeItem(r, item).el);
      item.loaded += a.value.items.length;
      if (item.loaded === 0)
        group.appendChild(
          h(
            'li',
            { class: 'muted tree-note', attrs: { role: 'none' } },
            item === this.root
              ? 'No retainers: only weak references or GC roots hold this object.'
              : 'No further retainers.',
          ),
        );
      if (item.loaded < item.total) {
        const rest = item.total - item.loaded;
        const more = h(
          'li',
          {
            class: 'tree-more',
            attrs: { role: 'treeitem', tabindex: -1, 'aria-level': item.level + 1, 'data-more': 'true' },
          },
          `Show ${Math.min(RETAINERS_PAGE, rest)} more of ${formatCount(rest)} remaining…`,
        );
        more.addEventListener('click', () => this.loadMore(item));
        item.more = more;
        group.appendChild(more);
      }
      if (!this.active && item === this.root) {
        const first = this.visibleItems()[0];
        if (first) this.setActive(first, false);
      }
    });
  }

  private loadMore(item: TreeItem): void {
    const wasFocused = item.more && document.activeElement === item.more;
    const before = item.loaded;
    this.loadPage(item);
    if (wasFocused) {
      // Keep the keyboard on the first new row once it arrives.
      const group = item.group!;
      const obs = new MutationObserver(() => {
        const items = Array.from(group.children).filter((c) => c.getAttribute('role') === 'treeitem');
        const target = items[before] as HTMLElement | undefined;
        if (target) {
          obs.disconnect();
          const t = this.itemOf(target);
          if (t) this.setActive(t, true);
          else target.focus();
        }
      });
      obs.observe(group, { childList: true });
    }
  }

  private readonly items = new WeakMap<Element, TreeItem>();

  private itemOf(el: Element): TreeItem | undefined {
    return this.items.get(el);
  }

  private onChain(parent: TreeItem | undefined, nodeId: number): boolean {
    for (let p = parent; p; p = p.parent) if (p.nodeId === nodeId) return true;
    return false;
  }

  /** A source link inside a tree row: opening it must not also expand or collapse the row. */
  private rowLink(location: NonNullable<RetainerInfo['location']>): HTMLAnchorElement {
    const a = this.app.link(location);
    a.addEventListener('click', (e) => e.stopPropagation());
    return a;
  }

  private makeItem(r: RetainerInfo, parent: TreeItem): TreeItem {
    const level = parent.level + 1;
    const cycle = this.onChain(parent, r.nodeId);
    const toggle = h('span', { class: 'twisty', attrs: { 'aria-hidden': 'true' } }, cycle ? '' : '▸');
    const row = h(
      'div',
      { class: 'tree-row' },
      toggle,
      h(
        'span',
        { class: `edge edge-${r.edgeType}`, attrs: { title: `${r.edgeType} edge` } },
        edgeText(r.edge, r.edgeType),
      ),
      h('span', { class: 'muted' }, ' in '),
      h('span', { class: 'node' }, r.node || `(${r.nodeType})`),
      ' ',
      h('span', { class: 'muted id' }, `@${r.nodeId}`),
      cycle
        ? h('span', { class: 'badge', attrs: { title: 'This object is already on the chain above' } }, 'cycle')
        : null,
      h(
        'span',
        { class: 'tree-fig muted', attrs: { title: 'Distance from the GC roots' } },
        r.distance >= 0 && r.distance < 1e8 ? `distance ${r.distance}` : '',
      ),
      h('span', { class: 'tree-fig', attrs: { title: 'Retained size' } }, formatBytes(r.retainedSize)),
      r.location ? this.rowLink(r.location) : null,
    );
    const el = h(
      'li',
      {
        attrs: {
          role: 'treeitem',
          tabindex: -1,
          'aria-level': level,
          'aria-selected': 'false',
          'aria-expanded': cycle ? undefined : 'false',
          'data-node-id': r.nodeId,
        },
      },
      row,
    );
    const item: TreeItem = {
      el,
      row,
      group: undefined,
      info: r,
      nodeId: r.nodeId,
      level,
      parent,
      expanded: false,
      loaded: 0,
      total: 0,
      cycle,
    };
    this.items.set(el, item);
    row.addEventListener('click', () => {
      this.setActive(item, true);
      this.toggle(item);
    });
    return item;
  }

  private toggle(item: TreeItem, expand = !item.expanded): void {
    if (item.cycle || !item.info || item.expanded === expand) return;
    item.expanded = expand;
    item.el.setAttribute('aria-expanded', String(expand));
    (item.row.firstChild as HTMLElement).textContent = expand ? '▾' : '▸';
    if (expand) {
      if (!item.group) {
        item.group = h('ul', { attrs: { role: 'group' } });
        item.el.appendChild(item.group);
        this.loadPage(item);
      }
      item.group.hidden = false;
    } else if (item.group) item.group.hidden = true;
  }

  /** Tree items in display order, skipping collapsed subtrees. */
  private visibleItems(): HTMLElement[] {
    const out: HTMLElement[] = [];
    const walk = (group: Element) => {
      for (const li of Array.from(group.children)) {
        if (li.getAttribute('role') !== 'treeitem') continue;
        out.push(li as HTMLElement);
        const item = this.itemOf(li);
        if (item?.expanded && item.group) walk(item.group);
      }
    };
    walk(this.tree);
    return out;
  }

  private setActive(item: TreeItem | HTMLElement, focus: boolean): void {
    const t = item instanceof HTMLElement ? this.itemOf(item) : item;
    const el = item instanceof HTMLElement ? item : item.el;
    for (const old of this.tree.querySelectorAll('[role=treeitem][tabindex="0"]')) old.setAttribute('tabindex', '-1');
    this.tree.querySelector('[aria-selected=true]')?.setAttribute('aria-selected', 'false');
    el.setAttribute('tabindex', '0');
    if (t) {
      el.setAttribute('aria-selected', 'true');
      this.active = t;
    }
    this.pathButton.disabled = !this.active?.info;
    if (focus) el.focus();
  }

  private onKey(e: KeyboardEvent): void {
    const target = (e.target as Element).closest('[role=treeitem]') as HTMLElement | null;
    if (!target) return;
    const items = this.visibleItems();
    const index = items.indexOf(target);
    const item = this.itemOf(target);
    const isMore = target.dataset.more === 'true';
    const next = rovingIndex(e.key, index, items.length);
    if (next !== undefined) {
      e.preventDefault();
      const el = items[next];
      const t = this.itemOf(el);
      if (t) this.setActive(t, true);
      else {
        this.setActive(el, true);
      }
      return;
    }
    if (isMore && (e.key === 'Enter' || e.key === ' ')) {
      e.preventDefault();
      const owner = this.ownerOfMore(target);
      if (owner) this.loadMore(owner);
      return;
    }
    if (!item) return;
    if (e.key === 'ArrowRight') {
      e.preventDefault();
      if (!item.expanded) this.toggle(item, true);
      else {
        const child =
          item.group &&
          (Array.from(item.group.children).find((c) => c.getAttribute('role') === 'treeitem') as
            HTMLElement | undefined);
        if (child) this.setActive(this.itemOf(child) ?? child, true);
      }
    } else if (e.key === 'ArrowLeft') {
      e.preventDefault();
      if (item.expanded) this.toggle(item, false);
      else if (item.parent && item.parent !== this.root) this.setActive(item.parent, true);
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      this.toggle(item);
    } else if (e.key === 'p' || e.key === 'P') {
      e.preventDefault();
      this.showPath(item.nodeId, item.info?.node);
    }
  }

  private ownerOfMore(more: HTMLElement): TreeItem | undefined {
    const group = more.parentElement;
    if (!group) return undefined;
    if (group === this.tree) return this.root;
    return this.itemOf(group.parentElement!);
  }
}
