/**
 * The memory panel: one webview that shows a leak report, a live session's memory timeline, or both, with every page
 * of data fetched from the engine on demand. `MemoryPanel.show` opens it (or reuses the open one); the returned panel
 * takes live samples and markers, new reports, and requests to reveal a view.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { EngineClient } from '../../engine/client';
import type { LeakReport, SourceLocation, TimelineMarker, TimelineSample, ViewId } from '../../protocol/webview';
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
export async function openSourceLocation(location: SourceLocation, beside: vscode.ViewColumn | undefined): Promise<void> {
  let { file, line, column } = location;
  if (!fs.existsSync(file) && location.generated && fs.existsSync(location.generated.file)) ({ file, line, column } = location.generated);
  try {
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    const pos = new vscode.Position(Math.max(0, line - 1), Math.max(0, column - 1));
    await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos), viewColumn: beside === vscode.ViewColumn.One ? vscode.ViewColumn.Beside : vscode.ViewColumn.One });
  } catch (e) {
    void vscode.window.showErrorMessage(`Leak Lens could not open ${file}:${line}: ${(e as Error).message}. The file may have moved since the snapshot was taken; re-run the analysis with --path-map if it lives elsewhere now.`);
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

export class MemoryPanel implements vscode.Disposable {
  static readonly viewType = 'leakLens.memory';
  private static current: MemoryPanel | undefined;

  private readonly controller: PanelController;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly disposeEmitter = new vscode.EventEmitter<void>();
  /** Fires when the user closes the panel. */
  readonly onDidDispose = this.disposeEmitter.event;

  /**
   * Shows the memory panel with `input`, reusing the open panel (its input is replaced). The panel lives until the
   * user closes it or `dispose` is called; it is also disposed with the extension.
   */
  static show(context: vscode.ExtensionContext, engine: EngineClient, input: PanelInput, log?: vscode.LogOutputChannel): MemoryPanel {
    const existing = MemoryPanel.current;
    if (existing) {
      existing.controller.setInput(withRoot(input));
      existing.panel.title = input.title ?? existing.panel.title;
      existing.panel.reveal(undefined, true);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(MemoryPanel.viewType, input.title ?? 'Leak Lens', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, { ...webviewOptions(context.extensionUri), retainContextWhenHidden: false });
    const p = new MemoryPanel(panel, context, engine, input, log);
    MemoryPanel.current = p;
    context.subscriptions.push(p);
    return p;
  }

  /** The open panel, if any. */
  static get active(): MemoryPanel | undefined {
    return MemoryPanel.current;
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
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
    );
    setWebviewHtml(panel.webview, context.extensionUri, input.title ?? 'Leak Lens');
  }

  /** Shows a new report, keeping a live timeline if there is one. */
  showReport(report: LeakReport, title?: string): void {
    this.controller.update({ report, snapshots: undefined, title: title ?? this.controller.currentInput.title, initialView: 'leaks', focus: undefined });
  }

  /** Appends samples (and markers) of the live session. */
  addSamples(samples: TimelineSample[], markers?: TimelineMarker[]): void {
    this.controller.addSamples(samples, markers);
  }

  addMarker(marker: TimelineMarker): void {
    this.controller.addSamples([], [marker]);
  }

  /** Switches to a view, e.g. the retainers of one object (`snapshot` indexes the panel's snapshots). */
  reveal(view: ViewId, focus?: { snapshot: number; nodeId: number }): void {
    this.panel.reveal(undefined, true);
    this.controller.reveal(view, focus);
  }

  dispose(): void {
    if (MemoryPanel.current === this) MemoryPanel.current = undefined;
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
