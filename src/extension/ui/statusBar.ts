/**
 * The status bar item with the live heap of the active session's process; a click opens its memory graph. Only the
 * active session's process is sampled, at `leakLens.sampling.intervalMs`.
 */
import * as vscode from 'vscode';
import { settings } from '../settings';
import type { TargetRegistry } from '../targets/registry';
import type { MemoryTarget } from '../targets/target';
import type { MemorySample } from '../../../protocol/memory';
import { formatBytes } from './format';

export class HeapStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('leakLens.heap', vscode.StatusBarAlignment.Left, 10);
  private readonly disposables: vscode.Disposable[] = [this.item];
  private target: MemoryTarget | undefined;
  private shown = false;
  private targetScope: vscode.Disposable[] = [];

  constructor(private readonly registry: TargetRegistry) {
    this.item.name = 'Leak Lens: heap of the debugged program';
    this.item.command = 'leakLens.showMemoryGraph';
    this.disposables.push(
      registry.onDidChangeActiveTarget((t) => this.follow(t)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (
          e.affectsConfiguration('leakLens.sampling.intervalMs') ||
          e.affectsConfiguration('leakLens.statusBar.enabled')
        ) {
          const t = this.target;
          this.follow(undefined);
          this.follow(t);
        }
      }),
    );
    this.follow(registry.activeTarget());
  }

  /** Shows the item for `target` and samples it; stops sampling the previous one. */
  private follow(target: MemoryTarget | undefined): void {
    if (target === this.target && target) return;
    this.targetScope.forEach((d) => d.dispose());
    this.targetScope = [];
    if (this.target && !this.target.ended) this.target.stopSampling();
    this.target = target;
    if (!target || target.ended || !settings.statusBarEnabled()) {
      this.item.hide();
      this.shown = false;
      return;
    }
    this.item.text = '$(pulse) heap …';
    this.item.tooltip = `Leak Lens: waiting for the first memory sample of ${target.session.name}`;
    this.item.show();
    this.shown = true;
    this.targetScope.push(
      target.onDidSample((s) => this.render(target, s)),
      target.onDidEnd(() => {
        if (this.target === target) this.follow(undefined);
      }),
    );
    const last = target.samples[target.samples.length - 1];
    if (last) this.render(target, last);
    target.startSampling(settings.samplingIntervalMs());
  }

  private render(target: MemoryTarget, s: MemorySample): void {
    this.item.text = `$(pulse) heap ${formatBytes(s.heapUsed)}`;
    const md = new vscode.MarkdownString(
      `**Leak Lens** · ${target.label.replace(/[\\`*_[\]<>#]/g, '\\$&')}\n\n` +
        `Heap used ${formatBytes(s.heapUsed)} of ${formatBytes(s.heapTotal)}` +
        (s.rss !== undefined ? ` · RSS ${formatBytes(s.rss)}` : '') +
        (s.external !== undefined ? ` · external ${formatBytes(s.external)}` : '') +
        `\n\nClick for the memory graph.`,
    );
    this.item.tooltip = md;
  }

  /** The item's text while it is shown. */
  get visibleText(): string | undefined {
    return this.shown ? this.item.text : undefined;
  }

  dispose(): void {
    this.targetScope.forEach((d) => d.dispose());
    if (this.target && !this.target.ended) this.target.stopSampling();
    this.disposables.forEach((d) => d.dispose());
  }
}
