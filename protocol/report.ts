/**
 * The leak report: plain data (JSON) that the CLI prints, the language server marks in the editor and the webview
 * shows (schema: schema/leak-report.schema.json). The engine builds it (engine/report.ts); every view reads it from
 * here. It imports only other contracts: protocol/ is the ground floor, included by the engine, the editor hosts and
 * the webview.
 */

import type { MemoryUsage } from './memory';

/** A location in a file on disk: absolute path, 1-based line and column. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
  /** Where the runtime ran it, when a source map moved the location to the original source. */
  generated?: { file: string; line: number; column: number };
}

/** What holds a leak, in the words of the code. */
export type OwnerKind = 'variable' | 'static-property' | 'property' | 'global' | 'listeners' | 'timer' | 'internal';

/** How a group leaks: separate objects, a chain of objects each holding the previous one, or a collection that grows. */
export type LeakKind = 'objects' | 'chain' | 'collection';

/** Milliseconds per analysis stage. */
export type StageTimings = Record<string, number>;

/** V8's sampling heap profile (`HeapProfiler.getSamplingProfile`), as the sampling mode reads it. */
export interface SamplingCallFrame {
  functionName: string;
  scriptId: string;
  url: string;
  /** 0-based, of the function's start (V8 attributes samples to functions, not lines). */
  lineNumber: number;
  columnNumber: number;
}

export interface SamplingProfileNode {
  callFrame: SamplingCallFrame;
  selfSize: number;
  id: number;
  children: SamplingProfileNode[];
}

export interface SamplingProfile {
  head: SamplingProfileNode;
  samples: { size: number; nodeId: number; ordinal: number }[];
}

export interface SamplingFrame {
  function: string;
  location?: SourceLocation;
  /** A frame of a file in node_modules. */
  library?: true;
}

export interface SamplingGrowth {
  /** The allocating stack, innermost first (Node's own frames left out), at most 8 frames. */
  stack: SamplingFrame[];
  /**
   * The innermost frame in the program's own files (else the innermost frame): the function to look at. When that
   * frame is a constructor (a capitalized function its caller calls), the caller's line that constructs it.
   */
  site: SamplingFrame;
  /** The constructor the site calls, when the allocation happened in one: the class, as far as samples can tell. */
  constructs?: string;
  /** Live samples of this stack at each boundary. */
  liveSamples: number[];
  /** Samples alive at the end, by the round that allocated them. */
  survivorsPerRound: number[];
  /** Estimated bytes alive at the end that the rounds allocated (samples x interval, or the sample's size if larger). */
  estimatedBytes: number;
}

export interface SamplingFindings {
  interval: number;
  rounds: number;
  growth: SamplingGrowth[];
}

export const REPORT_VERSION = 1;

/** One step of a retainer path, from a GC root towards the leaked object. */
export interface RetainerStep {
  /** Edge name into this node: property or variable name, or `[index]`. Empty for the first step. */
  edge: string;
  edgeType: string;
  /** Class (or function) name of the node. */
  node: string;
  nodeType: string;
  nodeId: number;
  /** Where the node's constructor or function is, when known. */
  location?: SourceLocation;
  /** True for the step that is the owner's reference. */
  owner?: boolean;
}

export interface LeakOwner {
  name: string;
  kind: OwnerKind;
  /** The line a person edits: the declaration of the holding variable or property, or the call that adds listeners. */
  location?: SourceLocation;
  /** Other places that explain the owner, such as the emitter's declaration for listeners. */
  related?: { label: string; location: SourceLocation }[];
}

export interface AllocationSite {
  function: string;
  /** The expression that makes the objects (the library's own line for objects made inside node_modules). */
  location?: SourceLocation;
  /** Objects of the group allocated here (0 when found in the source and more than one place could make them). */
  count: number;
  /**
   * From allocation stacks, when they put only `count` of the group's objects here: the group's size. V8's tracker
   * keeps no stack, or a stale one that names no place making the class, for some objects (it can lose a whole round's).
   */
  of?: number;
  /** With `of`: how many of the group's objects have no allocation stack at all. */
  withoutStack?: number;
  /**
   * For objects made inside a library: the application's line that called into it. From the allocation stack, or
   * (`fromSource`) from the application's source: its call of the library function that makes them (or of one that
   * calls that function), `candidates` such calls in all when there are several.
   */
  caller?: { function: string; location?: SourceLocation; fromSource?: true; candidates?: number };
  /** For objects made inside a library when no caller could be named: why, and what to do. */
  callerNote?: string;
  /** The creating stack from the allocation out to the application's frame (marked `app`), innermost first. */
  stack?: { function: string; location?: SourceLocation; app?: true }[];
  /** True when found in the source code rather than in allocation stacks recorded by V8. */
  fromSource?: true;
}

