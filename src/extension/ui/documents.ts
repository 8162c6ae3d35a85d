/**
 * Read-only documents Leak Lens shows (reports, snapshot summaries, the memory graph) under the `leak-lens:` scheme:
 * no "save?" prompt on close, and a document can be updated in place.
 */
import * as vscode from 'vscode';

export const SCHEME = 'leak-lens';

export class LeakLensDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly contents = new Map<string, string>();
  private readonly changeEmitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changeEmitter.event;
  private counter = 0;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return (
      this.contents.get(uri.toString()) ?? 'This Leak Lens document is no longer available; run the command again.'
    );
  }

  /** A new document URI whose file name is `title` (made unique), ending in `.md`. */
  newUri(title: string): vscode.Uri {
    const safe = title.replace(/[\\/:*?"<>|#%]+/g, '-').slice(0, 80);
    return vscode.Uri.from({ scheme: SCHEME, path: `/${safe}${++this.counter > 1 ? ` (${this.counter})` : ''}.md` });
  }

  /** Sets (or replaces) the text of a document; open editors update. */
  set(uri: vscode.Uri, text: string): void {
    this.contents.set(uri.toString(), text);
    this.changeEmitter.fire(uri);
  }

  get(uri: vscode.Uri): string | undefined {
    return this.contents.get(uri.toString());
  }

  dispose(): void {
    this.changeEmitter.dispose();
    this.contents.clear();
  }
}

/** Shows a Leak Lens markdown document rendered (markdown preview) when possible, else as text. */
export async function showMarkdown(uri: vscode.Uri, options: { preview: boolean }): Promise<void> {
  if (options.preview) {
    try {
      await vscode.commands.executeCommand('markdown.showPreview', uri);
      return;
    } catch {
      // No markdown extension: show the source.
    }
  }
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc, { preview: true });
}
