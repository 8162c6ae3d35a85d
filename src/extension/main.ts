/**
 * Leak Lens in VS Code. `activate` only registers: commands, the Snapshots view, the status bar item, the `leak-lens`
 * debug type, the snapshot editor and the document provider. Connections to processes open when a command (or the
 * status bar, for the active session) first needs them; the engine worker starts with the first analysis, the
 * language server with the first report or JavaScript file. Everything is disposed on deactivation, and every process
 * Leak Lens started (workloads, the language server; launched programs, through their adapter) ends.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { DEFAULT_REPORT_FILES, SHOW_LEAK_GROUP_COMMAND, type ShowLeakGroupArgs } from '../../protocol/lsp';
import { DEBUG_TYPE } from '../../protocol/adapter';
import {
  collectGarbage,
  showMemoryGraph,
  startAllocationTracking,
  stopAllocationTracking,
  takeHeapSnapshot,
} from './commands/capture';
import type { Services } from './commands/common';
import { findLeaksCommand } from './commands/findLeaks';
import { answerPrompt, CONTINUE_COMMAND, waitingPrompt } from './commands/findLeaksPrompt';
import { registerLanguageModelTools, type ToolConfirmation } from './commands/lmTools';
import { attachToProcess, launchProgramCommand, pickProcess } from './commands/sessions';
import {
  compareSnapshotsCommand,
  deleteSnapshots,
  openSnapshot,
  openSnapshotFile,
  renameSnapshot,
  revealSnapshot,
} from './commands/snapshots';
import { AdapterFactory, ConfigurationProvider } from './debug/provider';
import { EngineHost } from './engineHost';
import { reportError, UserError } from './errors';
import { startLanguageClient, type LeakLensLanguageClient } from './languageClient';
import { createLog, log, logChannel } from './log';
import { SnapshotStore } from './snapshots/store';
import { SnapshotsView, type SnapshotNode } from './snapshots/view';
import { Sweeper } from '../sweeper/client';
import { TargetRegistry } from './targets/registry';
import type { MemoryTarget } from './targets/target';
import { LeakLensDocuments, SCHEME } from './ui/documents';
import { MemoryGraphs } from './ui/memoryGraph';
import { createProgressEvents, type ProgressReport } from './ui/progress';
import { HeapStatusBar } from './ui/statusBar';
import { MemoryPanel, reportTitle } from './webview/memoryPanel';
import { SnapshotEditorProvider } from './webview/snapshotEditor';
import { stopAllWorkloads } from './workload';
import type { LeakReport } from '../../protocol/report';

/** What the extension exports (for tests and other extensions). */
export interface LeakLensApi {
  /** The folder new snapshots go to. */
  snapshotFolder(): string;
  /** The status bar item's text, or undefined while it is hidden. */
  statusBarText(): string | undefined;
  /** The folder of the extension's log files: the "Leak Lens" channel is written to a file in it. */
  logFolder(): vscode.Uri;
  /** Every report of Leak Lens's progress notifications (what Find Leaks says it is doing). */
  onDidReportProgress: vscode.Event<ProgressReport>;
  /** The Heap Snapshots view's tree. */
  snapshotsView: vscode.TreeDataProvider<SnapshotNode>;
  /** The question Find Leaks waits on between rounds (its status bar text and answers), if any. */
  findLeaksPrompt(): { status: string; answers: string[] } | undefined;
  /** The confirmation the last language model tool asked for before it ran (VS Code's test host answers it by itself). */
  lastToolConfirmation(): ToolConfirmation | undefined;
}

/** Command arguments that are options objects (not URIs or view nodes passed by menus). */
function options<T extends object>(arg: unknown): T {
  return arg && typeof arg === 'object' && !(arg instanceof vscode.Uri) && !('kind' in arg) && !Array.isArray(arg)
    ? (arg as T)
    : ({} as T);
}