/** One leak group. */
export interface LeakGroup {
  id: string;
  /**
   * objects: separate leaked objects; chain: objects each holding the previous one, only the newest held by the
   * owner; collection: a collection that grows (its count and growth are entries, its class the collection's).
   */
  kind?: LeakKind;
  className: string;
  /** Objects (or, for a collection, entries) alive in the last snapshot. */
  count: number;
  growthPerRound: number;
  /** Objects of this group allocated in each round that are still alive. */
  newPerRound: number[];
  /** Object count of the class in each snapshot. */
  countSeries: number[];
  retainedSize: number;
  shallowSize: number;
  /** Bytes outside the JS heap (ArrayBuffer backing stores) among what this group retains. */
  nativeSize: number;
  owner: LeakOwner;
  retainerPath: RetainerStep[];
  /** What these objects keep alive, largest first. */
  retains: { className: string; count: number; size: number }[];
  /** Other classes leaking through the same owner. */
  alsoHeld: { className: string; count: number; growthPerRound: number; retainedSize: number }[];
  allocationSites: AllocationSite[];
  /** Why `allocationSites` is empty, when it is. */
  allocationNote?: string;
  /** Where the leaked class is defined, when known. */
  classLocation?: SourceLocation;
  /** Object ids (in the last snapshot) of a few members, the first being the one the path leads to. */
  sampleIds: number[];
  /** For objects kept by callbacks (an emitter's listeners, timers): the callback that holds each of them. */
  heldVia?: { className: string; location?: SourceLocation };
  /** For chains: the edges from one element to the previous one, such as ["prev"] or ["someMethod", "context", "originalThing"]. */
  chain?: { link: string[] };
  /** The collection that grows: the group itself (kind collection) or the container of the group's objects. */
  collection?: { className: string; entries: number[]; bytes: number[]; addedAt?: SourceLocation };
  /** The thread whose heap holds the group: `main`, or `worker <id> <name>` (set by `leak-lens run`). */
  thread?: string;
}

/** The kinds of resources counted (see engine/resources.ts). */
export type ResourceKind =
  'pending-promise' | 'socket' | 'server' | 'timer' | 'file-handle' | 'child-process' | 'handle' | 'vm-context';

/**
 * A resource that grows without being a growing class of objects: promises that never settle, open handles
 * (sockets, servers, timers, file handles, child processes) and native (vm) contexts. One group per kind and holder.
 */
export interface ResourceGroup {
  id: string;
  kind: ResourceKind;
  /** What the program sees of it: `Promise`, `Socket`, `Server`, `Timeout`, `FileHandle`, `ChildProcess`, `vm context`. */
  name: string;
  /** Node's native handle class (`TCPSocketWrap`), for handles. */
  native?: string;
  /** Resources of this group made after the baseline and alive in the last snapshot. */
  count: number;
  growthPerRound: number;
  /** Resources of this group made in each round that are still there. */
  newPerRound: number[];
  /** Resources of the kind in each snapshot (all of them, the baseline's included). */
  countSeries: number[];
  /** What holds them. */
  owner: LeakOwner;
  retainerPath: RetainerStep[];
  /** The line that creates them (from allocation stacks when tracked, else from what they hold or what waits on them). */
  createdAt?: AllocationSite;
  /** Why `createdAt` is missing or only the enclosing function, when it is. */
  createdNote?: string;
  /** For promises: the function that waits on them (an `await` in it, or a `.then` callback). */
  awaitedBy?: { function: string; location?: SourceLocation };
  /** Object ids (in the last snapshot) of a few of them, the first being the one the path leads to. */
  sampleIds: number[];
  /** The thread whose heap holds them (set by `leak-lens run`). */
  thread?: string;
}

export interface SnapshotInfo {
  file: string;
  label?: string;
  time?: string;
  nodeCount: number;
  edgeCount: number;
  totalSize: number;
  maxJsObjectId: number;
  memoryUsage?: Required<MemoryUsage>;
}

export interface LeakReport {
  version: number;
  tool: 'leak-lens';
  verdict: 'leak' | 'clean';
  createdAt: string;
  pid?: number;
  rounds: number;
  snapshots: SnapshotInfo[];
  leaks: LeakGroup[];
  duplicateModules: { file: string; instances: number[]; location?: SourceLocation }[];
  /** Pending promises, open handles and contexts that grow every round (absent in reports of older versions). */
  resources?: ResourceGroup[];
  classGrowth: { className: string; counts: number[]; sizes: number[] }[];
  warnings: string[];
  /** True when the capture sidecars show that every snapshot comes from one process and one inspector session. */
  identityVerified?: boolean;
  timings: StageTimings;
  /** Every thread analysed, main first, with its own snapshots (set by `leak-lens run`). */
  threads?: { name: string; snapshots: SnapshotInfo[] }[];
  /** The sampling mode's findings (no snapshots: allocation stacks whose live samples grow; see sampling.ts). */
  sampling?: SamplingFindings;
}
