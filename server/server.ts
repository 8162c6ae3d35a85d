/**
 * The Leak Lens language server: wires an LSP connection to the {@link LeakModel}. Reports arrive three ways: the
 * `leakLens/setReport` notification (a report, or a report file's path), report files found in the workspace at
 * start, and changes to those files (watched through the client's file watcher when it offers dynamic registration,
 * with `fs.watch` otherwise). Every arrival rebuilds the markers and publishes diagnostics for every file whose
 * diagnostics changed, then sends `leakLens/reportStatus` and a log line saying what was shown and what skipped.
 *
 * Nothing a client sends can stop the server: parameters are checked before use, every asynchronous step catches
 * its errors and logs them, and request handlers answer null on anything they cannot use.
 */
import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath, pathToFileURL } from 'url';
import {
  CodeLensRefreshRequest,
  Connection,
  DidChangeWatchedFilesNotification,
  FileChangeType,
  InitializeResult,
  TextDocuments,
  TextDocumentSyncKind,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import {
  ClearReportNotification,
  DEFAULT_REPORT_FILES,
  LeakLensInitializationOptions,
  LeakLensSettings,
  ReportStatusNotification,
  ReportStatusParams,
  SETTINGS_SECTION,
  SetReportNotification,
  SHOW_LEAK_GROUP_COMMAND,
  ShowGroupNotification,
  ShowGroupParams,
  ShowLeakGroupArgs,
} from '../protocol/lsp';
import { LeakModel, loadedReport } from './leakModel';
import { readReportFile, sanitizeReport } from './reportInput';
import { TextSource } from './texts';

/** How long edits in a document settle before its markers and suspects are computed again. */
const EDIT_DEBOUNCE_MS = 200;
/** How long a watched report file settles after a change (a run writes it in one go, an editor may not). */
const REPORT_DEBOUNCE_MS = 100;

interface ReportPattern {
  dir: string;
  name: RegExp;
  glob: string;
}

function uriToPath(uri: unknown): string | undefined {
  if (typeof uri !== 'string' || !uri.startsWith('file:')) return undefined;
  try {
    return path.normalize(fileURLToPath(uri));
  } catch {
    return undefined;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Settings from untrusted input: only fields of the right type survive. */
function readSettings(v: unknown): LeakLensSettings {
  const out: LeakLensSettings = {};
  if (!isRecord(v)) return out;
  if (isRecord(v.pathMap))
    out.pathMap = Object.fromEntries(
      Object.entries(v.pathMap).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
  if (Array.isArray(v.reportFiles))
    out.reportFiles = v.reportFiles.filter((x): x is string => typeof x === 'string' && x.trim() !== '');
  // `staticChecks: false`, or `staticChecks: { enabled: false }` as VS Code nests `leakLens.staticChecks.enabled`.
  if (typeof v.staticChecks === 'boolean') out.staticChecks = v.staticChecks;
  else if (isRecord(v.staticChecks) && typeof v.staticChecks.enabled === 'boolean')
    out.staticChecks = v.staticChecks.enabled;
  return out;
}

export class LeakLensServer {
  private readonly documents = new TextDocuments(TextDocument);
  /** Open documents by normalized file path -> the URI the client uses for them. */
  private readonly openUris = new Map<string, string>();
  private readonly texts: TextSource;
  private readonly model: LeakModel;
  private roots: string[] = [];
  private settings: LeakLensSettings = {};
  private hostCommands = false;
  private canWatch = false;
  private canRefreshLenses = false;
  private canFollowFolders = false;
  private patterns: ReportPattern[] = [];
  private readonly published = new Set<string>();
  private readonly pending = new Map<string, number>();
  private readonly editTimers = new Map<string, NodeJS.Timeout>();
  private readonly reportTimers = new Map<string, NodeJS.Timeout>();
  private fsWatchers: { close(): void }[] = [];
  private watchRegistration: { dispose(): void } | undefined;

  constructor(private readonly connection: Connection) {
    this.texts = new TextSource({
      get: (file) => {
        const uri = this.openUris.get(file);
        const doc = uri ? this.documents.get(uri) : undefined;
        return doc ? { text: doc.getText(), version: doc.version } : undefined;
      },
    });
    this.model = new LeakModel(
      this.texts,
      (m) => this.log(m),
      this.modelOptions(),
      (f) => this.openUris.get(f) ?? pathToFileURL(f).href,
    );
    this.listen();
  }

  private log(message: string): void {
    this.connection.console.info(message);
  }

  private warn(message: string): void {
    this.connection.console.warn(message);
  }

  private modelOptions() {
    return {
      roots: this.roots,
      pathMap: this.settings.pathMap ?? {},
      staticChecks: this.settings.staticChecks !== false,
      hostCommands: this.hostCommands,
    };
  }

  /** Runs an asynchronous step in the background; a failure becomes a log line, never an unhandled rejection. */
  private background(what: string, work: () => Promise<unknown>): void {
    work().catch((e: unknown) =>
      this.warn(`${what} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`),
    );
  }

  private listen(): void {
    const c = this.connection;
    c.onInitialize((params): InitializeResult => {
      const folders = params.workspaceFolders?.map((f) => uriToPath(f.uri)).filter((p): p is string => !!p) ?? [];
      const root = uriToPath(params.rootUri) ?? (typeof params.rootPath === 'string' ? params.rootPath : undefined);
      this.roots = folders.length ? folders : root ? [root] : [];
      const init = params.initializationOptions as LeakLensInitializationOptions | undefined;
      this.settings = readSettings(init);
      this.hostCommands = isRecord(init) && init.hostCommands === true;
      this.canWatch = params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
      this.canRefreshLenses = params.capabilities.workspace?.codeLens?.refreshSupport === true;
      this.canFollowFolders = params.capabilities.workspace?.workspaceFolders === true;
      this.model.setOptions(this.modelOptions());
      return {
        capabilities: {
          textDocumentSync: TextDocumentSyncKind.Incremental,
          codeLensProvider: { resolveProvider: false },
          hoverProvider: true,
          definitionProvider: true,
          ...(this.hostCommands ? {} : { executeCommandProvider: { commands: [SHOW_LEAK_GROUP_COMMAND] } }),
          ...(this.canFollowFolders
            ? { workspace: { workspaceFolders: { supported: true, changeNotifications: true } } }
            : {}),
        },
        serverInfo: { name: 'leak-lens' },
      };
    });
    c.onInitialized(() => {
      this.background('watching report files', () => this.watchReports());
      if (this.canFollowFolders) {
        c.workspace.onDidChangeWorkspaceFolders((e) => {
          const removed = new Set(e.removed.map((f) => uriToPath(f.uri)));
          this.roots = [
            ...this.roots.filter((r) => !removed.has(r)),
            ...e.added.map((f) => uriToPath(f.uri)).filter((p): p is string => !!p),
          ];
          this.model.setOptions(this.modelOptions());
          this.background('watching report files', () => this.watchReports());
        });
      }
    });
    c.onDidChangeConfiguration((params) => {
      const raw = isRecord(params?.settings) ? params.settings[SETTINGS_SECTION] : undefined;
      if (!isRecord(raw)) return;
      const before = JSON.stringify(this.settings);
      this.settings = { ...this.settings, ...readSettings(raw) };
      if (JSON.stringify(this.settings) === before) return;
      this.model.setOptions(this.modelOptions());
      for (const file of this.openUris.keys()) this.model.updateStatic(file, true);
      this.background('watching report files', () => this.watchReports());
      this.schedule();
    });
    c.onDidChangeWatchedFiles((params) => {
      for (const change of Array.isArray(params?.changes) ? params.changes : []) {
        const file = uriToPath(change.uri);
        if (file && this.isReportFile(file)) this.reportChanged(file, change.type === FileChangeType.Deleted);
      }
    });
    c.onNotification(SetReportNotification.method, (params: unknown) => this.onSetReport(params, performance.now()));
    c.onNotification(ClearReportNotification.method, (params: unknown) => {
      if (params !== undefined && params !== null && !isRecord(params)) {
        this.warn(`${ClearReportNotification.method}: ignored a message whose parameters are not an object`);
        return;
      }
      const source = isRecord(params) && typeof params.source === 'string' ? params.source : undefined;
      const key =
        source && this.model.reportSources().includes(source) ? source : source ? this.sourceKey(source) : undefined;
      if (this.model.removeReport(key)) this.schedule();
    });
    c.onCodeLens((params) => {
      const file = uriToPath(params?.textDocument?.uri);
      return file ? this.model.codeLenses(file) : [];
    });
    c.onHover((params) => {
      this.texts.beginPass();
      const file = uriToPath(params?.textDocument?.uri);
      return file && params.position ? this.model.hover(file, params.position) : null;
    });
    c.onDefinition((params) => {
      this.texts.beginPass();
      const file = uriToPath(params?.textDocument?.uri);
      return file && params.position ? this.model.definition(file, params.position) : null;
    });
    c.onExecuteCommand((params) => {
      if (params?.command !== SHOW_LEAK_GROUP_COMMAND) return null;
      const args = params.arguments?.[0] as ShowLeakGroupArgs | undefined;
      if (!isRecord(args) || typeof args.groupId !== 'string') return null;
      const found = this.model.findGroup(
        args.groupId,
        typeof args.reportFile === 'string' ? args.reportFile : undefined,
      );
      if (!found) return null;
      this.texts.beginPass();
      const result: ShowGroupParams = {
        args,
        group: found.group,
        markdown: this.model.groupMarkdown(
          found.report,
          found.group,
          args.at === 'allocation' ? 'allocation' : 'owner',
        ),
      };
      void c.sendNotification(ShowGroupNotification.method, result).catch(() => undefined);
      return result;
    });
    c.onShutdown(() => this.dispose());

    const justOpened = new Set<string>();
    this.documents.onDidOpen((e) => {
      const file = uriToPath(e.document.uri);
      if (!file) return;
      this.openUris.set(file, e.document.uri);
      justOpened.add(file);
    });
    this.documents.onDidChangeContent((e) => {
      const file = uriToPath(e.document.uri);
      if (!file) return;
      // A document that just opened is checked at once; edits settle first.
      this.refreshFile(file, justOpened.delete(file) ? 0 : EDIT_DEBOUNCE_MS);
    });
    this.documents.onDidClose((e) => {
      const file = uriToPath(e.document.uri);
      if (!file) return;
      this.openUris.delete(file);
      this.texts.forget(file);
      this.refreshFile(file, 0, e.document.uri);
    });
    this.documents.listen(c);
  }

  // --- reports ---

  private sourceKey(file: string): string {
    return path.normalize(file);
  }

  private onSetReport(params: unknown, arrivedAt: number): void {
    if (!isRecord(params)) {
      this.warn(`${SetReportNotification.method}: ignored a message whose parameters are not an object`);
      return;
    }
    if (typeof params.file === 'string' && params.file) {
      const isUrl = /^[a-z][a-z0-9+.-]+:/i.test(params.file) && !/^[a-z]:[\\/]/i.test(params.file);
      const file = isUrl ? uriToPath(params.file) : path.resolve(this.roots[0] ?? process.cwd(), params.file);
      if (!file) {
        this.warn(`${SetReportNotification.method}: ignored ${params.file}: not a file path or file URL`);
        return;
      }
      this.background(`loading report ${file}`, () => this.loadReportFile(file, arrivedAt));
      return;
    }
    if (params.report !== undefined) {
      const source = typeof params.source === 'string' && params.source ? params.source : 'inline';
      const input = sanitizeReport(params.report);
      if (!input.ok) {
        this.reportFailed(source, input.error, arrivedAt);
        return;
      }
      for (const p of input.problems.slice(0, 20)) this.warn(`report ${source}: ${p}`);
      this.model.setReport(loadedReport(source, input.report));
      this.pending.set(source, arrivedAt);
      this.schedule();
      return;
    }
    this.warn(`${SetReportNotification.method}: ignored a message with neither "report" nor "file"`);
  }

  private async loadReportFile(file: string, arrivedAt: number): Promise<void> {
    const source = this.sourceKey(file);
    const input = await readReportFile(file);
    if (!input.ok) {
      const missing = !fs.existsSync(file);
      // A deleted report takes its markers with it; a half-written or broken one leaves the last good one shown.
      if (missing && this.model.removeReport(source)) {
        this.log(`report ${file} was removed; its markers are cleared`);
        this.schedule();
      }
      this.reportFailed(source, input.error, arrivedAt);
      return;
    }
    for (const p of input.problems.slice(0, 20)) this.warn(`report ${file}: ${p}`);
    this.model.setReport(loadedReport(source, input.report, file));
    this.pending.set(source, arrivedAt);
    this.schedule();
  }

  private reportFailed(source: string, error: string, arrivedAt: number): void {
    this.warn(`report ${source} not used: ${error}`);
    const status: ReportStatusParams = {
      source,
      ok: false,
      error,
      groups: 0,
      markers: 0,
      files: 0,
      reanchored: 0,
      skipped: [],
      durationMs: Math.round(performance.now() - arrivedAt),
    };
    void this.connection.sendNotification(ReportStatusNotification.method, status).catch(() => undefined);
  }

  private rebuilding: Promise<void> | undefined;
  private again = false;

  /** Rebuilds markers and publishes; arrivals during a rebuild start one more when it ends. */
  private schedule(): void {
    if (this.rebuilding) {
      this.again = true;
      return;
    }
    this.rebuilding = (async () => {
      try {
        do {
          this.again = false;
          const logAll = this.pending.size === 0;
          const status = await this.model.rebuild();
          if (!status) continue;
          for (const f of this.model.takeReloadChanges()) this.model.updateStatic(f, this.openUris.has(f));
          for (const [source, st] of status) if (logAll || this.pending.has(source)) this.log(st.log);
          this.publishAll();
          if (this.canRefreshLenses)
            void this.connection.sendRequest(CodeLensRefreshRequest.type).catch(() => undefined);
          const now = performance.now();
          for (const [source, arrivedAt] of [...this.pending]) {
            const st = status.get(source)?.status;
            if (!st) continue;
            this.pending.delete(source);
            st.durationMs = Math.round(now - arrivedAt);
            void this.connection.sendNotification(ReportStatusNotification.method, st).catch(() => undefined);
          }
        } while (this.again);
      } catch (e) {
        this.warn(`applying reports failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      } finally {
        this.rebuilding = undefined;
      }
    })();
  }

  private publishAll(): void {
    const files = this.model.files();
    for (const uri of [...this.published]) {
      const file = uriToPath(uri);
      if (file && !files.has(file)) this.publish(file, uri);
    }
    for (const file of files) this.publish(file);
  }

  private publish(file: string, uri = this.openUris.get(file) ?? pathToFileURL(file).href): void {
    const diagnostics = this.model.diagnostics(file);
    if (diagnostics.length) this.published.add(uri);
    // Open documents always hear back; other files only when they had diagnostics to clear.
    else if (!this.published.delete(uri) && !this.openUris.has(file)) return;
    void this.connection.sendDiagnostics({ uri, diagnostics }).catch(() => undefined);
  }

  /** Re-anchors and re-checks one file after it opened, changed or closed, then publishes it. */
  private refreshFile(file: string, delay: number, closedUri?: string): void {
    clearTimeout(this.editTimers.get(file));
    const run = (): void => {
      this.editTimers.delete(file);
      this.texts.beginPass();
      try {
        const open = this.openUris.has(file);
        const dependents = this.model.updateStatic(file, open);
        this.model.reanchorFile(file);
        this.publish(file, closedUri && !open ? closedUri : undefined);
        for (const d of dependents) {
          this.model.updateStatic(d, this.openUris.has(d));
          this.publish(d);
        }
      } catch (e) {
        this.warn(`checking ${file} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      }
    };
    if (delay <= 0) run();
    else this.editTimers.set(file, setTimeout(run, delay));
  }

  // --- report files ---

  private computePatterns(): ReportPattern[] {
    const out: ReportPattern[] = [];
    for (const entry of this.settings.reportFiles ?? DEFAULT_REPORT_FILES) {
      const bases = path.isAbsolute(entry) ? [''] : this.roots;
      for (const base of bases) {
        const full = path.resolve(base || '/', entry);
        const dir = path.dirname(full);
        if (/[*?]/.test(dir)) {
          this.warn(`leakLens.reportFiles: ${entry}: wildcards are allowed in the file name only`);
          continue;
        }
        const name = new RegExp(
          '^' +
            path
              .basename(full)
              .replace(/[.+^${}()|[\]\\]/g, '\\$&')
              .replace(/\*/g, '[^/]*')
              .replace(/\?/g, '.') +
            '$',
        );
        out.push({
          dir,
          name,
          glob: path.isAbsolute(entry)
            ? entry.replace(/\\/g, '/')
            : `**/${entry.replace(/\\/g, '/').replace(/^\.\//, '')}`,
        });
      }
    }
    return out;
  }

  private isReportFile(file: string): boolean {
    return this.patterns.some((p) => path.dirname(file) === p.dir && p.name.test(path.basename(file)));
  }

  /** (Re)starts watching the report files and loads those that exist. */
  private async watchReports(): Promise<void> {
    this.patterns = this.computePatterns();
    this.watchRegistration?.dispose();
    this.watchRegistration = undefined;
    for (const w of this.fsWatchers) w.close();
    this.fsWatchers = [];
    if (this.canWatch) {
      this.watchRegistration = await this.connection.client.register(DidChangeWatchedFilesNotification.type, {
        watchers: [...new Set(this.patterns.map((p) => p.glob))].map((globPattern) => ({ globPattern })),
      });
    }
    const polled = new Set<string>();
    if (!this.canWatch) {
      for (const dir of new Set(this.patterns.map((p) => p.dir))) {
        try {
          const w = fs.watch(dir, (_event, name) => {
            if (!name) return;
            const file = path.join(dir, name.toString());
            if (this.isReportFile(file)) this.reportChanged(file, !fs.existsSync(file));
          });
          w.on('error', () => undefined);
          this.fsWatchers.push({ close: () => w.close() });
        } catch {
          // The folder appears with the first report (`.leak-lens/` is made by the run): poll for it, then watch it.
          const onStat = (st: fs.Stats): void => {
            if (st.isDirectory()) this.background('watching report files', () => this.watchReports());
          };
          fs.watchFile(dir, { interval: 2000, persistent: false }, onStat);
          this.fsWatchers.push({ close: () => fs.unwatchFile(dir, onStat) });
          polled.add(dir);
        }
      }
    }
    // Reports already on disk.
    const wanted = new Set<string>();
    for (const p of this.patterns) {
      let names: string[] = [];
      try {
        names = await fs.promises.readdir(p.dir);
      } catch {
        continue;
      }
      // It appeared between the failed watch and now, too early for the poll to see it come: watch it now.
      if (polled.has(p.dir)) {
        this.background('watching report files', () => this.watchReports());
        return;
      }
      for (const n of names) if (p.name.test(n)) wanted.add(path.join(p.dir, n));
    }
    for (const file of wanted) this.reportChanged(file, false, 0);
  }

  private reportChanged(file: string, deleted: boolean, delay = REPORT_DEBOUNCE_MS): void {
    const arrivedAt = performance.now();
    clearTimeout(this.reportTimers.get(file));
    this.reportTimers.set(
      file,
      setTimeout(() => {
        this.reportTimers.delete(file);
        if (deleted && !fs.existsSync(file)) {
          if (this.model.removeReport(this.sourceKey(file))) {
            this.log(`report ${file} was deleted; its markers are cleared`);
            this.schedule();
          }
          return;
        }
        this.background(`loading report ${file}`, () => this.loadReportFile(file, arrivedAt));
      }, delay),
    );
  }

  dispose(): void {
    for (const t of [...this.editTimers.values(), ...this.reportTimers.values()]) clearTimeout(t);
    for (const w of this.fsWatchers) w.close();
    this.fsWatchers = [];
    this.watchRegistration?.dispose();
  }
}