export function activate(context: vscode.ExtensionContext): LeakLensApi {
  const sub = (...d: vscode.Disposable[]): void => void context.subscriptions.push(...d);
  sub(createLog());
  const progressEvents = createProgressEvents();
  sub(progressEvents);
  const registry = new TargetRegistry();
  const store = new SnapshotStore(context);
  const engine = new EngineHost();
  const documents = new LeakLensDocuments();
  const graphs = new MemoryGraphs(documents, context, () => engine.engine);
  // The language server marks leaks in the editor; it starts on first need and stops on deactivation.
  let languageClient: LeakLensLanguageClient | undefined;
  const lsp = (): LeakLensLanguageClient =>
    (languageClient ??= startLanguageClient(context, logChannel() ?? fallbackChannel()));
  sub({ dispose: () => void languageClient?.dispose() });
  // deactivate() waits for the language server to stop (VS Code disposes subscriptions without waiting).
  stopLanguageServer = async () => {
    const client = languageClient;
    languageClient = undefined;
    await client?.dispose();
  };
  // What survives a killed extension host (a closed window: deactivate does not run) is stopped by the sweeper process.
  const sweeper = new Sweeper(sweeperScript(context), (message) =>
    log().warn(`${message}; workloads and partial snapshots may outlive a closed window`),
  );
  let lastReport: LeakReport | undefined;
  const s: Services = {
    context,
    registry,
    store,
    engine,
    documents,
    graphs,
    sweeper,
    onReport: (report) => {
      lastReport = report;
      void lsp().setReport({ report, source: 'Find Leaks' });
    },
  };
  const statusBar = new HeapStatusBar(registry);
  const view = new SnapshotsView(store);
  sub(registry, store, engine, documents, graphs, statusBar, view);

  sub(
    vscode.workspace.registerTextDocumentContentProvider(SCHEME, documents),
    vscode.window.createTreeView('leakLens.snapshots', {
      treeDataProvider: view,
      canSelectMany: true,
      showCollapseAll: false,
    }),
    vscode.debug.registerDebugAdapterDescriptorFactory(
      DEBUG_TYPE,
      new AdapterFactory(context.asAbsolutePath('dist/adapter.js')),
    ),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new ConfigurationProvider()),
    vscode.debug.registerDebugConfigurationProvider(
      DEBUG_TYPE,
      new ConfigurationProvider(),
      vscode.DebugConfigurationProviderTriggerKind.Dynamic,
    ),
    SnapshotEditorProvider.register(
      context,
      () => engine.engine,
      logChannel(),
      async (file) => (await store.describe(file))?.label,
    ),
  );

  const command = (id: string, handler: (...args: never[]) => unknown): void =>
    sub(vscode.commands.registerCommand(id, handler as (...args: unknown[]) => unknown));
  command('leakLens.takeHeapSnapshot', (o?: unknown) => takeHeapSnapshot(s, options(o)));
  command('leakLens.findLeaks', (o?: unknown) => findLeaksCommand(s, options(o)));
  command(CONTINUE_COMMAND, (o?: unknown) => answerPrompt(options(o)));
  command('leakLens.compareSnapshots', (a?: never, b?: never, o?: unknown) =>
    compareSnapshotsCommand(s, a, b, options(o)),
  );
  command('leakLens.openSnapshotFile', (uri?: vscode.Uri | string, o?: unknown) =>
    openSnapshotFile(s, uri, options(o)),
  );
  command('leakLens.collectGarbage', (o?: unknown) => collectGarbage(s, options(o)));
  command('leakLens.startAllocationTracking', (o?: unknown) => startAllocationTracking(s, options(o)));
  command('leakLens.stopAllocationTracking', (o?: unknown) => stopAllocationTracking(s, options(o)));
  command('leakLens.showMemoryGraph', (o?: unknown) => showMemoryGraph(s, options(o)));
  command('leakLens.attachToProcess', (o?: unknown) => attachToProcess(s, options(o)));
  command('leakLens.launchProgram', (o?: never) => launchProgramCommand(s, o));
  command('leakLens.pickProcess', () => pickProcess());
  command('leakLens.showLog', () => log().show());
  command('leakLens.snapshots.open', (node?: never, o?: unknown) => openSnapshot(s, node, options(o)));
  command('leakLens.snapshots.compare', (node?: never, selected?: never) => compareSnapshotsCommand(s, node, selected));
  command('leakLens.snapshots.rename', (node?: never, label?: string) =>
    renameSnapshot(s, node, typeof label === 'string' ? label : undefined),
  );
  command('leakLens.snapshots.delete', (node?: never, selected?: never, o?: { confirm?: boolean }) =>
    deleteSnapshots(s, node, selected, options(o)),
  );
  command('leakLens.snapshots.reveal', (node?: never) => revealSnapshot(s, node));
  command('leakLens.snapshots.refresh', () => store.changed());
  // Code lenses and hovers of the language server open a leak group here.
  command(SHOW_LEAK_GROUP_COMMAND, (args?: ShowLeakGroupArgs) => showLeakGroup(context, engine, args, lastReport));
  // The same work for agents: language model tools on the live debug session, confirmed before they run.
  let lastToolConfirmation: ToolConfirmation | undefined;
  sub(
    ...registerLanguageModelTools(
      s,
      () => lastReport,
      (c) => (lastToolConfirmation = c),
    ),
  );

  // Reports written by `leak-lens run` (or a JavaScript file opened during memory work) bring the language server up.
  const wantsLanguageServer = (doc: vscode.TextDocument): boolean =>
    doc.uri.scheme === 'file' && /^(java|type)script(react)?$/.test(doc.languageId);
  if (hasReportFile() || vscode.workspace.textDocuments.some(wantsLanguageServer)) lsp();
  else {
    const opened = vscode.workspace.onDidOpenTextDocument((doc) => {
      if (!wantsLanguageServer(doc)) return;
      opened.dispose();
      lsp();
    });
    sub(opened);
  }

  // Context keys drive menus and the enablement of the allocation tracking pair.
  let tracked: vscode.Disposable | undefined;
  const updateContext = (target?: MemoryTarget): void => {
    void vscode.commands.executeCommand('setContext', 'leakLens.hasNodeSession', registry.nodeSessions().length > 0);
    void vscode.commands.executeCommand(
      'setContext',
      'leakLens.trackingAllocations',
      target?.trackingAllocations ?? false,
    );
  };
  sub(
    registry.onDidChangeSessions(() => updateContext(registry.activeTarget())),
    registry.onDidChangeActiveTarget((target) => {
      tracked?.dispose();
      tracked = target?.onDidChangeState(() => updateContext(target));
      updateContext(target);
    }),
    { dispose: () => tracked?.dispose() },
  );
  updateContext(registry.activeTarget());
  // Last, so that it is disposed last: by then the targets have been told to stop, and the sweeper removes the
  // partial files of snapshots they were still writing.
  sub(sweeper);
  log().info(
    `Leak Lens ${context.extension.packageJSON.version as string} activated (${vscode.env.appName} ${vscode.version}, node ${process.version})`,
  );

  return {
    snapshotFolder: () => store.folder(),
    statusBarText: () => statusBar.visibleText,
    logFolder: () => context.logUri,
    onDidReportProgress: progressEvents.event,
    snapshotsView: view,
    findLeaksPrompt: () => waitingPrompt(),
    lastToolConfirmation: () => lastToolConfirmation,
  };
}

