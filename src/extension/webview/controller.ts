/**
 * The extension side of one memory webview, without the VS Code API: it turns checked webview queries into engine
 * requests, keeps the live timeline's bounded history for replay, and honours `openLocation` only for files it sent.
 * The webview names snapshots by index; the files behind them never leave this class. MemoryPanel and the snapshot
 * editor wrap it with a real webview; tests drive it with the real engine and a browser.
 */
import * as path from 'path';
import type { EngineClient } from '../../../engine/client';
import type { EngineProgress } from '../../../protocol/engine';
import { DEFAULT_CAPACITY, TimelineBuffer } from '../../../render/timeline';
import {
  checkFromWebview,
  LocationAllowList,
  panelSnapshots,
  type LeakReport,
  type PanelState,
  type SnapshotRef,
  type SourceLocation,
  type TimelineMarker,
  type TimelineSample,
  type ToWebview,
  type ViewId,
  type WebviewAnswer,
  type WebviewQuery,
} from '../../../protocol/webview';
import type { ClassSummary, ClassDelta } from '../../../protocol/heap';

/** The part of the engine client the panel uses. */
export type EngineLike = Pick<EngineClient, 'request'>;

/** What the panel needs from its surroundings: a webview to post to, an editor to open, a log. */
export interface PanelHost {
  post(message: ToWebview): void;
  openLocation(location: SourceLocation): Promise<void> | void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

/** A snapshot file the panel may query. */
export interface SnapshotFile {
  file: string;
  label?: string;
  time?: string;
  totalSize?: number;
  nodeCount?: number;
}

/** What a panel shows. Every part is optional; the views follow from what is given. */
export interface PanelInput {
  title?: string;
  report?: LeakReport;
  /** Snapshot files in the order taken; the report's snapshots when omitted. */
  snapshots?: SnapshotFile[];
  /** A live session: show the timeline and accept samples. */
  live?: boolean;
  /** Samples and markers known already (a live session's history). */
  samples?: TimelineSample[];
  markers?: TimelineMarker[];
  views?: ViewId[];
  initialView?: ViewId;
  /** An object to open in the retainers view: snapshot index and heap object id. */
  focus?: { snapshot: number; nodeId: number };
  /** A leak group (`LeakGroup.id`) to open in the leaks view, selected with its details. */
  group?: string;
  /** The workspace folder, for shorter paths. */
  root?: string;
}

const SUMMARY_DEFAULT = { key: 'retainedSize', dir: 'desc' } as const;
const ALL = 2 ** 31 - 1;
const CLASS_LISTS_KEPT = 4;

type ClassRow = ClassSummary | ClassDelta;

export class PanelController {
  private input: PanelInput = {};
  private files: SnapshotFile[] = [];
  private ready = false;
  /** A view asked for while no webview listened (hidden panels lose theirs); shown right after the next state. */
  private pendingShow: Extract<ToWebview, { type: 'show' }> | undefined;
  private disposed = false;
  private readonly allow = new LocationAllowList();
  private readonly timeline: TimelineBuffer;
  private readonly running = new Map<number, AbortController>();
  /** Whole class lists (summary or comparison) by snapshot files, for sorting and filtering; a few kept. */
  private readonly classLists = new Map<string, Promise<WebviewAnswer<ClassRow[]>>>();

  constructor(
    private readonly engine: EngineLike,
    private readonly host: PanelHost,
    timelineCapacity = DEFAULT_CAPACITY,
  ) {
    this.timeline = new TimelineBuffer(timelineCapacity);
  }

