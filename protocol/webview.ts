/**
 * Messages between the extension host and the memory webview (media/), both directions, and the checks the
 * extension runs on everything the webview sends. The webview is treated as untrusted: it names snapshots by their
 * index in the list the extension gave it (never by path), asks for pages (never for the whole graph), and may ask to
 * open only a source location the extension itself sent it.
 *
 * Runtime code here is limited to plain validation helpers with no imports, so that both the Node side and the DOM
 * bundle can include this module.
 */
import type { ObjectInfo, Page, RetainerInfo } from './engine';
import type { MemorySample } from './memory';
import type { EngineProgress } from './progress';
import type { ClassDelta, ClassSummary } from './heap';
import type { LeakGroup, LeakReport, ResourceGroup, RetainerStep, SourceLocation } from './report';

export type {
  ClassDelta,
  ClassSummary,
  LeakGroup,
  LeakReport,
  ObjectInfo,
  Page,
  ResourceGroup,
  RetainerInfo,
  RetainerStep,
  SourceLocation,
};

/** One sample of a live session's memory: `process.memoryUsage()` of the program, in bytes, and when. */
export type TimelineSample = MemorySample;

/**
 * Samples as columns, one array per series, oldest first: how a whole timeline travels (smaller to post and faster
 * to read than one object per sample). A series the target does not report is left out.
 */
export interface TimelineColumns {
  time: number[];
  heapUsed: number[];
  heapTotal: number[];
  rss?: number[];
  external?: number[];
  arrayBuffers?: number[];
}

/** A moment worth marking on the timeline: a heap snapshot taken, or a garbage collection forced. */
export interface TimelineMarker {
  time: number;
  kind: 'snapshot' | 'gc';
  label?: string;
}

/** The tabs of the memory webview. */
export type ViewId = 'timeline' | 'growth' | 'leaks' | 'retainers' | 'summary' | 'comparison';

export const VIEW_IDS: readonly ViewId[] = ['timeline', 'growth', 'leaks', 'retainers', 'summary', 'comparison'];

/** A snapshot the webview may query, named by its index in {@link PanelState.snapshots}. */
export interface SnapshotRef {
  label: string;
  /** The snapshot's file name, when the label is another name (one the user gave): pickers show it beside the label. */
  detail?: string;
  time?: string;
  totalSize?: number;
  nodeCount?: number;
}

/** Everything a panel shows that is not fetched page by page. Sent after `ready` and whenever the input changes. */
export interface PanelState {
  title: string;
  /** The tabs to show, in order. */
  views: ViewId[];
  initialView: ViewId;
  report?: LeakReport;
  snapshots: SnapshotRef[];
  /** Present for a live session (samples arrive later as `samples` messages) or a report with memory figures. */
  timeline?: { live: boolean; samples: TimelineColumns; markers: TimelineMarker[] };
  /** The workspace folder; paths inside it are shown relative to it. */
  root?: string;
  /** An object to open in the retainers view first: snapshot index and heap object id. */
  focus?: { snapshot: number; nodeId: number };
  /** A leak group (`LeakGroup.id`) to open first: the leaks view with that group selected and its details shown. */
  group?: string;
}

export type SortDirection = 'asc' | 'desc';
export type SummarySortKey = 'className' | 'distance' | 'count' | 'shallowSize' | 'retainedSize';
export type CompareSortKey =
  'className' | 'newCount' | 'deletedCount' | 'countDelta' | 'allocatedSize' | 'freedSize' | 'sizeDelta';

export const SUMMARY_SORT_KEYS: readonly SummarySortKey[] = [
  'className',
  'distance',
  'count',
  'shallowSize',
  'retainedSize',
];
export const COMPARE_SORT_KEYS: readonly CompareSortKey[] = [
  'className',
  'newCount',
  'deletedCount',
  'countDelta',
  'allocatedSize',
  'freedSize',
  'sizeDelta',
];

/** The most rows one page may hold; the webview asks for more pages rather than for longer ones. */
export const MAX_PAGE = 500;

