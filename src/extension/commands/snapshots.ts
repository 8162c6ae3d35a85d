/** Commands on snapshot files: open, open from disk, compare, rename, delete, reveal. */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { UserError } from '../errors';
import { logChannel } from '../log';
import type { SnapshotEntry } from '../snapshots/store';
import type { SnapshotNode } from '../snapshots/view';
import { showMarkdown } from '../ui/documents';
import { formatBytes, formatCount, signed } from '../ui/format';
import { comparisonMarkdown, md, summaryMarkdown } from '../ui/markdown';
import { MemoryPanel } from '../webview/memoryPanel';
import { guardCommand, type CommandOptions, type Outcome, type Services } from './common';
import type { LeakReport } from '../../../protocol/report';
import type { ClassSummary } from '../../../protocol/heap';

/** Anything a snapshot command may be given: a view node, an entry, a URI, or a path. */
export type SnapshotArg = SnapshotNode | SnapshotEntry | vscode.Uri | string | undefined;

async function toEntry(s: Services, arg: SnapshotArg): Promise<SnapshotEntry | undefined> {
  if (!arg) return undefined;
  if (typeof arg === 'string') return s.store.describe(arg);
  if (arg instanceof vscode.Uri) return s.store.describe(arg.fsPath);
  if ('kind' in arg) return arg.kind === 'snapshot' ? arg.entry : undefined;
  return arg;
}

/** Snapshot entries from a view command's (clicked, selected) arguments. */
async function toEntries(
  s: Services,
  clicked: SnapshotArg,
  selected?: SnapshotArg[] | unknown,
): Promise<SnapshotEntry[]> {
  const args = Array.isArray(selected) && selected.length > 0 ? (selected as SnapshotArg[]) : [clicked];
  const out: SnapshotEntry[] = [];
  for (const a of args) {
    const e = await toEntry(s, a);
    if (e && !out.some((x) => x.file === e.file)) out.push(e);
  }
  return out;
}

async function pickSnapshot(s: Services, title: string, exclude?: string): Promise<SnapshotEntry | undefined> {
  const entries = (await s.store.list()).filter((e) => e.file !== exclude).reverse();
  if (entries.length === 0)
    throw new UserError(
      'There are no snapshots yet. Take one with "Leak Lens: Take Heap Snapshot", or open a file with "Leak Lens: Open Heap Snapshot File...".',
    );
  const picked = await vscode.window.showQuickPick(
    // The label the user gave, with the file's name below it (labels such as "baseline" recur from run to run).
    entries.map((e) => ({
      label: e.label,
      description: `${new Date(e.time).toLocaleString()} · ${formatBytes(e.size)}${e.pid !== undefined ? ` · pid ${e.pid}` : ''}`,
      detail: path.basename(e.file),
      entry: e,
    })),
    { title, placeHolder: 'Pick a snapshot' },
  );
  return picked?.entry;
}

/** An opened snapshot: the document (or editor) showing it, and its largest classes when computed here. */
export interface OpenSnapshotResult {
  uri: vscode.Uri;
  nodeCount?: number;
  totalSize?: number;
  classes?: ClassSummary[];
}

/** The custom editor of src/extension/webview (summary, objects, retainers, paged from the engine worker). */
const SNAPSHOT_EDITOR = 'leakLens.snapshotEditor';

/**
 * Opens a snapshot. A person gets the snapshot editor; automation (`interactive: false`) gets the class summary as
 * a document, computed in the engine worker.
 */
export function openSnapshot(
  s: Services,
  arg: SnapshotArg,
  options: CommandOptions = {},
): Promise<Outcome<OpenSnapshotResult>> {
  const interactive = options.interactive ?? true;
  return guardCommand('open the heap snapshot', async () => {
    const entry =
      (await toEntry(s, arg)) ?? (interactive ? await pickSnapshot(s, 'Leak Lens: open which snapshot?') : undefined);
    if (!entry) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
    return show(s, entry.file, entry.label, interactive);
  });
}

async function show(s: Services, file: string, title: string, interactive: boolean): Promise<OpenSnapshotResult> {
  if (!interactive) return summarize(s, file, title, false);
  const uri = vscode.Uri.file(file);
  await vscode.commands.executeCommand('vscode.openWith', uri, SNAPSHOT_EDITOR);
  return { uri };
}

async function summarize(s: Services, file: string, title: string, interactive: boolean): Promise<OpenSnapshotResult> {
  return vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `Leak Lens: reading ${path.basename(file)}`,
      cancellable: true,
    },
    async (progress, token) => {
      const report = (message: string) => progress.report({ message });
      const handle = await s.engine.request({ kind: 'load', file }, token, report);
      const page = await s.engine.request({ kind: 'summary', file, limit: 60 }, token, report);
      const uri = s.documents.newUri(`Snapshot - ${title}`);
      s.documents.set(uri, summaryMarkdown(title, handle.totalSize, handle.nodeCount, page.items, page.total));
      await showMarkdown(uri, { preview: interactive });
      return { uri, nodeCount: handle.nodeCount, totalSize: handle.totalSize, classes: page.items };
    },
  );
}

