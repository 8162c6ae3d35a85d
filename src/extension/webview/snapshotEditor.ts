/**
 * Opening a `.heapsnapshot` file in VS Code shows it in the memory webview: the Summary (classes, objects) and the
 * Retainers of any object, each page asked from the engine. The engine loads the file on the first page; closing the
 * last editor of the file unloads it. The snapshot goes by the label it was given (its sidecar's, or a rename's), with
 * the file name beside it.
 * Registered for viewType `leakLens.snapshotEditor` (package.json `customEditors`, filename pattern `*.heapsnapshot`).
 */
import * as vscode from 'vscode';
import type { EngineClient } from '../../../engine/client';
import { PanelController } from './controller';
import { panelHost, setWebviewHtml, snapshotLabel, webviewOptions } from './memoryPanel';

class SnapshotDocument implements vscode.CustomDocument {
  constructor(
    readonly uri: vscode.Uri,
    private readonly onDispose: () => void,
  ) {}

  dispose(): void {
    this.onDispose();
  }
}

/** The label a snapshot file goes by (the Snapshots view's), if it has one. */
export type LabelOf = (file: string) => Promise<string | undefined>;

export class SnapshotEditorProvider implements vscode.CustomReadonlyEditorProvider<SnapshotDocument> {
  static readonly viewType = 'leakLens.snapshotEditor';

  /** Registers the provider; dispose the result to unregister. */
  static register(
    context: vscode.ExtensionContext,
    engine: () => EngineClient,
    log?: vscode.LogOutputChannel,
    labelOf?: LabelOf,
  ): vscode.Disposable {
    return vscode.window.registerCustomEditorProvider(
      SnapshotEditorProvider.viewType,
      new SnapshotEditorProvider(context, engine, log, labelOf),
      {
        // A hidden editor's webview is rebuilt when shown again; the controller replays its state.
        webviewOptions: { retainContextWhenHidden: false },
        supportsMultipleEditorsPerDocument: true,
      },
    );
  }

  /** `engine` is called on first use, so registering does not start the engine worker. */
  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly engine: () => EngineClient,
    private readonly log?: vscode.LogOutputChannel,
    private readonly labelOf?: LabelOf,
  ) {}

  openCustomDocument(uri: vscode.Uri): SnapshotDocument {
    if (uri.scheme !== 'file')
      throw new Error(
        `Leak Lens reads heap snapshots from local files only; ${uri.toString()} is not one. Save it to disk and open it from there.`,
      );
    return new SnapshotDocument(uri, () => void this.engine().request({ kind: 'unload', file: uri.fsPath }));
  }

  async resolveCustomEditor(document: SnapshotDocument, panel: vscode.WebviewPanel): Promise<void> {
    const file = document.uri.fsPath;
    let closed = false;
    const closing = panel.onDidDispose(() => (closed = true));
    const title = (await this.labelOf?.(file).catch(() => undefined)) ?? snapshotLabel(file);
    closing.dispose();
    if (closed) return;
    panel.webview.options = webviewOptions(this.context.extensionUri);
    const controller = new PanelController(this.engine(), panelHost(panel, this.log));
    controller.setInput({
      title,
      snapshots: [{ file, label: title }],
      views: ['summary', 'retainers'],
      initialView: 'summary',
      root: vscode.workspace.getWorkspaceFolder(document.uri)?.uri.fsPath,
    });
    const sub = panel.webview.onDidReceiveMessage((m: unknown) => void controller.handle(m));
    panel.onDidDispose(() => {
      sub.dispose();
      controller.dispose();
    });
    setWebviewHtml(panel.webview, this.context.extensionUri, title);
  }
}