  /** Replaces what the panel shows. */
  setInput(input: PanelInput): void {
    this.input = input;
    // A report over worker threads lists each worker's snapshots after the main thread's, named after the worker.
    this.files =
      input.snapshots ??
      (input.report ? panelSnapshots(input.report) : []).map(({ thread, snapshot: s }, i) => ({
        file: s.file,
        label: thread === 'main' ? s.label : `${s.label ?? `Snapshot ${i + 1}`} (${thread})`,
        time: s.time,
        totalSize: s.totalSize,
        nodeCount: s.nodeCount,
      }));
    this.classLists.clear();
    if (input.report) this.allow.addReport(input.report);
    this.timeline.clear();
    if (input.samples) this.timeline.pushAll(input.samples);
    for (const m of input.markers ?? []) this.timeline.addMarker(m);
    if (this.ready) this.host.post({ type: 'state', state: this.state() });
  }

  /** Changes part of the input (a report arriving for a live session keeps its timeline). */
  update(patch: Partial<PanelInput>): void {
    const samples = this.timeline.toSamples();
    const markers = [...this.timeline.markers];
    this.setInput({ ...this.input, ...patch, samples: patch.samples ?? samples, markers: patch.markers ?? markers });
  }

  get currentInput(): PanelInput {
    return this.input;
  }

  /** Appends live samples; they reach the webview now, or with the state when it (re)starts. */
  addSamples(samples: TimelineSample[], markers: TimelineMarker[] = []): void {
    this.timeline.pushAll(samples);
    for (const m of markers) this.timeline.addMarker(m);
    if (this.ready) this.host.post({ type: 'samples', samples, markers });
  }

  /**
   * Switches the webview to a view, e.g. the retainers of an object the editor asked about, or the leaks view with a
   * group selected. Asked while no webview listens (a hidden panel's webview is gone), it is shown right after the
   * state the next webview gets, over the view that webview would restore.
   */
  reveal(view: ViewId, focus?: { snapshot: number; nodeId: number }, group?: string): void {
    const show = { type: 'show' as const, view, ...(focus ? { focus } : {}), ...(group ? { group } : {}) };
    if (this.ready) this.host.post(show);
    else this.pendingShow = show;
  }

  /** The webview went away (its panel was hidden); the next one says `ready` again and gets the state then. */
  detach(): void {
    this.ready = false;
  }

  /** The webview's state message for the current input. */
  state(): PanelState {
    const input = this.input;
    const report = input.report;
    const snapshots: SnapshotRef[] = this.files.map((f, i) => {
      const label = f.label ?? `Snapshot ${i + 1}`;
      // The file's name only: the webview is never told where files are.
      const name = path.basename(f.file);
      return {
        label,
        ...(name !== label ? { detail: name } : {}),
        time: f.time,
        totalSize: f.totalSize,
        nodeCount: f.nodeCount,
      };
    });
    let timeline: PanelState['timeline'];
    if (input.live) timeline = { live: true, samples: this.timeline.toColumns(), markers: [...this.timeline.markers] };
    else if (report && report.snapshots.some((s) => s.memoryUsage && s.time)) {
      const withUsage = report.snapshots.filter((s) => s.memoryUsage && s.time);
      const figures = new TimelineBuffer(Math.max(8, withUsage.length));
      figures.pushAll(withUsage.map((s) => ({ time: Date.parse(s.time!), ...s.memoryUsage! })));
      timeline = {
        live: false,
        samples: figures.toColumns(),
        markers: withUsage.map((s) => ({ time: Date.parse(s.time!), kind: 'snapshot' as const, label: s.label })),
      };
    }
    const views: ViewId[] = input.views ?? [
      ...(input.live ? (['timeline'] as const) : []),
      // A report of the sampling mode has no class growth: its growing stacks are all it shows.
      ...(report ? (report.sampling ? (['leaks'] as const) : (['leaks', 'growth'] as const)) : []),
      ...(snapshots.length > 0 ? (['retainers', 'summary'] as const) : []),
      ...(snapshots.length > 1 ? (['comparison'] as const) : []),
      ...(!input.live && timeline ? (['timeline'] as const) : []),
    ];
    const initialView =
      input.initialView && views.includes(input.initialView) ? input.initialView : (views[0] ?? 'timeline');
    return {
      title: input.title ?? (report ? 'Leak Lens report' : 'Leak Lens'),
      views,
      initialView,
      report,
      snapshots,
      timeline,
      focus: input.focus,
      group: input.group,
      root: input.root,
    };
  }

