/**
 * A Node process Leak Lens can work on, behind one interface whatever the debug session is: a child session of
 * VS Code's JavaScript debugger (CDP through js-debug's proxy, in this process) or a `leak-lens` session (custom DAP
 * requests to Leak Lens's own adapter process).
 */
import type * as vscode from 'vscode';
import type { AllocationSamplingBody, ListeningAddressBody } from '../../../protocol/adapter';
import type { MemorySample, MemoryUsage } from '../../../protocol/memory';

/** A server socket the program listens on (found through the inspector). */
export type ListeningAddress = ListeningAddressBody;

/** The live allocation samples at one round boundary, with the scripts' source map URLs when asked for. */
export type AllocationSamples = AllocationSamplingBody;

/** What a finished snapshot left on disk. */
export interface TakenSnapshot {
  file: string;
  fileSize: number;
  durationMs: number;
  pid?: number;
  memoryUsage?: MemoryUsage;
  /** Notes for the user, such as "no GC: the program was paused at a breakpoint". */
  notes: string[];
  /** With `workers: true`: the worker threads snapshotted beside it (a worker that exited meanwhile is left out). */
  workers?: TakenWorkerSnapshot[];
}

/** The snapshot of one worker thread, taken beside a snapshot of the main thread. */
export interface TakenWorkerSnapshot {
  /** `worker <id> <name>`, the thread name leak groups carry. */
  name: string;
  /** Tells one worker from another across snapshots: the same key means comparable object ids. */
  key: string;
  file: string;
  fileSize: number;
}

export interface SnapshotRequest {
  label?: string;
  /**
   * Also snapshot every worker thread alive (each has a heap of its own), beside `file` as
   * `<file without .heapsnapshot>.worker<id>.heapsnapshot`, each with a sidecar whose `thread` names the worker.
   */
  workers?: boolean;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Take it even when the memory check says it would not fit in the program's memory (the user said so). */
  force?: boolean;
}

export type TargetKind = 'js-debug' | 'leak-lens';

export interface MemoryTarget extends vscode.Disposable {
  readonly kind: TargetKind;
  /** The debug session that runs the process (for js-debug: the child session of the process). */
  readonly session: vscode.DebugSession;
  /** A name for pickers and messages: the session name, with the pid when known. */
  readonly label: string;
  readonly pid: number | undefined;
  readonly trackingAllocations: boolean;
  /** Recent memory samples, oldest first (a bounded ring). */
  readonly samples: readonly MemorySample[];
  readonly onDidSample: vscode.Event<MemorySample>;
  /** Fires when tracking allocations starts or stops. */
  readonly onDidChangeState: vscode.Event<void>;
  /** Fires once when the process or its session is gone. */
  readonly onDidEnd: vscode.Event<void>;
  readonly ended: boolean;
  /** The program's own code has finished; Node only keeps it alive for the debugger (snapshots still work, no GC). */
  readonly programFinished: boolean;

  /** Connects if not connected yet; rejects with a UserError when the process cannot be reached. */
  ready(): Promise<void>;
  takeSnapshot(file: string, request: SnapshotRequest): Promise<TakenSnapshot>;
  collectGarbage(): Promise<{ before: MemoryUsage; after: MemoryUsage }>;
  memoryUsage(): Promise<MemoryUsage>;
  /** The servers the program listens on, HTTP servers first; empty when it cannot tell (or listens on nothing). */
  listeningAddresses(): Promise<ListeningAddress[]>;
  startAllocationTracking(): Promise<void>;
  stopAllocationTracking(): Promise<void>;
  /**
   * Starts V8's sampling heap profiler in the main thread (Find Leaks' sampling mode, no snapshot): about one
   * allocation per `intervalBytes` is kept with its stack while the object lives.
   */
  startAllocationSampling(intervalBytes: number): Promise<void>;
  /**
   * Forces a full GC, then reads the samples still alive. `sourceMaps`: also learn the scripts' source map URLs
   * (asked on the last read only: it turns the Debugger domain on for a moment in a session Leak Lens owns).
   */
  readAllocationSampling(sourceMaps: boolean): Promise<AllocationSamples>;
  stopAllocationSampling(): Promise<void>;
  /** Starts (or restarts at a new interval) memory sampling into `samples`. */
  startSampling(intervalMs: number): void;
  stopSampling(): void;
}

/**
 * js-debug shows each worker thread of a process as a child session of the process's session, named by Node's
 * title for the worker (`[worker 1] jobs`); a process it forks is named `<script> [<pid>]` instead.
 */
const WORKER_TITLE = /^\[worker (\d+)\]\s*(.*)$/;

/** The thread id and name of a worker from its js-debug session's name (`[worker 1] jobs`), if it is one. */
export function workerTitle(sessionName: string): { id: string; name: string } | undefined {
  const m = WORKER_TITLE.exec(sessionName);
  return m ? { id: m[1], name: m[2].trim() } : undefined;
}

/** How many samples a target keeps: an hour at the default 2 s interval. */
export const SAMPLE_RING = 1800;

/** Appends to a bounded ring. */
export function pushSample(ring: MemorySample[], sample: MemorySample): void {
  ring.push(sample);
  if (ring.length > SAMPLE_RING) ring.splice(0, ring.length - SAMPLE_RING);
}