/** Open Heap Snapshot File...: a `.heapsnapshot` from disk (or the given URI), listed in the Snapshots view. */
export function openSnapshotFile(
  s: Services,
  arg?: vscode.Uri | string,
  options: CommandOptions = {},
): Promise<Outcome<OpenSnapshotResult>> {
  const interactive = options.interactive ?? true;
  return guardCommand('open the heap snapshot file', async () => {
    let uri = typeof arg === 'string' ? vscode.Uri.file(arg) : arg;
    if (!uri) {
      if (!interactive) throw new UserError('No snapshot file was given.');
      const picked = await vscode.window.showOpenDialog({
        canSelectMany: false,
        filters: { 'Heap snapshots': ['heapsnapshot'] },
        title: 'Open Heap Snapshot',
        openLabel: 'Open Snapshot',
      });
      uri = picked?.[0];
      if (!uri) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
    }
    if (uri.scheme !== 'file')
      throw new UserError(
        `Leak Lens reads snapshots from local files only; ${uri.toString()} is not one. Copy it to this machine first.`,
      );
    const file = uri.fsPath;
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(file);
    } catch {
      throw new UserError(`There is no file ${file}. Check the path and try again.`);
    }
    if (!stat.isFile()) throw new UserError(`${file} is a folder, not a heap snapshot file.`);
    if (!interactive) {
      const result = await summarize(s, file, path.basename(file), false);
      // Listed only once it proved readable.
      await s.store.addExternal(file);
      return result;
    }
    await s.store.addExternal(file);
    return show(s, file, path.basename(file), true);
  });
}

export interface CompareResult {
  uri: vscode.Uri;
  /** True when the snapshots come from one session, so objects were matched by id. */
  byObjectId: boolean;
  report?: LeakReport;
}

