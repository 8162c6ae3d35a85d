/**
 * The capture sidecar, `<snapshot file>.meta.json`: what the capture library writes beside every snapshot
 * (src/capture/sidecarFile.ts writes it) and what the engine reads back as untrusted input (engine/sidecar.ts checks
 * it field by field). One type for both sides and for the extension's snapshot list. No imports but other contracts.
 */
import type { MemoryUsage } from './memory';

/** The sidecar's file beside a snapshot. */
export function sidecarPath(snapshotFile: string): string {
  return `${snapshotFile}.meta.json`;
}

/** A script the target has parsed, as `Debugger.scriptParsed` reported it. */
export interface ScriptRecord {
  /** The CDP script id; heap snapshot `locations` and `trace_function_infos` refer to scripts by this id. */
  scriptId: string;
  /** An absolute path for CommonJS, a `file://` URL for ESM, `node:internal/...` for Node's own code, or empty. */
  url: string;
  /** The `//# sourceMappingURL` of the script, when it has one. */
  sourceMapURL?: string;
  /** V8's hash of the script source; it tells apart two versions of a script that have the same URL. */
  hash?: string;
}

/** A worker thread, as the inspector's NodeWorker domain describes it. */
export interface ThreadInfo {
  /** The worker's id (its `threadId`), as a string. */
  id: string;
  /** Node's title for it, such as `[worker 1] jobs` (the name given to `new Worker`). */
  title: string;
  /** The worker's script, as a file URL. */
  url: string;
}

/** The estimate and the room for it, as recorded in the snapshot's sidecar. */
export interface CaptureCost {
  /** Estimated extra bytes the target needs while the snapshot is taken. */
  estimateBytes: number;
  /** How the object count was obtained: from the previous snapshot's object count, or the worst-case density. */
  objectsFrom: 'previous snapshot' | 'heap size';
  /** The room the target had: the smaller of the container's headroom and the machine's available memory. */
  roomBytes?: number;
  roomFrom?: string;
  /** The target's peak RSS over its life after the capture, when the capture raised it (process.resourceUsage). */
  peakRssBytes?: number;
}

/**
 * `cdp` streams `HeapProfiler.addHeapSnapshotChunk` events to a file this process writes. `inprocess` makes the
 * target call `v8.writeHeapSnapshot(path)` itself: faster, but the path is in the target's file system, so it works
 * only for a target on this machine, offers no progress, and cannot stop writing early.
 */
export type SnapshotMethod = 'cdp' | 'inprocess';

/**
 * The sidecar written beside every snapshot as `<snapshot file>.meta.json`. It carries what the snapshot file
 * itself cannot: which process and session it came from, and the scriptId -> URL map its source positions need.
 */
export interface SnapshotSidecar {
  /** The version of this sidecar format; it changes only when a field changes meaning. */
  formatVersion: 1;
  /** The snapshot file's name (no directory), so a moved pair can be checked to belong together. */
  snapshotFile: string;
  /** The snapshot file's size in bytes. */
  fileSize: number;
  /**
   * A random id per {@link CaptureSession}. Heap object ids are comparable only between snapshots with the same
   * sessionId: V8 keeps ids in one map per isolate and clears that map whenever any inspector session detaches or
   * sends `HeapProfiler.disable`.
   */
  sessionId: string;
  /** 1 for the session's first snapshot, then 2, 3, ...: the order in which the snapshots were taken. */
  sequence: number;
  /** The inspector's target id (the last segment of its WebSocket URL). */
  targetId?: string;
  /** The WebSocket URL the session was connected to. */
  inspectorUrl: string;
  pid?: number;
  /** `process.version` of the target. */
  nodeVersion?: string;
  /** `process.platform` of the target. */
  platform?: string;
  /** `process.arch` of the target. */
  arch?: string;
  /** When the capture started (after the forced GC), as an ISO 8601 time. */
  time: string;
  /** How long writing the snapshot took, in milliseconds, GC excluded. */
  durationMs: number;
  /** A caller-chosen name such as `baseline` or `after 100 requests`. */
  label?: string;
  /** `process.memoryUsage()` of the target just before the snapshot, after the forced GC. */
  memoryUsage?: MemoryUsage;
  /**
   * The largest JS object id (odd) in the snapshot. Capture leaves it out because it would cost a pass over the
   * nodes; the engine computes it from the file when absent.
   */
  maxJsObjectId?: number;
  /** True when allocation tracking was on, so `trace_function_infos` and `trace_tree` are filled in. */
  allocationTracking: boolean;
  /** What the capture was estimated to need, the room it had, and the target's peak RSS after it (budget.ts). */
  capture?: CaptureCost;
  /**
   * True when the program had already finished and Node was only waiting for the debugger to disconnect (see
   * {@link CaptureSession.hasProgramFinished}).
   */
  programFinished?: boolean;
  /**
   * Whether the forced GC ran first. It is skipped when asked (`gc: false`) and when the program has finished or is
   * paused in a debugger, since V8 runs it as a task then never answers. V8 collects garbage while it builds any
   * snapshot anyway; the forced passes add only what finalizers and weak callbacks free.
   */
  forcedGc: boolean;
  /** How the file was written: streamed over CDP, or by `v8.writeHeapSnapshot` inside the target. */
  method: SnapshotMethod;
  /**
   * True when a debugger shared the inspector session and kept the Debugger domain on: V8 then links promises to
   * what awaits them (async stack traces), so objects the program itself dropped can still be retained.
   */
  debuggerAttached?: boolean;
  /** Every script the target had parsed when the snapshot was taken. */
  scripts: ScriptRecord[];
  /** Set for a snapshot of a worker thread (`worker_threads`); absent for the main thread. */
  thread?: ThreadInfo;
  /** Written later by the VS Code extension, not by capture: the Find Leaks run the snapshot belongs to. */
  run?: string;
}