/** The sweeper's entry: the esbuild bundle of the packaged extension, or tsc's output in a development tree. */
function sweeperScript(context: vscode.ExtensionContext): string {
  const bundled = context.asAbsolutePath('dist/sweeper.js');
  return fs.existsSync(bundled) ? bundled : context.asAbsolutePath('out/src/sweeper/main.js');
}

/** Whether a workspace folder holds a report the language server would show (the default report file). */
function hasReportFile(): boolean {
  return (vscode.workspace.workspaceFolders ?? []).some(
    (f) => f.uri.scheme === 'file' && DEFAULT_REPORT_FILES.some((r) => fs.existsSync(path.join(f.uri.fsPath, r))),
  );
}

/** A stand-in channel if the log is gone (it is created first thing in `activate`, so only after deactivation). */
function fallbackChannel(): vscode.LogOutputChannel {
  return vscode.window.createOutputChannel('Leak Lens Language Server', { log: true });
}

/**
 * Opens the report panel at the leak group a code lens or hover came from: the leaks view with that group selected
 * and its details (retainer path included) shown. The open report panel is revealed when it shows that report (its
 * title kept); otherwise the report is shown there, or in a new panel, under the title it was shown under before.
 */
async function showLeakGroup(
  context: vscode.ExtensionContext,
  engine: EngineHost,
  args: ShowLeakGroupArgs | undefined,
  lastReport: LeakReport | undefined,
): Promise<void> {
  try {
    const open = MemoryPanel.of('report');
    let report = lastReport;
    let file: string | undefined;
    let title = lastReport && reportTitle(lastReport);
    if (args?.reportFile) {
      file = args.reportFile.startsWith('file:') ? vscode.Uri.parse(args.reportFile).fsPath : args.reportFile;
      report = JSON.parse(await fs.promises.readFile(file, 'utf8')) as LeakReport;
      title = `Leak report - ${vscode.workspace.asRelativePath(file, false)}`;
    }
    const groupId = args?.groupId;
    if (!report || (groupId && !report.leaks.some((g) => g.id === groupId))) {
      throw new UserError(
        'That leak group is not in a report Leak Lens has; run Find Leaks again (or `leak-lens run`) to refresh the report.',
      );
    }
    // The same report: the very report Find Leaks showed, or the one read from that file and not written again since.
    const same =
      open && (file ? open.reportFile === file && open.report?.createdAt === report.createdAt : open.report === report);
    if (open && same) open.reveal('leaks', undefined, groupId);
    else if (open) {
      open.showReport(report, title ?? 'Leak report', file);
      open.reveal('leaks', undefined, groupId);
    } else {
      const panel = MemoryPanel.show(
        context,
        engine.engine,
        { title: title ?? 'Leak report', report, initialView: 'leaks' },
        logChannel(),
        { reportFile: file },
      );
      panel.reveal('leaks', undefined, groupId);
    }
  } catch (error) {
    reportError(error, 'show the leak group');
  }
}

/** Set by activate: stops the language server, if it runs. */
let stopLanguageServer: (() => Promise<void>) | undefined;

/**
 * Runs when the window closes cleanly (VS Code gives it 5 s, then the extension host exits). Workloads end now and
 * the language server is stopped and waited for; subscriptions (targets, engine worker, status bar, the sweeper) are
 * disposed by VS Code right after. Debug adapters see their stdin close when the extension host exits and stop the
 * programs they launched. When the extension host is killed instead, none of this runs: the sweeper stops the
 * workloads and removes partial snapshots, and the language server and the adapters notice their parent is gone.
 */
export async function deactivate(): Promise<void> {
  stopAllWorkloads();
  const stop = stopLanguageServer;
  stopLanguageServer = undefined;
  await stop?.();
}
