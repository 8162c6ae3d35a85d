/**
 * The Snapshots view (in Run and Debug): snapshots grouped by the inspector session they came from, since only
 * snapshots of one session can be compared object by object (a worker thread's snapshots form a group of their own,
 * named after the worker), and within a session by the Find Leaks run that took them. Newest first: sessions, and
 * the runs and lone snapshots of a session; a run's own snapshots in the order taken (baseline, then the rounds).
 * Each shows its label, time, file size and heap totals.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { formatBytes } from '../ui/format';
import type { SnapshotEntry, SnapshotStore } from './store';

/** A group of snapshots: of one inspector session, of one Find Leaks run in it, or the files opened from disk. */
export interface SnapshotGroup {
  kind: 'group';
  group: 'session' | 'run' | 'external';
  key: string;
  title: string;
  /** Its snapshots, each at whatever depth (for commands on a whole group). */
  entries: SnapshotEntry[];
  children: SnapshotNode[];
}

export type SnapshotNode = SnapshotGroup | { kind: 'snapshot'; entry: SnapshotEntry };

export class SnapshotsView implements vscode.TreeDataProvider<SnapshotNode>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<SnapshotNode | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private readonly disposables: vscode.Disposable[] = [this.changeEmitter];

  constructor(private readonly store: SnapshotStore) {
    this.disposables.push(store.onDidChange(() => this.changeEmitter.fire(undefined)));
  }

  async getChildren(node?: SnapshotNode): Promise<SnapshotNode[]> {
    if (node) return node.kind === 'group' ? node.children : [];
    const groups = snapshotGroups(await this.store.list());
    // A single session needs no level of its own: its runs and snapshots are the top level.
    if (groups.length === 1 && groups[0].group === 'session') return groups[0].children;
    return groups;
  }

  getTreeItem(node: SnapshotNode): vscode.TreeItem {
    if (node.kind === 'group') {
      const item = new vscode.TreeItem(node.title, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `${node.group}:${node.key}`;
      item.contextValue = `group.${node.group}`;
      item.description = `${node.entries.length} snapshot${node.entries.length === 1 ? '' : 's'}`;
      item.iconPath = new vscode.ThemeIcon(
        node.group === 'external' ? 'folder-opened' : node.group === 'run' ? 'search' : 'server-process',
      );
      item.tooltip =
        node.group === 'external'
          ? 'Snapshot files opened from disk'
          : node.group === 'run'
            ? 'The snapshots of one Find Leaks run: its baseline, then one after each round'
            : 'Snapshots of one inspector session: they can be compared object by object';
      return item;
    }
    const e = node.entry;
    const item = new vscode.TreeItem(e.label, vscode.TreeItemCollapsibleState.None);
    item.id = e.file;
    item.resourceUri = vscode.Uri.file(e.file);
    const time = new Date(e.time);
    const heap =
      e.heapUsed !== undefined
        ? ` · heap ${formatBytes(e.heapUsed)}${e.heapTotal !== undefined ? ` of ${formatBytes(e.heapTotal)}` : ''}`
        : '';
    item.description = `${time.toLocaleTimeString()} · ${formatBytes(e.size)}${heap}`;
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**${escapeMd(e.label)}**\n\n`);
    md.appendMarkdown(`- taken ${time.toLocaleString()}${e.pid !== undefined ? ` from pid ${e.pid}` : ''}\n`);
    // Inside a code span markdown escapes are shown as typed, so the path goes in as it is.
    md.appendMarkdown(`- file ${formatBytes(e.size)}: ${codeSpan(e.file)}\n`);
    if (e.heapUsed !== undefined)
      md.appendMarkdown(
        `- heap used ${formatBytes(e.heapUsed)}${e.heapTotal !== undefined ? ` of ${formatBytes(e.heapTotal)}` : ''}\n`,
      );
    if (e.thread) md.appendMarkdown(`- of the worker thread ${escapeMd(e.thread)}, whose heap is its own\n`);
    if (e.allocationTracking) md.appendMarkdown('- with allocation stacks\n');
    item.tooltip = md;
    item.iconPath = new vscode.ThemeIcon(e.allocationTracking ? 'record' : 'file-binary');
    item.contextValue = e.external ? 'snapshot.external' : 'snapshot';
    item.command = { command: 'leakLens.snapshots.open', title: 'Open', arguments: [node] };
    return item;
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** Newest first, by the time of their latest snapshot. */
function newestFirst(a: { latest: string }, b: { latest: string }): number {
  return b.latest.localeCompare(a.latest);
}

function byCapture(a: SnapshotEntry, b: SnapshotEntry): number {
  return a.time.localeCompare(b.time) || (a.sequence ?? 0) - (b.sequence ?? 0);
}

function latest(entries: SnapshotEntry[]): string {
  return entries.reduce((t, e) => (e.time > t ? e.time : t), '');
}

/**
 * The view's groups: one per inspector session (newest first; files opened from disk last), and in each session one
 * group per Find Leaks run beside the snapshots taken alone (newest first).
 */
export function snapshotGroups(entries: SnapshotEntry[]): SnapshotGroup[] {
  const bySession = new Map<string, SnapshotEntry[]>();
  for (const e of entries) {
    const key = e.external ? 'external' : (e.sessionId ?? `file:${e.file}`);
    bySession.set(key, [...(bySession.get(key) ?? []), e]);
  }
  const groups: { node: SnapshotGroup; latest: string }[] = [];
  for (const [key, list] of bySession) {
    const sorted = [...list].sort(byCapture);
    if (key === 'external') {
      groups.push({
        node: {
          kind: 'group',
          group: 'external',
          key,
          title: 'Opened files',
          entries: sorted,
          children: [...sorted].reverse().map(leaf),
        },
        latest: '',
      });
      continue;
    }
    const runs = new Map<string, SnapshotEntry[]>();
    const children: { node: SnapshotNode; latest: string }[] = [];
    for (const e of sorted) {
      if (e.run) runs.set(e.run, [...(runs.get(e.run) ?? []), e]);
      else children.push({ node: leaf(e), latest: e.time });
    }
    for (const [run, members] of runs) {
      children.push({
        node: {
          kind: 'group',
          group: 'run',
          key: `${key}|${run}`,
          title: `Find Leaks at ${new Date(members[0].time).toLocaleTimeString()}`,
          entries: members,
          children: members.map(leaf),
        },
        latest: latest(members),
      });
    }
    children.sort(newestFirst);
    groups.push({
      node: {
        kind: 'group',
        group: 'session',
        key,
        title: sessionTitle(key, sorted),
        entries: sorted,
        children: children.map((c) => c.node),
      },
      latest: latest(sorted),
    });
  }
  const external = (g: { node: SnapshotGroup }): boolean => g.node.group === 'external';
  return groups.sort((a, b) => (external(a) ? 1 : external(b) ? -1 : newestFirst(a, b))).map((g) => g.node);
}

function leaf(entry: SnapshotEntry): SnapshotNode {
  return { kind: 'snapshot', entry };
}

function sessionTitle(key: string, list: SnapshotEntry[]): string {
  const first = list[0];
  const when = new Date(first.time).toLocaleString();
  if (key.startsWith('file:')) return path.basename(first.file);
  // A worker's snapshots are a group of their own: its heap and object ids are not the main thread's.
  return `${first.pid !== undefined ? `pid ${first.pid}` : 'process'}${first.thread ? ` ${first.thread}` : ''} · ${when}${key.includes('#ids') ? ' (after an id reset)' : ''}`;
}

/** `text` as a markdown code span: fenced with more backticks than it holds in a row, so it shows exactly as it is. */
function codeSpan(text: string): string {
  const fence = '`'.repeat(Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length)) + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

function escapeMd(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
