/**
 * The memory panels: webviews that show a leak report or a live session's memory timeline, with every page of data
 * fetched from the engine on demand. There are two kinds, each with at most one panel open, so that a report and the
 * live timeline stay open side by side: `report` (a leak report or a comparison) and `memory` (the live timeline).
 * `MemoryPanel.show` opens the panel of the input's kind (or reuses the open one); the returned panel takes live
 * samples and markers, new reports, and requests to reveal a view or a leak group.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { EngineClient } from '../../../engine/client';
import type { LeakReport, SourceLocation, TimelineMarker, TimelineSample, ViewId } from '../../../protocol/webview';
import { PanelController, PanelHost, PanelInput } from './controller';
import { makeNonce, webviewHtml } from './html';

export type { PanelInput } from './controller';

/** Options every webview of the memory UI shares: scripts on, resources only from the bundle folder. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media', 'dist')] };
}

/** Sets the HTML of a memory webview with a fresh nonce. */
export function setWebviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, title: string): void {
  const dist = vscode.Uri.joinPath(extensionUri, 'media', 'dist');
  webview.html = webviewHtml({
    cspSource: webview.cspSource,
    nonce: makeNonce(),
    scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'main.js')).toString(),
    styleUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'style.css')).toString(),
    title,
  });
}

/**
 * Opens a source location in an editor beside the webview. The original source (after source maps) is preferred;
 * its generated file is the fallback when the original is not on disk.
 */
export async function openSourceLocation(
  location: SourceLocation,
  beside: vscode.ViewColumn | undefined,
): Promise<void> {
  let { file, line, column } = location;
  if (!fs.existsSync(file) && location.generated && fs.existsSync(location.generated.file))
    ({ file, line, column } = location.generated);
  try {
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    const pos = new vscode.Position(Math.max(0, line - 1), Math.max(0, column - 1));
    await vscode.window.showTextDocument(doc, {
      selection: new vscode.Range(pos, pos),
      viewColumn: beside === vscode.ViewColumn.One ? vscode.ViewColumn.Beside : vscode.ViewColumn.One,
    });
  } catch (e) {
    void vscode.window.showErrorMessage(
      `Leak Lens could not open ${file}:${line}: ${(e as Error).message}. The file may have moved since the snapshot was taken; re-run the analysis with --path-map if it lives elsewhere now.`,
    );
  }
}

/** A host for the controller that talks to a real webview panel. */
export function panelHost(panel: vscode.WebviewPanel, log: vscode.LogOutputChannel | undefined): PanelHost {
  return {
    post: (message) => void panel.webview.postMessage(message),
    openLocation: (location) => openSourceLocation(location, panel.viewColumn),
    log: (level, message) => log?.[level](message),
  };
}

/** A panel of reports (and comparisons), or the live memory timeline of a session. */
export type PanelKind = 'report' | 'memory';

/** The title each report was shown under, so that a panel opened again for it (from a code lens) keeps it. */
const reportTitles = new WeakMap<LeakReport, string>();

/** Remembers the title a report is shown under. */
export function rememberReportTitle(report: LeakReport, title: string): void {
  reportTitles.set(report, title);
}

/** The title a report was shown under, if it was. */
export function reportTitle(report: LeakReport): string | undefined {
  return reportTitles.get(report);
}

export class MemoryPanel implements vscode.Disposable {
  static readonly viewType = 'leakLens.memory';
  private static readonly open = new Map<PanelKind, MemoryPanel>();
  /** The report file the shown report was read from, if it came from a file. */
  private reportFileShown: string | undefined;

  private readonly controller: PanelController;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly disposeEmitter = new vscode.EventEmitter<void>();
  /** Fires when the user closes the panel. */
  readonly onDidDispose = this.disposeEmitter.event;

