/**
 * The memory graph of a process: heap used, heap total and RSS over time, drawn with block characters in a Leak
 * Lens document that follows the samples live (what automation reads); with a person driving, the memory panel's
 * timeline (src/extension/webview) follows them too.
 */
import * as vscode from 'vscode';
import type { EngineClient } from '../../../engine/client';
import { log, logChannel } from '../log';
import type { TimelineMarker } from '../../../protocol/webview';
import type { MemoryTarget } from '../targets/target';
import type { MemorySample } from '../../../protocol/memory';
import { MemoryPanel } from '../webview/memoryPanel';
import { LeakLensDocuments, showMarkdown } from './documents';
import { formatBytes } from './format';

const BARS = '▁▂▃▄▅▆▇█';
const WIDTH = 60;

function sparkline(values: number[]): string {
  if (values.length === 0) return '';
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min || 1;
  return values.map((v) => BARS[Math.min(BARS.length - 1, Math.floor(((v - min) / span) * BARS.length))]).join('');
}

/** Averages samples into at most WIDTH buckets. */
function buckets(samples: readonly MemorySample[], pick: (s: MemorySample) => number | undefined): number[] {
  const values = samples.map(pick).filter((v): v is number => v !== undefined);
  if (values.length <= WIDTH) return values;
  const out: number[] = [];
  for (let i = 0; i < WIDTH; i++) {
    const part = values.slice(Math.floor((i * values.length) / WIDTH), Math.floor(((i + 1) * values.length) / WIDTH));
    out.push(part.reduce((a, b) => a + b, 0) / part.length);
  }
  return out;
}

export function memoryGraphMarkdown(label: string, samples: readonly MemorySample[], ended: boolean): string {
  const lines = [`# Memory of ${label.replace(/[\\`*_[\]<>#]/g, '\\$&')}`, ''];
  if (samples.length === 0) {
    lines.push(ended ? 'The session ended before any sample was taken.' : 'Waiting for the first sample…');
    return lines.join('\n');
  }
  const first = samples[0];
  const last = samples[samples.length - 1];
  const minutes = ((last.time - first.time) / 60_000).toFixed(1);
  lines.push(
    `${samples.length} samples over ${minutes} min${ended ? ' (the session has ended)' : ', updating live'}.`,
    '',
  );
  const rows: [string, (s: MemorySample) => number | undefined][] = [
    ['Heap used', (s) => s.heapUsed],
    ['Heap total', (s) => s.heapTotal],
    ['RSS', (s) => s.rss],
    ['External', (s) => s.external],
  ];
  lines.push('| | Now | Min | Max | Over time |', '| --- | ---: | ---: | ---: | --- |');
  for (const [name, pick] of rows) {
    const values = samples.map(pick).filter((v): v is number => v !== undefined);
    if (values.length === 0) continue;
    lines.push(
      `| ${name} | ${formatBytes(values[values.length - 1])} | ${formatBytes(Math.min(...values))} | ${formatBytes(Math.max(...values))} | \`${sparkline(buckets(samples, pick))}\` |`,
    );
  }
  const grew = last.heapUsed - first.heapUsed;
  lines.push(
    '',
    `Heap used ${grew >= 0 ? 'grew' : 'shrank'} by ${formatBytes(Math.abs(grew))} since ${new Date(first.time).toLocaleTimeString()}. A heap that keeps growing across garbage collections is the sign of a leak: run **Leak Lens: Find Leaks** to see what grows and who holds it.`,
  );
  return lines.join('\n');
}

/** Opens (or focuses) the live memory graph of a target. */
export class MemoryGraphs implements vscode.Disposable {
  private readonly open = new Map<MemoryTarget, { uri: vscode.Uri; subscriptions: vscode.Disposable[] }>();
  private panelFeed: vscode.Disposable[] = [];
  private panelTarget: MemoryTarget | undefined;
  private panel: MemoryPanel | undefined;
  /** Snapshots and forced GCs per target, drawn on its timeline. */
  private readonly markers = new WeakMap<MemoryTarget, TimelineMarker[]>();

  constructor(
    private readonly documents: LeakLensDocuments,
    private readonly extension: vscode.ExtensionContext,
    private readonly engine: () => EngineClient,
  ) {}

  /** The memory panel's timeline, fed with the target's samples while both live. */
  private showPanel(target: MemoryTarget): void {
    this.stopFeed();
    const panel = MemoryPanel.show(
      this.extension,
      this.engine(),
      {
        title: `Memory - ${target.label}`,
        live: true,
        samples: [...target.samples],
        markers: [...(this.markers.get(target) ?? [])],
        initialView: 'timeline',
      },
      logChannel(),
    );
    this.panel = panel;
    this.panelTarget = target;
    this.panelFeed = [
      target.onDidSample((s) => panel.addSamples([s])),
      target.onDidEnd(() => this.stopFeed()),
      panel.onDidDispose(() => this.stopFeed()),
    ];
  }

  private stopFeed(): void {
    this.panelFeed.forEach((d) => d.dispose());
    this.panelFeed = [];
    this.panel = undefined;
    this.panelTarget = undefined;
  }

  /** Records a snapshot or forced GC of `target`; its open timeline shows it at once. */
  mark(target: MemoryTarget, kind: TimelineMarker['kind'], label?: string): void {
    const marker: TimelineMarker = { time: Date.now(), kind, label };
    const list = this.markers.get(target) ?? [];
    list.push(marker);
    this.markers.set(target, list.slice(-500));
    if (this.panelTarget === target) this.panel?.addMarker(marker);
  }

  async show(target: MemoryTarget, options: { interactive: boolean }): Promise<vscode.Uri> {
    let entry = this.open.get(target);
    if (!entry) {
      const uri = this.documents.newUri(`Memory - ${target.label}`);
      let pending: NodeJS.Timeout | undefined;
      const render = (): void =>
        this.documents.set(uri, memoryGraphMarkdown(target.label, target.samples, target.ended));
      // Redraw at most once a second, however fast samples come.
      const schedule = (): void => {
        pending ??= setTimeout(() => {
          pending = undefined;
          render();
        }, 1000);
      };
      const created = {
        uri,
        subscriptions: [
          target.onDidSample(schedule),
          target.onDidEnd(() => {
            render();
            this.forget(target);
          }),
          { dispose: () => clearTimeout(pending) },
        ],
      };
      entry = created;
      this.open.set(target, created);
      render();
    }
    if (options.interactive) {
      try {
        this.showPanel(target);
        return entry.uri;
      } catch (error) {
        log().warn(`the memory panel could not open (${String(error)}); showing the graph as a document`);
      }
    }
    await showMarkdown(entry.uri, { preview: options.interactive });
    return entry.uri;
  }

  private forget(target: MemoryTarget): void {
    const entry = this.open.get(target);
    this.open.delete(target);
    entry?.subscriptions.forEach((d) => d.dispose());
  }

  dispose(): void {
    this.stopFeed();
    for (const target of [...this.open.keys()]) this.forget(target);
  }
}
