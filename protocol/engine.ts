/**
 * Messages between the engine worker and whoever uses it (CLI, extension host, language server). Types only: this
 * module is imported by the engine, the extension and the server alike, and must stay free of runtime imports.
 * Every answer is data: `{ ok: true, value }` or `{ ok: false, error }`, never a thrown error across the boundary.
 */
import type { EngineProgress } from './progress';
import type { ClassDelta, ClassSummary } from './heap';
import type { LeakReport, RetainerStep, SourceLocation, SamplingProfile } from './report';

export type { EngineProgress };

/** A loaded snapshot as the worker describes it. */
export interface SnapshotHandle {
  file: string;
  nodeCount: number;
  edgeCount: number;
  totalSize: number;
  maxJsObjectId: number;
  timings: Record<string, number>;
}

/** One retainer of an object: who holds it and through which edge. */
export interface RetainerInfo {
  edge: string;
  edgeType: string;
  node: string;
  nodeType: string;
  nodeId: number;
  distance: number;
  retainedSize: number;
  /** Where the retainer's function or constructor is written, when the snapshot tells (original source via maps). */
  location?: SourceLocation;
}

/** One object in a class or under a node (paged lists). */
export interface ObjectInfo {
  nodeId: number;
  name: string;
  className: string;
  shallowSize: number;
  retainedSize: number;
  distance: number;
}

/** A page of a longer list. */
export interface Page<T> {
  total: number;
  offset: number;
  items: T[];
}

/** The snapshots of one worker thread for an `analyze` request. */
export interface AnalyzeThread {
  /** `worker <id> <name>`, as the report's groups will name their thread. */
  name: string;
  /** That worker's snapshots, in order; at least two. */
  files: string[];
}

export type EngineRequest =
  | { kind: 'load'; file: string }
  | { kind: 'summary'; file: string; offset?: number; limit?: number }
  | {
      kind: 'analyze';
      /** The main thread's snapshots, in the order they were taken. */
      files: string[];
      pathMap?: Record<string, string>;
      /**
       * Worker threads of the same process, each with its own snapshots (a worker's heap and object ids are its
       * own, so each is analysed alone); the reports are merged and every leak group names its thread.
       */
      threads?: AnalyzeThread[];
      /** Notes added to the merged report's warnings, such as workers that were not alive at every snapshot. */
      threadNotes?: string[];
    }
  | {
      /**
       * The sampling mode's report (engine/sampling.ts): V8 sampling heap profiles read after a forced GC at each
       * round boundary, oldest first (at least two), sampled one allocation per `interval` bytes. No snapshot.
       */
      kind: 'analyzeSampling';
      profiles: SamplingProfile[];
      interval: number;
      pid?: number;
      /** Source map URLs of the program's scripts, by script URL, to map frames to the original source. */
      sourceMapURLs?: Record<string, string>;
    }
  | { kind: 'compare'; base: string; target: string; offset?: number; limit?: number }
  | { kind: 'retainers'; file: string; nodeId: number; offset?: number; limit?: number }
  | { kind: 'retainerPath'; file: string; nodeId: number }
  | { kind: 'objects'; file: string; className: string; offset?: number; limit?: number }
  | { kind: 'unload'; file: string };

/** The value type answered for each request kind. */
export interface EngineResults {
  load: SnapshotHandle;
  summary: Page<ClassSummary>;
  analyze: LeakReport;
  analyzeSampling: LeakReport;
  compare: Page<ClassDelta>;
  retainers: Page<RetainerInfo>;
  retainerPath: RetainerStep[];
  objects: Page<ObjectInfo>;
  unload: null;
}

export type EngineErrorCode = 'input' | 'parse' | 'cancelled' | 'memory' | 'internal';

export type EngineAnswer<T> = { ok: true; value: T } | { ok: false; error: string; code: EngineErrorCode };

/** Messages the client posts to the worker. */
export type ToWorker =
  { type: 'request'; id: number; request: EngineRequest; cancel: SharedArrayBuffer } | { type: 'shutdown' };

/** Messages the worker posts back. */
export type FromWorker =
  { type: 'answer'; id: number; answer: EngineAnswer<unknown> } | ({ type: 'progress'; id: number } & EngineProgress);