  /** Handles one message from the webview; malformed ones are logged and dropped. */
  async handle(raw: unknown): Promise<void> {
    if (this.disposed) return;
    const checked = checkFromWebview(raw);
    if (!checked.ok) {
      this.host.log('warn', `webview message refused: ${checked.error}`);
      return;
    }
    const msg = checked.value;
    switch (msg.type) {
      case 'ready': {
        this.ready = true;
        this.host.post({ type: 'state', state: this.state() });
        const show = this.pendingShow;
        this.pendingShow = undefined;
        if (show) this.host.post(show);
        return;
      }
      case 'cancel':
        this.running.get(msg.id)?.abort();
        this.running.delete(msg.id);
        return;
      case 'error':
        this.host.log('error', `webview: ${msg.message}`);
        return;
      case 'openLocation': {
        if (!this.allow.has(msg.file)) {
          this.host.log('warn', `webview asked to open ${msg.file}, which no report or path named; ignored`);
          return;
        }
        const known = this.allow.find(msg.file, msg.line, msg.column);
        await this.host.openLocation(known ?? { file: msg.file, line: msg.line, column: msg.column });
        return;
      }
      case 'query': {
        const abort = new AbortController();
        this.running.set(msg.id, abort);
        let answer: WebviewAnswer<unknown>;
        try {
          answer = await this.answer(msg.id, msg.query, abort.signal);
        } catch (e) {
          answer = { ok: false, error: `internal error: ${(e as Error).message}` };
        }
        if (!answer.ok) answer = { ok: false, error: this.withoutPaths(answer.error) };
        const cancelled = !this.running.has(msg.id);
        this.running.delete(msg.id);
        if (!cancelled && !this.disposed) this.host.post({ type: 'answer', id: msg.id, answer });
        return;
      }
    }
  }

  /** Engine errors name snapshot files; the webview knows them by their labels only. */
  private withoutPaths(error: string): string {
    let out = error;
    this.files.forEach((f, i) => {
      out = out.split(f.file).join(f.label ?? `snapshot ${i + 1}`);
    });
    return out;
  }

  private file(index: number): string | undefined {
    return this.files[index]?.file;
  }

  private async answer(id: number, q: WebviewQuery, signal: AbortSignal): Promise<WebviewAnswer<unknown>> {
    const onProgress = (progress: EngineProgress) => {
      if (!signal.aborted) this.host.post({ type: 'progress', id, ...progress });
    };
    const opts = { signal, onProgress };
    const noSnapshot = (i: number): WebviewAnswer<unknown> => ({
      ok: false,
      error: `there is no snapshot ${i} in this panel`,
    });
    switch (q.kind) {
      case 'summary': {
        const file = this.file(q.snapshot);
        if (!file) return noSnapshot(q.snapshot);
        await this.ensureFigures(q.snapshot, opts);
        const list = await this.classList(`summary|${file}`, () =>
          this.engine.request({ kind: 'summary', file, offset: 0, limit: ALL }, opts),
        );
        if (!list.ok) return list;
        return { ok: true, value: pageOf(list.value, q.offset, q.limit, q.sort ?? SUMMARY_DEFAULT, q.filter) };
      }
      case 'compare': {
        const base = this.file(q.base);
        const target = this.file(q.target);
        if (!base) return noSnapshot(q.base);
        if (!target) return noSnapshot(q.target);
        if (base === target) return { ok: false, error: 'choose two different snapshots to compare' };
        const list = await this.classList(`compare|${base}|${target}`, () =>
          this.engine.request({ kind: 'compare', base, target, offset: 0, limit: ALL }, opts),
        );
        if (!list.ok) return list;
        return {
          ok: true,
          value: pageOf(list.value, q.offset, q.limit, q.sort ?? { key: 'sizeDelta', dir: 'desc' }, q.filter),
        };
      }
      case 'objects': {
        const file = this.file(q.snapshot);
        if (!file) return noSnapshot(q.snapshot);
        return strip(
          await this.engine.request(
            { kind: 'objects', file, className: q.className, offset: q.offset, limit: q.limit },
            opts,
          ),
        );
      }
      case 'retainers': {
        const file = this.file(q.snapshot);
        if (!file) return noSnapshot(q.snapshot);
        const a = await this.engine.request(
          { kind: 'retainers', file, nodeId: q.nodeId, offset: q.offset, limit: q.limit },
          opts,
        );
        // Retainers with a known function or constructor become openable: the extension itself shows them.
        if (a.ok) for (const r of a.value.items) this.allow.add(r.location);
        return strip(a);
      }
      case 'retainerPath': {
        const file = this.file(q.snapshot);
        if (!file) return noSnapshot(q.snapshot);
        const a = await this.engine.request({ kind: 'retainerPath', file, nodeId: q.nodeId }, opts);
        // The path's locations become openable: the extension itself is about to show them.
        if (a.ok) this.allow.addSteps(a.value);
        return strip(a);
      }
    }
  }

