/**
 * The Snapshots view (in Run and Debug): snapshots grouped by the inspector session they came from, since only
 * snapshots of one session can be compared object by object (a worker thread's snapshots form a group of their own,
 * named after the worker). Each shows its label, time, file size and heap totals.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { formatBytes } from '../ui/format';
import type { SnapshotEntry, SnapshotStore } from './store';

export type SnapshotNode = { kind: 'group'; key: string; title: string; entries: SnapshotEntry[] } | { kind: 'snapshot'; entry: SnapshotEntry };

export class SnapshotsView implements vscode.TreeDataProvider<SnapshotNode>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<SnapshotNode | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private readonly disposables: vscode.Disposable[] = [this.changeEmitter];
  private groups: SnapshotNode[] = [];

  constructor(private readonly store: SnapshotStore) {
    this.disposables.push(store.onDidChange(() => this.changeEmitter.fire(undefined)));
  }

  async getChildren(node?: SnapshotNode): Promise<SnapshotNode[]> {
    if (node?.kind === 'group') return node.entries.map((entry) => ({ kind: 'snapshot', entry }));
    if (node) return [];
    const entries = await this.store.list();
    const bySession = new Map<string, SnapshotEntry[]>();
    for (const e of entries) {
      const key = e.external ? 'external' : e.sessionId ?? `file:${e.file}`;
      const list = bySession.get(key) ?? [];
      list.push(e);
      bySession.set(key, list);
    }
    this.groups = [...bySession.entries()]
      .map(([key, list]): SnapshotNode => ({ kind: 'group', key, title: groupTitle(key, list), entries: list }))
      .sort((a, b) => (a.kind === 'group' && b.kind === 'group' ? (a.key === 'external' ? 1 : b.key === 'external' ? -1 : b.entries[0].time.localeCompare(a.entries[0].time)) : 0));
    // A single group needs no grouping level.
    if (this.groups.length === 1 && this.groups[0].kind === 'group' && this.groups[0].key !== 'external') return this.getChildren(this.groups[0]);
    return this.groups;
  }

  getTreeItem(node: SnapshotNode): vscode.TreeItem {
    if (node.kind === 'group') {
      const item = new vscode.TreeItem(node.title, vscode.TreeItemCollapsibleState.Expanded);
      item.contextValue = 'snapshotGroup';
      item.iconPath = new vscode.ThemeIcon(node.key === 'external' ? 'folder-opened' : 'server-process');
      item.tooltip = node.key === 'external' ? 'Snapshot files opened from disk' : 'Snapshots of one inspector session: they can be compared object by object';
      return item;
    }
    const e = node.entry;
    const item = new vscode.TreeItem(e.label, vscode.TreeItemCollapsibleState.None);
    item.id = e.file;
    item.resourceUri = vscode.Uri.file(e.file);
    const time = new Date(e.time);
    const heap = e.heapUsed !== undefined ? ` · heap ${formatBytes(e.heapUsed)}${e.heapTotal !== undefined ? ` of ${formatBytes(e.heapTotal)}` : ''}` : '';
    item.description = `${time.toLocaleTimeString()} · ${formatBytes(e.size)}${heap}`;
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**${escapeMd(e.label)}**\n\n`);
    md.appendMarkdown(`- taken ${time.toLocaleString()}${e.pid !== undefined ? ` from pid ${e.pid}` : ''}\n`);
    md.appendMarkdown(`- file ${formatBytes(e.size)}: \`${escapeMd(e.file)}\`\n`);
    if (e.heapUsed !== undefined) md.appendMarkdown(`- heap used ${formatBytes(e.heapUsed)}${e.heapTotal !== undefined ? ` of ${formatBytes(e.heapTotal)}` : ''}\n`);
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

function groupTitle(key: string, list: SnapshotEntry[]): string {
  if (key === 'external') return 'Opened files';
  const first = list[0];
  const when = new Date(first.time).toLocaleString();
  if (key.startsWith('file:')) return path.basename(first.file);
  // A worker's snapshots are a group of their own: its heap and object ids are not the main thread's.
  return `${first.pid !== undefined ? `pid ${first.pid}` : 'process'}${first.thread ? ` ${first.thread}` : ''} · ${when}${key.includes('#ids') ? ' (after an id reset)' : ''}`;
}

function escapeMd(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
