/**
 * Where snapshots live and what is known about them. By default they go to the extension's storage (they hold the
 * program's memory, secrets included, so they stay out of the workspace); the setting `leakLens.snapshots.folder`
 * names another folder. Each snapshot has the sidecar capture writes beside it (`.meta.json`); labels are kept
 * there too. Snapshot files opened from elsewhere are remembered per workspace and never deleted from disk by a
 * rename; deleting one only forgets it.
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { readRegularFile } from '../../../engine/safeRead';
import { MAX_SIDECAR_BYTES, readSidecarFile, type CheckedSidecar } from '../../../engine/sidecar';
import { sidecarPath, type SnapshotSidecar } from '../../../protocol/sidecar';
import { writeSidecar } from '../../capture/sidecarFile';
import { openSettingAction, UserError } from '../errors';
import { log } from '../log';
import { settings } from '../settings';

/** One snapshot as the Snapshots view and the commands see it. */
export interface SnapshotEntry {
  file: string;
  label: string;
  /** ISO time of the capture (from the sidecar), else the file's modification time. */
  time: string;
  size: number;
  pid?: number;
  /** Snapshots with the same session id come from one inspector session, so their object ids are comparable. */
  sessionId?: string;
  sequence?: number;
  heapUsed?: number;
  heapTotal?: number;
  allocationTracking?: boolean;
  /** A snapshot of a worker thread: `worker <id> <name>` (absent for the main thread). */
  thread?: string;
  /** The Find Leaks run that took it (one id for its baseline and rounds); absent for a snapshot taken alone. */
  run?: string;
  /** Opened from outside the snapshot folder. */
  external: boolean;
}

/** `worker <id> <name>` from a sidecar's `thread` (untrusted: only strings are used, and briefly). */
function threadName(thread: CheckedSidecar['thread']): string | undefined {
  if (!thread || typeof thread !== 'object' || typeof thread.id !== 'string') return undefined;
  const title = typeof thread.title === 'string' ? thread.title.replace(/^\[worker \d+\]\s*/, '') : '';
  const url = typeof thread.url === 'string' ? thread.url : '';
  return `worker ${thread.id}${title || url ? ` ${title || url}` : ''}`.slice(0, 200);
}

const EXTERNAL_KEY = 'leakLens.externalSnapshots';
const LABELS_KEY = 'leakLens.snapshotLabels';
/** Minimum free space before a capture starts; below it the capture would most likely fill the disk. */
const MIN_FREE_BYTES = 64 * 1024 * 1024;