/** A query from the webview for one page of data, answered by the engine through the extension. */
export type WebviewQuery =
  | {
      kind: 'summary';
      snapshot: number;
      offset: number;
      limit: number;
      sort?: { key: SummarySortKey; dir: SortDirection };
      filter?: string;
    }
  | {
      kind: 'compare';
      base: number;
      target: number;
      offset: number;
      limit: number;
      sort?: { key: CompareSortKey; dir: SortDirection };
      filter?: string;
    }
  | { kind: 'objects'; snapshot: number; className: string; offset: number; limit: number }
  | { kind: 'retainers'; snapshot: number; nodeId: number; offset: number; limit: number }
  | { kind: 'retainerPath'; snapshot: number; nodeId: number };

/** The value answered for each query kind. */
export interface WebviewResults {
  summary: Page<ClassSummary>;
  compare: Page<ClassDelta>;
  objects: Page<ObjectInfo>;
  retainers: Page<RetainerInfo>;
  retainerPath: RetainerStep[];
}

export type WebviewAnswer<T> = { ok: true; value: T } | { ok: false; error: string };

/** Messages the extension posts to the webview. */
export type ToWebview =
  /** The whole panel state; replaces what the webview showed. */
  | { type: 'state'; state: PanelState }
  /** New samples (and markers) of the live session, oldest first. */
  | { type: 'samples'; samples: TimelineSample[]; markers?: TimelineMarker[] }
  /** The answer to query `id`. */
  | { type: 'answer'; id: number; answer: WebviewAnswer<unknown> }
  /** Progress of query `id` (parsing a large snapshot takes a while). */
  | ({ type: 'progress'; id: number } & EngineProgress)
  /** Updated figures of the snapshots (sizes become known once a snapshot is loaded); views keep their state. */
  | { type: 'snapshots'; snapshots: SnapshotRef[] }
  /** Switch to a view; for `retainers`, of the given object; for `leaks`, with the given group selected. */
  | { type: 'show'; view: ViewId; focus?: { snapshot: number; nodeId: number }; group?: string };

/** Messages the webview posts to the extension. */
export type FromWebview =
  /** The webview's script has started and listens for messages. */
  | { type: 'ready' }
  | { type: 'query'; id: number; query: WebviewQuery }
  /** The webview no longer needs the answer to query `id`. */
  | { type: 'cancel'; id: number }
  /** Open the editor at a location the extension sent (a link in a retainer path, owner or allocation site). */
  | { type: 'openLocation'; file: string; line: number; column: number }
  /** An error inside the webview, for the extension's log. */
  | { type: 'error'; message: string };

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

