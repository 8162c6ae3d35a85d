/**
 * What every view shares: the channel to the extension (typed by protocol/webview.ts), queries answered page by
 * page, links that open source locations, and switching views.
 */
import type {
  FromWebview,
  PanelState,
  SourceLocation,
  ToWebview,
  ViewId,
  WebviewAnswer,
  WebviewQuery,
  WebviewResults,
} from '../../protocol/webview';
import { progressText } from '../../protocol/progress';
import { h, onActivate } from './dom';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

type Pending = { resolve: (a: WebviewAnswer<unknown>) => void; onProgress?: (text: string) => void };

/** An object to show in the retainers view; `name` is only for the heading. */
export interface Focus {
  snapshot: number;
  nodeId: number;
  name?: string;
}

/** UI state kept across hiding and showing the panel (VS Code's webview state). */
export interface SavedState {
  view?: ViewId;
  sorts?: Record<string, { key: string; dir: 'asc' | 'desc' }>;
}

export class App {
  private readonly vscode: VsCodeApi = acquireVsCodeApi();
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  state: PanelState = { title: 'Leak Lens', views: [], initialView: 'leaks', snapshots: [] };
  /** Switches the visible view; set by the shell. */
  showView: (view: ViewId, focus?: Focus) => void = () => undefined;
  /** Shows a one-line status or error; set by the shell. */
  status: (text: string, kind?: 'info' | 'error') => void = () => undefined;

  post(message: FromWebview): void {
    this.vscode.postMessage(message);
  }

  saved(): SavedState {
    const s = this.vscode.getState();
    return typeof s === 'object' && s !== null ? (s as SavedState) : {};
  }

  save(patch: Partial<SavedState>): void {
    this.vscode.setState({ ...this.saved(), ...patch });
  }

  /** Asks the extension for one page (or path); the answer is data, never a rejection. */
  query<K extends WebviewQuery['kind']>(
    query: Extract<WebviewQuery, { kind: K }>,
    onProgress?: (text: string) => void,
  ): { id: number; answer: Promise<WebviewAnswer<WebviewResults[K]>> } {
    const id = this.nextId++;
    const answer = new Promise<WebviewAnswer<WebviewResults[K]>>((resolve) => {
      this.pending.set(id, { resolve: resolve as Pending['resolve'], onProgress });
    });
    this.post({ type: 'query', id, query });
    return { id, answer };
  }

  cancel(id: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    p.resolve({ ok: false, error: 'cancelled' });
    this.post({ type: 'cancel', id });
  }

  /** Routes answers and progress to their queries; returns false for other messages. */
  receive(msg: ToWebview): boolean {
    if (msg.type === 'answer') {
      const p = this.pending.get(msg.id);
      if (p) {
        this.pending.delete(msg.id);
        p.resolve(msg.answer);
      }
      return true;
    }
    if (msg.type === 'progress') {
      const { type: _type, id, ...progress } = msg;
      this.pending.get(id)?.onProgress?.(progressText(progress));
      return true;
    }
    return false;
  }

  /** A path shown relative to the workspace when it lies inside it. */
  displayPath(file: string): string {
    const root = this.state.root;
    if (root && file.startsWith(root) && (file[root.length] === '/' || file[root.length] === '\\'))
      return file.slice(root.length + 1);
    return file;
  }

  /** A link that opens `loc` in the editor (through the extension, which checks it named that file). */
  link(loc: SourceLocation, label?: string): HTMLAnchorElement {
    const where = `${this.displayPath(loc.file)}:${loc.line}`;
    const a = h(
      'a',
      {
        class: 'loc',
        attrs: {
          href: '#',
          title: `Open ${loc.file}:${loc.line}:${loc.column}${loc.generated ? ` (runs as ${loc.generated.file}:${loc.generated.line})` : ''}`,
          'data-file': loc.file,
          'data-line': loc.line,
        },
      },
      label ?? where,
    );
    onActivate(a, () => this.post({ type: 'openLocation', file: loc.file, line: loc.line, column: loc.column }));
    return a;
  }
}