/** Compare Snapshots...: two snapshots of one session by object id (with leak groups); otherwise by class totals. */
export function compareSnapshotsCommand(
  s: Services,
  clicked?: SnapshotArg,
  selected?: SnapshotArg[] | unknown,
  options: CommandOptions = {},
): Promise<Outcome<CompareResult>> {
  const interactive = options.interactive ?? true;
  return guardCommand('compare the snapshots', async () => {
    let entries = await toEntries(s, clicked, selected);
    if (entries.length > 2)
      throw new UserError(`Select exactly two snapshots to compare (${entries.length} are selected).`);
    if (entries.length < 2) {
      if (!interactive) throw new UserError('Comparing needs two snapshots.');
      const first = entries[0] ?? (await pickSnapshot(s, 'Leak Lens: compare which snapshot (the earlier one)?'));
      if (!first) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
      const second = await pickSnapshot(s, `Leak Lens: compare "${first.label}" with which snapshot?`, first.file);
      if (!second) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
      entries = [first, second];
    }
    const [a, b] = [...entries].sort((x, y) =>
      x.sessionId && x.sessionId === y.sessionId ? (x.sequence ?? 0) - (y.sequence ?? 0) : x.time.localeCompare(y.time),
    );
    const sameSession = !!a.sessionId && a.sessionId === b.sessionId;
    return vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Leak Lens: comparing "${a.label}" and "${b.label}"`,
        cancellable: true,
      },
      async (progress, token) => {
        const say = (message: string) => progress.report({ message });
        const uri = s.documents.newUri(`Compare - ${a.label} - ${b.label}`);
        if (sameSession && interactive) {
          // The panel pages the comparison from the engine itself; the leak groups come with the report.
          const report = await s.engine.request({ kind: 'analyze', files: [a.file, b.file] }, token, say);
          MemoryPanel.show(
            s.context,
            s.engine.engine,
            {
              title: `Compare ${a.label} → ${b.label}`,
              report,
              snapshots: [
                { file: a.file, label: a.label, time: a.time },
                { file: b.file, label: b.label, time: b.time },
              ],
              initialView: 'comparison',
            },
            logChannel(),
          );
          s.documents.set(uri, comparisonMarkdown(a.label, b.label, [], 0, report));
          return { uri, byObjectId: true, report };
        }
        if (sameSession) {
          const report = await s.engine.request({ kind: 'analyze', files: [a.file, b.file] }, token, say);
          const page = await s.engine.request({ kind: 'compare', base: a.file, target: b.file, limit: 50 }, token, say);
          s.documents.set(uri, comparisonMarkdown(a.label, b.label, page.items, page.total, report));
          await showMarkdown(uri, { preview: interactive });
          return { uri, byObjectId: true, report };
        }
        // Different processes (or unknown origin): object ids mean nothing across them, class totals still do.
        const [sa, sb] = [
          await s.engine.request({ kind: 'summary', file: a.file, limit: 100_000 }, token, say),
          await s.engine.request({ kind: 'summary', file: b.file, limit: 100_000 }, token, say),
        ];
        s.documents.set(uri, classTotalsMarkdown(a.label, b.label, sa.items, sb.items));
        await showMarkdown(uri, { preview: interactive });
        return { uri, byObjectId: false };
      },
    );
  });
}

function classTotalsMarkdown(aLabel: string, bLabel: string, a: ClassSummary[], b: ClassSummary[]): string {
  const rows = new Map<string, { a?: ClassSummary; b?: ClassSummary }>();
  for (const r of a) rows.set(r.className, { a: r });
  for (const r of b) rows.set(r.className, { ...rows.get(r.className), b: r });
  const diffs = [...rows.entries()]
    .map(([name, r]) => ({
      name,
      countA: r.a?.count ?? 0,
      countB: r.b?.count ?? 0,
      size: (r.b?.shallowSize ?? 0) - (r.a?.shallowSize ?? 0),
    }))
    .sort((x, y) => Math.abs(y.size) - Math.abs(x.size))
    .slice(0, 50);
  const lines = [
    `# Comparison by class totals: ${md(aLabel)} → ${md(bLabel)}`,
    '',
    'These snapshots are not from one inspector session, so their objects cannot be matched by id; the table compares class totals.',
    '',
  ];
  lines.push(
    '| Class | Count before | Count after | Count change | Size change |',
    '| --- | ---: | ---: | ---: | ---: |',
  );
  for (const d of diffs)
    lines.push(
      `| ${md(d.name)} | ${formatCount(d.countA)} | ${formatCount(d.countB)} | ${signed(d.countB - d.countA)} | ${signed(d.size, (x) => formatBytes(x))} |`,
    );
  return lines.join('\n');
}

export function renameSnapshot(s: Services, arg: SnapshotArg, newLabel?: string): Promise<Outcome<string>> {
  return guardCommand('rename the snapshot', async () => {
    const entry = (await toEntry(s, arg)) ?? (await pickSnapshot(s, 'Leak Lens: rename which snapshot?'));
    if (!entry) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
    const label =
      newLabel ??
      (await vscode.window.showInputBox({
        title: 'Rename Snapshot',
        value: entry.label,
        prompt: 'A name that says when it was taken, e.g. "after 1000 requests"',
        validateInput: (v) => (v.trim() ? undefined : 'The name cannot be empty'),
      }));
    if (label === undefined) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
    if (!label.trim()) throw new UserError('A snapshot name cannot be empty.');
    await s.store.rename(entry, label.trim());
    return label.trim();
  });
}

export function deleteSnapshots(
  s: Services,
  clicked: SnapshotArg,
  selected?: SnapshotArg[] | unknown,
  options: { confirm?: boolean } = {},
): Promise<Outcome<number>> {
  return guardCommand('delete the snapshot', async () => {
    const entries = await toEntries(s, clicked, selected);
    if (entries.length === 0) throw new UserError('Select the snapshots to delete in the Snapshots view.');
    if (options.confirm ?? true) {
      const what = entries.length === 1 ? `"${entries[0].label}"` : `${entries.length} snapshots`;
      const external = entries.every((e) => e.external);
      const answer = await vscode.window.showWarningMessage(
        external
          ? `Remove ${what} from the Snapshots view? The file stays on disk.`
          : `Delete ${what}? ${entries.length === 1 ? 'The file is' : 'The files are'} removed from disk.`,
        { modal: true },
        external ? 'Remove' : 'Delete',
      );
      if (!answer) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
    }
    for (const e of entries) await s.store.delete(e);
    return entries.length;
  });
}

export function revealSnapshot(s: Services, arg: SnapshotArg): Promise<Outcome<string>> {
  return guardCommand('reveal the snapshot', async () => {
    const entry = await toEntry(s, arg);
    if (!entry) throw new UserError('Select a snapshot in the Snapshots view to reveal it.');
    const uri = vscode.Uri.file(entry.file);
    if (vscode.env.remoteName || vscode.env.uiKind === vscode.UIKind.Web) {
      // The OS file manager is on another machine: give the path instead.
      void vscode.window
        .showInformationMessage(`The snapshot is at ${entry.file} (on the machine running the extension).`, 'Copy Path')
        .then((picked) => {
          if (picked === 'Copy Path') void vscode.env.clipboard.writeText(entry.file);
        });
    } else await vscode.commands.executeCommand('revealFileInOS', uri);
    return entry.file;
  });
}
