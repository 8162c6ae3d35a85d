import type { SamplingProfile } from './report';
/**
 * The `leak-lens` debug adapter's own part of DAP: launch and attach arguments, the custom requests for memory work
 * and the custom events the adapter sends. Types only, so that the extension, the adapter and any other DAP client
 * can share them without loading the adapter.
 */
import type { MemorySample, MemoryUsage } from './memory';

/** The debug type the adapter registers. */
export const DEBUG_TYPE = 'leak-lens';

/** Arguments of `launch`: start a Node program under the inspector for memory work (no breakpoints). */
export interface LaunchArguments {
  /** The script to run; relative paths are taken from `cwd`. */
  program: string;
  args?: string[];
  cwd?: string;
  /** Merged over the adapter's environment; `null` removes a variable. */
  env?: Record<string, string | null>;
  /** Defaults to `node` from PATH. */
  runtimeExecutable?: string;
  /** Runtime flags placed before the script, e.g. `--max-old-space-size=512`. */
  runtimeArgs?: string[];
  /** Start allocation tracking as soon as the program runs, so snapshots say where objects were allocated. */
  trackAllocations?: boolean;
  /** Stop the launched program when the session ends. Defaults to true. */
  stopOnDisconnect?: boolean;
  /** Memory sampling interval for `leakLens/memorySample` events; 0 turns sampling off. Defaults to 0. */
  samplingIntervalMs?: number;
}

/**
 * Arguments of `attach`: exactly one of `websocketUrl`, `port` (with `address`) or `processId` says where the
 * program is. A process id opens the inspector with SIGUSR1 (Linux and macOS) on 127.0.0.1:9229.
 */
export interface AttachArguments {
  websocketUrl?: string;
  port?: number;
  /** Defaults to 127.0.0.1. */
  address?: string;
  /** A number, or a string of digits (VS Code's `${command:PickProcess}` gives a string). */
  processId?: number | string;
  trackAllocations?: boolean;
  samplingIntervalMs?: number;
}

/** A server socket the program listens on: `url` (`http://127.0.0.1:3000`) for an HTTP(S) server. */
export interface ListeningAddressBody {
  protocol: 'http' | 'https' | 'tls' | 'tcp';
  host: string;
  port: number;
  url?: string;
}

/** The custom requests, by command name, with their arguments and response bodies. */
export interface CustomRequests {
  /** What is known about the target process. */
  'leakLens/targetInfo': {
    args: Record<string, never>;
    body: {
      pid?: number;
      nodeVersion?: string;
      inspectorUrl: string;
      trackingAllocations: boolean;
      programFinished: boolean;
      launched: boolean;
    };
  };
  /**
   * Writes a heap snapshot to `file` (and its sidecar `<file>.meta.json`) after a forced GC. The file appears only
   * when complete. Cancel it with DAP's `cancel` request naming this request's `seq`.
   */
  'leakLens/takeSnapshot': {
    /**
     * `workers: true` also snapshots every worker thread alive (each has a heap of its own), beside `file` as
     * `<file without .heapsnapshot>.worker<id>.heapsnapshot`, each with a sidecar whose `thread` names the worker.
     */
    args: { file: string; label?: string; gc?: boolean; workers?: boolean; force?: boolean };
    body: {
      file: string;
      metaFile: string;
      fileSize: number;
      durationMs: number;
      sessionId: string;
      sequence: number;
      pid?: number;
      memoryUsage?: MemoryUsage;
      allocationTracking: boolean;
      /** With `workers: true`: one entry per worker snapshotted (a worker that exited meanwhile is left out). */
      workers?: WorkerSnapshotBody[];
    };
  };
  /** Cancels the `leakLens/takeSnapshot` writing `file` (for clients that cannot send DAP `cancel`); nothing is left on disk. */
  'leakLens/cancelSnapshot': { args: { file: string }; body: { cancelled: boolean } };
  'leakLens/collectGarbage': { args: Record<string, never>; body: { before: MemoryUsage; after: MemoryUsage } };
  'leakLens/memoryUsage': { args: Record<string, never>; body: MemoryUsage };
  /** The servers the program listens on (HTTP servers first), asked inside the program through the inspector. */
  'leakLens/listeningAddresses': { args: Record<string, never>; body: { addresses: ListeningAddressBody[] } };
  /** Sends a `leakLens/memorySample` event every `intervalMs` until `leakLens/stopSampling`. */
  'leakLens/startSampling': { args: { intervalMs: number }; body: Record<string, never> };
  'leakLens/stopSampling': { args: Record<string, never>; body: Record<string, never> };
  /** Records allocation stacks from now on, in the main thread and in every worker thread (those started later too). */
  'leakLens/startAllocationTracking': { args: Record<string, never>; body: Record<string, never> };
  'leakLens/stopAllocationTracking': { args: Record<string, never>; body: Record<string, never> };
  /**
   * Starts V8's sampling heap profiler in the main thread (the sampling mode of Find Leaks: no snapshot): about one
   * allocation per `interval` bytes is recorded with its stack for as long as the object lives. Keeps no object alive.
   */
  'leakLens/startAllocationSampling': { args: { interval: number }; body: Record<string, never> };
  /**
   * Forces a full GC (twice), then answers the samples still alive: read at each round boundary. With
   * `sourceMaps: true` the scripts are learned first and their source map URLs come along (ask on the last read).
   */
  'leakLens/readAllocationSampling': { args: { sourceMaps?: boolean }; body: AllocationSamplingBody };
  'leakLens/stopAllocationSampling': { args: Record<string, never>; body: Record<string, never> };
}

/** The live allocation samples at one round boundary (`leakLens/readAllocationSampling`). */
export interface AllocationSamplingBody {
  profile: SamplingProfile;
  /** Source map URLs by script URL (with `sourceMaps: true`, else empty). */
  sourceMapURLs: Record<string, string>;
}

export type CustomRequestName = keyof CustomRequests;

/** A worker thread's snapshot taken with `leakLens/takeSnapshot` (`workers: true`). */
export interface WorkerSnapshotBody {
  /** `worker <id> <name>`. */
  name: string;
  thread: { id: string; title: string; url: string };
  file: string;
  metaFile: string;
  fileSize: number;
  /** Snapshots of one worker with the same sessionId have comparable object ids. */
  sessionId: string;
  sequence: number;
}

/** The custom events, by event name, with their bodies. */
export interface CustomEvents {
  'leakLens/memorySample': MemorySample;
  /** V8's progress walking the heap during `leakLens/takeSnapshot`. */
  'leakLens/snapshotProgress': { file: string; done: number; total: number };
  /** The program's own code finished; Node only waits for the debugger to disconnect. */
  'leakLens/programFinished': Record<string, never>;
}

export type CustomEventName = keyof CustomEvents;