  /** Loads a snapshot whose size is not known yet and tells the webview its figures. */
  private async ensureFigures(index: number, opts: { signal: AbortSignal }): Promise<void> {
    const f = this.files[index];
    if (f.totalSize !== undefined) return;
    const a = await this.engine.request({ kind: 'load', file: f.file }, opts);
    if (!a.ok) return;
    f.totalSize = a.value.totalSize;
    f.nodeCount = a.value.nodeCount;
    if (this.ready) this.host.post({ type: 'snapshots', snapshots: this.state().snapshots });
  }

  private classList(
    key: string,
    fetch: () => Promise<WebviewAnswer<{ items: ClassRow[] }>>,
  ): Promise<WebviewAnswer<ClassRow[]>> {
    let p = this.classLists.get(key);
    if (p) {
      // Most recently used last.
      this.classLists.delete(key);
      this.classLists.set(key, p);
      return p;
    }
    p = fetch().then((a) =>
      a.ok ? { ok: true as const, value: a.value.items } : { ok: false as const, error: a.error },
    );
    this.classLists.set(key, p);
    // A failed or cancelled fetch is not kept.
    void p.then((a) => {
      if (!a.ok && this.classLists.get(key) === p) this.classLists.delete(key);
    });
    while (this.classLists.size > CLASS_LISTS_KEPT) this.classLists.delete(this.classLists.keys().next().value!);
    return p;
  }

  dispose(): void {
    this.disposed = true;
    for (const a of this.running.values()) a.abort();
    this.running.clear();
    this.classLists.clear();
  }
}

/** Engine answers carry an error code the webview has no use for. */
function strip<T>(a: { ok: true; value: T } | { ok: false; error: string }): WebviewAnswer<T> {
  return a.ok ? a : { ok: false, error: a.error };
}

/** One page of a class list, filtered by a case-insensitive part of the class name and sorted. */
export function pageOf<R extends ClassRow>(
  rows: R[],
  offset: number,
  limit: number,
  sort: { key: string; dir: 'asc' | 'desc' },
  filter?: string,
): { total: number; offset: number; items: R[] } {
  const needle = filter?.trim().toLowerCase();
  const picked = needle ? rows.filter((r) => r.className.toLowerCase().includes(needle)) : rows.slice();
  const sign = sort.dir === 'asc' ? 1 : -1;
  const key = sort.key as keyof R;
  picked.sort((a, b) => {
    const x = a[key];
    const y = b[key];
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return sign * c || a.className.localeCompare(b.className);
  });
  return { total: picked.length, offset, items: picked.slice(offset, offset + limit) };
}