export class SnapshotStore implements vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changeEmitter.event;
  private readonly disposables: vscode.Disposable[] = [this.changeEmitter];
  private swept = new Set<string>();

  constructor(private readonly context: vscode.ExtensionContext) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('leakLens.snapshots.folder')) this.changed();
      }),
    );
  }

  changed(): void {
    this.changeEmitter.fire();
  }

  /** The snapshot folder: the setting (absolute, `~/`, or relative to the first workspace folder) or the extension's storage. */
  folder(): string {
    const configured = settings.snapshotFolder();
    if (!configured) return path.join((this.context.storageUri ?? this.context.globalStorageUri).fsPath, 'snapshots');
    const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const expanded = configured
      .replace(/^~(?=$|[\\/])/, process.env.HOME ?? '~')
      .replace(/\$\{workspaceFolder\}/g, ws ?? '');
    if (path.isAbsolute(expanded)) return expanded;
    if (!ws)
      throw new UserError(
        `The setting "leakLens.snapshots.folder" is a relative path (${configured}) but no folder is open. Open a folder, or make the setting an absolute path.`,
        [openSettingAction('leakLens.snapshots.folder')],
      );
    return path.join(ws, expanded);
  }

  /** Makes sure the folder exists and takes a file, and that the disk is not nearly full; throws a UserError if not. */
  async ensureWritable(): Promise<string> {
    const folder = this.folder();
    const fix = 'Choose a folder you can write to in the setting "leakLens.snapshots.folder".';
    try {
      await fs.promises.mkdir(folder, { recursive: true });
      const probe = path.join(folder, `.leak-lens-probe-${randomBytes(4).toString('hex')}`);
      await fs.promises.writeFile(probe, '');
      await fs.promises.rm(probe, { force: true });
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      const why =
        e.code === 'EACCES' || e.code === 'EPERM'
          ? 'permission denied'
          : e.code === 'EROFS'
            ? 'the file system is read-only'
            : e.code === 'ENOTDIR' || e.code === 'EEXIST'
              ? 'a file is in the way of the folder'
              : e.code === 'ENOSPC'
                ? 'the disk is full'
                : e.message;
      throw new UserError(
        `Leak Lens cannot save snapshots in ${folder}: ${why}. ${fix}`,
        [openSettingAction('leakLens.snapshots.folder')],
        { cause: error },
      );
    }
    try {
      const stats = await fs.promises.statfs(folder);
      const free = stats.bavail * stats.bsize;
      if (free < MIN_FREE_BYTES) {
        throw new UserError(
          `The disk holding ${folder} has only ${Math.round(free / 1048576)} MB free, too little for a heap snapshot. Free some space, or ${fix.charAt(0).toLowerCase()}${fix.slice(1)}`,
          [openSettingAction('leakLens.snapshots.folder')],
        );
      }
    } catch (error) {
      if (error instanceof UserError) throw error;
      // statfs is missing on some file systems; the capture itself reports a full disk then.
    }
    return folder;
  }

  /** A fresh file name in the folder for a snapshot of `pid`. */
  newSnapshotPath(folder: string, pid: number | undefined): string {
    const stamp = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, '')
      .replace('T', '-');
    for (let i = 0; ; i++) {
      const name = `${stamp}${pid !== undefined ? `-pid${pid}` : ''}${i ? `-${i}` : ''}.heapsnapshot`;
      const file = path.join(folder, name);
      if (!fs.existsSync(file)) return file;
    }
  }

  /** All snapshots: those in the folder, then the opened ones that still exist. Newest session first. */
  async list(): Promise<SnapshotEntry[]> {
    let folder: string | undefined;
    try {
      folder = this.folder();
    } catch {
      folder = undefined;
    }
    const out: SnapshotEntry[] = [];
    if (folder && fs.existsSync(folder)) {
      let names: string[] = [];
      try {
        names = await fs.promises.readdir(folder);
      } catch (error) {
        log().warn(`cannot list ${folder}: ${(error as Error).message}`);
      }
      await this.sweepPartials(folder, names);
      for (const name of names) {
        if (!name.endsWith('.heapsnapshot') || name.startsWith('.')) continue;
        const entry = await this.describe(path.join(folder, name), false);
        if (entry) out.push(entry);
      }
    }
    const inFolder = new Set(out.map((e) => e.file));
    for (const file of this.externalFiles()) {
      if (inFolder.has(file)) continue;
      const entry = await this.describe(file, true);
      if (entry) out.push(entry);
    }
    return out.sort((a, b) => a.time.localeCompare(b.time) || (a.sequence ?? 0) - (b.sequence ?? 0));
  }

  /** The entry of one file, or undefined if it is gone. */
  async describe(file: string, external = !this.isInFolder(file)): Promise<SnapshotEntry | undefined> {
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(file);
    } catch {
      return undefined;
    }
    const meta = readSidecarFile(file);
    const labels = this.context.workspaceState.get<Record<string, string>>(LABELS_KEY, {});
    return {
      file,
      label: labels[file] ?? meta?.label ?? path.basename(file, '.heapsnapshot'),
      time: meta?.time ?? stat.mtime.toISOString(),
      size: stat.size,
      pid: meta?.pid,
      sessionId: meta?.sessionId,
      sequence: meta?.sequence,
      heapUsed: meta?.memoryUsage?.heapUsed,
      heapTotal: meta?.memoryUsage?.heapTotal,
      allocationTracking: meta?.allocationTracking,
      ...(threadName(meta?.thread) ? { thread: threadName(meta?.thread) } : {}),
      ...(meta?.run ? { run: meta.run } : {}),
      external,
    };
  }

  private isInFolder(file: string): boolean {
    try {
      return path.dirname(path.resolve(file)) === path.resolve(this.folder());
    } catch {
      return false;
    }
  }

  private externalFiles(): string[] {
    return this.context.workspaceState.get<string[]>(EXTERNAL_KEY, []);
  }

  /** Remembers a snapshot opened from elsewhere, so the Snapshots view lists it. */
  async addExternal(file: string): Promise<void> {
    const resolved = path.resolve(file);
    if (this.isInFolder(resolved)) return this.changed();
    const list = this.externalFiles().filter((f) => f !== resolved);
    list.push(resolved);
    await this.context.workspaceState.update(EXTERNAL_KEY, list.slice(-50));
    this.changed();
  }

  /** Sets a snapshot's label: in its sidecar when Leak Lens wrote it, else in workspace state. */
  async rename(entry: SnapshotEntry, label: string): Promise<void> {
    const written = entry.external ? false : await updateSidecar(entry.file, (meta) => (meta.label = label));
    if (written) {
      const labels = { ...this.context.workspaceState.get<Record<string, string>>(LABELS_KEY, {}) };
      delete labels[entry.file];
      await this.context.workspaceState.update(LABELS_KEY, labels);
    } else {
      await this.context.workspaceState.update(LABELS_KEY, {
        ...this.context.workspaceState.get<Record<string, string>>(LABELS_KEY, {}),
        [entry.file]: label,
      });
    }
    this.changed();
  }

  /** Marks snapshots as taken by one Find Leaks run (in their sidecars), so the view shows them together. */
  async markRun(files: string[], run: string): Promise<void> {
    for (const file of files) {
      if (!(await updateSidecar(file, (meta) => (meta.run = run))))
        log().warn(`cannot mark ${file} as part of a Find Leaks run: it has no readable sidecar`);
    }
    this.changed();
  }

  /** Deletes a snapshot Leak Lens took (file and sidecar); an opened file is only forgotten. */
  async delete(entry: SnapshotEntry): Promise<void> {
    if (entry.external) {
      await this.context.workspaceState.update(
        EXTERNAL_KEY,
        this.externalFiles().filter((f) => f !== entry.file),
      );
    } else {
      await fs.promises.rm(entry.file, { force: true });
      await fs.promises.rm(sidecarPath(entry.file), { force: true });
    }
    this.changed();
  }

  /**
   * Removes partial files a crashed capture left behind (capture removes its own on any failure it sees). Only old
   * ones: a capture in another window may be writing a fresh one.
   */
  private async sweepPartials(folder: string, names: string[]): Promise<void> {
    for (const name of names) {
      if (!/^\..*\.partial(\.meta)?$/.test(name) || this.swept.has(name)) continue;
      const file = path.join(folder, name);
      try {
        const stat = await fs.promises.stat(file);
        if (Date.now() - stat.mtimeMs > 10 * 60_000) {
          await fs.promises.rm(file, { force: true });
          this.swept.add(name);
          log().info(`removed a partial snapshot left by an interrupted capture: ${file}`);
        }
      } catch {
        // Gone already.
      }
    }
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/**
 * Rewrites the sidecar beside `file` with `change` applied (atomically, through capture's writer); false if there is
 * no readable sidecar. Every field capture wrote is kept, checked or not: only the changed one is new.
 */
async function updateSidecar(file: string, change: (meta: SnapshotSidecar) => void): Promise<boolean> {
  if (!readSidecarFile(file)) return false;
  const read = readRegularFile(sidecarPath(file), MAX_SIDECAR_BYTES);
  if (!read.ok) return false;
  let meta: SnapshotSidecar;
  try {
    meta = JSON.parse(read.text) as SnapshotSidecar;
  } catch {
    return false;
  }
  change(meta);
  await writeSidecar(file, meta);
  return true;
}