  /**
   * Shows `input` in the panel of its kind (`memory` for a live timeline, `report` otherwise), reusing the open panel
   * of that kind (its input is replaced); a panel of the other kind stays as it is. The panel lives until the user
   * closes it or `dispose` is called; it is also disposed with the extension.
   */
  static show(
    context: vscode.ExtensionContext,
    engine: EngineClient,
    input: PanelInput,
    log?: vscode.LogOutputChannel,
    options: { reportFile?: string } = {},
  ): MemoryPanel {
    const kind: PanelKind = input.live ? 'memory' : 'report';
    if (input.report && input.title) rememberReportTitle(input.report, input.title);
    const existing = MemoryPanel.open.get(kind);
    if (existing) {
      existing.controller.setInput(withRoot(input));
      existing.reportFileShown = options.reportFile;
      existing.panel.title = input.title ?? existing.panel.title;
      existing.panel.reveal(undefined, true);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      MemoryPanel.viewType,
      input.title ?? 'Leak Lens',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { ...webviewOptions(context.extensionUri), retainContextWhenHidden: false },
    );
    const p = new MemoryPanel(panel, kind, context, engine, input, log);
    p.reportFileShown = options.reportFile;
    MemoryPanel.open.set(kind, p);
    context.subscriptions.push(p);
    return p;
  }

  /** The open panel of a kind, if any. */
  static of(kind: PanelKind): MemoryPanel | undefined {
    return MemoryPanel.open.get(kind);
  }

  /** The open report panel, else the live memory panel, if any (`of` says which kind is wanted). */
  static get active(): MemoryPanel | undefined {
    return MemoryPanel.open.get('report') ?? MemoryPanel.open.get('memory');
  }

  /** The report the panel shows, if any. */
  get report(): LeakReport | undefined {
    return this.controller.currentInput.report;
  }

  /** The report file the shown report was read from (a code lens of a `leak-lens run` report), if any. */
  get reportFile(): string | undefined {
    return this.reportFileShown;
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    readonly kind: PanelKind,
    context: vscode.ExtensionContext,
    engine: EngineClient,
    input: PanelInput,
    log: vscode.LogOutputChannel | undefined,
  ) {
    this.controller = new PanelController(engine, panelHost(panel, log));
    this.controller.setInput(withRoot(input));
    panel.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'dist', 'icon.svg');
    // A hidden webview is destroyed; when shown again it sends `ready` and the controller replays its state.
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: unknown) => void this.controller.handle(m)),
      panel.onDidDispose(() => this.dispose()),
      // A hidden panel's webview is gone: what is asked meanwhile waits for the next one's `ready`.
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.controller.detach();
      }),
    );
    setWebviewHtml(panel.webview, context.extensionUri, input.title ?? 'Leak Lens');
  }

  /** Shows a new report under `title` (the panel's title when omitted); `reportFile` says which file it was read from. */
  showReport(report: LeakReport, title?: string, reportFile?: string): void {
    const t = title ?? this.controller.currentInput.title;
    if (t) {
      rememberReportTitle(report, t);
      this.panel.title = t;
    }
    this.reportFileShown = reportFile;
    this.controller.update({
      report,
      snapshots: undefined,
      title: t,
      initialView: 'leaks',
      focus: undefined,
      group: undefined,
    });
  }

  /** Appends samples (and markers) of the live session. */
  addSamples(samples: TimelineSample[], markers?: TimelineMarker[]): void {
    this.controller.addSamples(samples, markers);
  }

  addMarker(marker: TimelineMarker): void {
    this.controller.addSamples([], [marker]);
  }

  /**
   * Brings the panel to the front and switches to a view: the retainers of one object (`snapshot` indexes the panel's
   * snapshots), or the leaks view with `group` selected and its details (retainer path included) shown.
   */
  reveal(view: ViewId, focus?: { snapshot: number; nodeId: number }, group?: string): void {
    // Asked before the panel comes to the front: a hidden panel's webview restarts on reveal and must get it.
    this.controller.reveal(view, focus, group);
    this.panel.reveal(undefined, true);
  }

  dispose(): void {
    if (MemoryPanel.open.get(this.kind) === this) MemoryPanel.open.delete(this.kind);
    this.controller.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
    this.disposeEmitter.fire();
    this.disposeEmitter.dispose();
  }
}

function withRoot(input: PanelInput): PanelInput {
  if (input.root) return input;
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder ? { ...input, root: folder.uri.fsPath } : input;
}

/** The label VS Code shows for a snapshot file. */
export function snapshotLabel(file: string): string {
  return path.basename(file);
}