const MAX_INDEX = 0xffff;
const MAX_NODE_ID = 2 ** 32 - 1;
const MAX_OFFSET = 2 ** 31 - 1;
const MAX_TEXT = 4096;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function int(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

function text(v: unknown, max = MAX_TEXT): v is string {
  return typeof v === 'string' && v.length <= max;
}

function checkSort<K extends string>(v: unknown, keys: readonly K[]): v is { key: K; dir: SortDirection } | undefined {
  if (v === undefined) return true;
  return isRecord(v) && keys.includes(v.key as K) && (v.dir === 'asc' || v.dir === 'desc');
}

function checkPage(q: Record<string, unknown>): string | undefined {
  if (!int(q.offset, 0, MAX_OFFSET)) return 'offset must be an integer >= 0';
  if (!int(q.limit, 1, MAX_PAGE)) return `limit must be an integer from 1 to ${MAX_PAGE}`;
  return undefined;
}

/** Checks the shape of a query; snapshot indexes are checked against the panel's list by the caller. */
/**
 * A report's snapshots as a panel lists them (and the webview names them by index): the main thread's, then each
 * worker thread's in the report's order (a report over threads, see `threads`). Each worker's heap and object ids
 * are its own, so a group of a worker is explored in that worker's snapshots.
 */
export function panelSnapshots<S>(report: {
  snapshots: S[];
  threads?: { name: string; snapshots: S[] }[];
}): { thread: string; snapshot: S }[] {
  const out = report.snapshots.map((snapshot) => ({ thread: 'main', snapshot }));
  for (const t of report.threads ?? [])
    if (t.name !== 'main') for (const snapshot of t.snapshots) out.push({ thread: t.name, snapshot });
  return out;
}

/** The index, in {@link panelSnapshots}, of the last snapshot of a group's thread (the main thread's by default). */
export function lastSnapshotOfThread<S>(
  report: { snapshots: S[]; threads?: { name: string; snapshots: S[] }[] },
  thread: string | undefined,
): number {
  const list = panelSnapshots(report);
  const want = thread && list.some((s) => s.thread === thread) ? thread : 'main';
  for (let i = list.length - 1; i >= 0; i--) if (list[i].thread === want) return i;
  return report.snapshots.length - 1;
}

export function checkQuery(v: unknown): Checked<WebviewQuery> {
  if (!isRecord(v)) return { ok: false, error: 'query is not an object' };
  const bad = (error: string): Checked<WebviewQuery> => ({ ok: false, error: `${String(v.kind)} query: ${error}` });
  switch (v.kind) {
    case 'summary': {
      if (!int(v.snapshot, 0, MAX_INDEX)) return bad('snapshot must be an index');
      const p = checkPage(v);
      if (p) return bad(p);
      if (!checkSort(v.sort, SUMMARY_SORT_KEYS)) return bad('unknown sort');
      if (v.filter !== undefined && !text(v.filter, 1000)) return bad('filter must be a short string');
      return {
        ok: true,
        value: {
          kind: 'summary',
          snapshot: v.snapshot,
          offset: v.offset as number,
          limit: v.limit as number,
          sort: v.sort,
          filter: v.filter as string | undefined,
        },
      };
    }
    case 'compare': {
      if (!int(v.base, 0, MAX_INDEX) || !int(v.target, 0, MAX_INDEX)) return bad('base and target must be indexes');
      const p = checkPage(v);
      if (p) return bad(p);
      if (!checkSort(v.sort, COMPARE_SORT_KEYS)) return bad('unknown sort');
      if (v.filter !== undefined && !text(v.filter, 1000)) return bad('filter must be a short string');
      return {
        ok: true,
        value: {
          kind: 'compare',
          base: v.base,
          target: v.target,
          offset: v.offset as number,
          limit: v.limit as number,
          sort: v.sort,
          filter: v.filter as string | undefined,
        },
      };
    }
    case 'objects': {
      if (!int(v.snapshot, 0, MAX_INDEX)) return bad('snapshot must be an index');
      if (!text(v.className) || v.className.length === 0) return bad('className must be a non-empty string');
      const p = checkPage(v);
      if (p) return bad(p);
      return {
        ok: true,
        value: {
          kind: 'objects',
          snapshot: v.snapshot,
          className: v.className,
          offset: v.offset as number,
          limit: v.limit as number,
        },
      };
    }
    case 'retainers': {
      if (!int(v.snapshot, 0, MAX_INDEX)) return bad('snapshot must be an index');
      if (!int(v.nodeId, 0, MAX_NODE_ID)) return bad('nodeId must be a heap object id');
      const p = checkPage(v);
      if (p) return bad(p);
      return {
        ok: true,
        value: {
          kind: 'retainers',
          snapshot: v.snapshot,
          nodeId: v.nodeId,
          offset: v.offset as number,
          limit: v.limit as number,
        },
      };
    }
    case 'retainerPath': {
      if (!int(v.snapshot, 0, MAX_INDEX)) return bad('snapshot must be an index');
      if (!int(v.nodeId, 0, MAX_NODE_ID)) return bad('nodeId must be a heap object id');
      return { ok: true, value: { kind: 'retainerPath', snapshot: v.snapshot, nodeId: v.nodeId } };
    }
    default:
      return { ok: false, error: `unknown query kind ${JSON.stringify(String(v.kind)).slice(0, 40)}` };
  }
}

/** Checks the shape of any message from the webview. It does not check that a file to open was one the extension sent. */
export function checkFromWebview(v: unknown): Checked<FromWebview> {
  if (!isRecord(v)) return { ok: false, error: 'message is not an object' };
  switch (v.type) {
    case 'ready':
      return { ok: true, value: { type: 'ready' } };
    case 'query': {
      if (!int(v.id, 0, Number.MAX_SAFE_INTEGER)) return { ok: false, error: 'query id must be an integer' };
      const q = checkQuery(v.query);
      return q.ok ? { ok: true, value: { type: 'query', id: v.id, query: q.value } } : q;
    }
    case 'cancel':
      if (!int(v.id, 0, Number.MAX_SAFE_INTEGER)) return { ok: false, error: 'cancel id must be an integer' };
      return { ok: true, value: { type: 'cancel', id: v.id } };
    case 'openLocation':
      if (!text(v.file) || v.file.length === 0)
        return { ok: false, error: 'openLocation: file must be a non-empty string' };
      if (!int(v.line, 1, 10_000_000) || !int(v.column, 1, 10_000_000))
        return { ok: false, error: 'openLocation: line and column must be integers from 1' };
      return { ok: true, value: { type: 'openLocation', file: v.file, line: v.line, column: v.column } };
    case 'error':
      return { ok: true, value: { type: 'error', message: String(v.message).slice(0, 2000) } };
    default:
      return { ok: false, error: `unknown message type ${JSON.stringify(String(v.type)).slice(0, 40)}` };
  }
}

/**
 * Source locations the extension has shown, so that `openLocation` is honoured only for them. A location's original
 * file and its generated file (before source maps) both count.
 */
export class LocationAllowList {
  private readonly files = new Set<string>();
  private readonly exact = new Map<string, SourceLocation>();

  add(location: SourceLocation | undefined): void {
    if (!location) return;
    this.files.add(location.file);
    if (location.generated) this.files.add(location.generated.file);
    this.exact.set(`${location.file}:${location.line}:${location.column}`, location);
  }

  /** The location as the extension sent it (with its generated position), when it sent exactly this one. */
  find(file: string, line: number, column: number): SourceLocation | undefined {
    return this.exact.get(`${file}:${line}:${column}`);
  }

  addSteps(steps: readonly RetainerStep[]): void {
    for (const s of steps) this.add(s.location);
  }

  /**
   * Every location a report names: owners and their related places, retainer paths, allocation sites with their
   * callers and creating stacks, class definitions, the callbacks objects are held through, the lines that add a
   * collection's entries, duplicate modules, the sampling mode's allocating stacks, and growing resources (holder,
   * creating line, awaiting function, path).
   */
  addReport(report: LeakReport): void {
    // The sampling mode's growing stacks: every frame, and the allocating line.
    for (const g of report.sampling?.growth ?? []) {
      this.add(g.site.location);
      for (const f of g.stack) this.add(f.location);
    }
    for (const g of report.leaks) {
      this.add(g.owner.location);
      for (const r of g.owner.related ?? []) this.add(r.location);
      this.addSteps(g.retainerPath);
      for (const a of g.allocationSites) {
        this.add(a.location);
        this.add(a.caller?.location);
        for (const f of a.stack ?? []) this.add(f.location);
      }
      this.add(g.classLocation);
      this.add(g.heldVia?.location);
      this.add(g.collection?.addedAt);
    }
    for (const d of report.duplicateModules) this.add(d.location);
    for (const r of report.resources ?? []) {
      this.add(r.owner.location);
      this.add(r.createdAt?.location);
      this.add(r.awaitedBy?.location);
      this.addSteps(r.retainerPath);
    }
  }

  has(file: string): boolean {
    return this.files.has(file);
  }

  get size(): number {
    return this.files.size;
  }
}
