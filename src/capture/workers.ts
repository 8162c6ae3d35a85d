// Worker threads. Each `worker_threads` worker is an isolate of its own with a heap of its own, which a snapshot of
// the main thread does not contain. The inspector reaches workers through the NodeWorker domain of the main session:
// it attaches a session per worker and relays CDP messages to it (`NodeWorker.sendMessageToWorker`) and from it
// (`NodeWorker.receivedMessageFromWorker`). Here that relay becomes a channel per worker, and each channel a capture
// of that worker's heap: HeapProfiler enabled once and never disabled, so object ids stay comparable per worker as
// long as the main session lives.
import { randomUUID } from 'crypto';
import { promises as fsp, type WriteStream } from 'fs';
import * as path from 'path';
import { ConnectionClosedError, PendingCalls, type CdpClient, type Disposable } from './cdp';
import type { MemoryUsage } from '../../protocol/memory';
import { guardAllocationTracking } from './trackingGuard';
import { SnapshotJob, type SnapshotResult } from './snapshotJob';
import type { ScriptRecord, SnapshotSidecar, ThreadInfo } from '../../protocol/sidecar';

/** A worker as `NodeWorker.attachedToWorker` describes it. */
interface WorkerInfo {
  workerId: string;
  type: string;
  title: string;
  url: string;
}

/** How long a garbage collection in a worker may take: a worker whose thread is blocked never runs it. */
const gcTimeoutMs = 60_000;

/** The CDP of one worker, carried inside the main session's NodeWorker messages. */
class WorkerChannel {
  private readonly pending = new PendingCalls();
  private readonly handlers = new Map<string, (params: unknown) => void>();
  private closeReason: string | undefined;

  constructor(
    readonly parent: CdpClient,
    readonly sessionId: string,
  ) {}

  get isClosed(): boolean {
    return this.closeReason !== undefined;
  }

  /** Sends one command to the worker; rejects if the worker goes away first, or after `timeoutMs` if given. */
  send(method: string, params: object = {}, timeoutMs = 0): Promise<unknown> {
    if (this.closeReason !== undefined) {
      return Promise.reject(new ConnectionClosedError(`cannot send ${method} to the worker: ${this.closeReason}`));
    }
    return this.pending.start(method, timeoutMs, (id) =>
      this.parent.sendRaw(
        'NodeWorker.sendMessageToWorker',
        { sessionId: this.sessionId, message: JSON.stringify({ id, method, params }) },
        { timeoutMs: 0 },
      ),
    );
  }

  /** One handler per event is enough for capture; setting another replaces it. */
  on(event: string, handler: ((params: unknown) => void) | undefined): void {
    if (handler) this.handlers.set(event, handler);
    else this.handlers.delete(event);
  }

  /** A message from the worker (the text of `NodeWorker.receivedMessageFromWorker`). */
  deliver(text: string): void {
    let message: {
      id?: number;
      method?: string;
      params?: unknown;
      result?: unknown;
      error?: { code: number; message: string };
    };
    try {
      message = JSON.parse(text) as typeof message;
    } catch {
      return;
    }
    if (typeof message.id === 'number') {
      this.pending.reply({ id: message.id, result: message.result, error: message.error });
    } else if (typeof message.method === 'string') {
      this.handlers.get(message.method)?.(message.params);
    }
  }

  close(reason: string): void {
    if (this.closeReason !== undefined) return;
    this.closeReason = reason;
    this.pending.rejectAll((method) => new ConnectionClosedError(`${reason} while waiting for ${method}`));
    this.handlers.clear();
  }
}

/** Options for {@link WorkerCapture.takeSnapshot}. */
export interface WorkerSnapshotOptions {
  /** Force a full GC in the worker first. Defaults to true. */
  gc?: boolean;
  label?: string;
}

/**
 * The heap of one worker thread: snapshots streamed to disk with a sidecar, like a CaptureSession's, whose
 * `thread` field names the worker. Its `id` plays the sidecar's sessionId: ids are comparable between its snapshots.
 */
export class WorkerCapture {
  readonly id = randomUUID();
  readonly thread: ThreadInfo;
  private sequence = 0;
  private tracking = false;
  private queue: Promise<void> = Promise.resolve();
  private readonly scriptsById = new Map<string, ScriptRecord>();

  private constructor(
    private readonly channel: WorkerChannel,
    info: WorkerInfo,
    private readonly pid: number | undefined,
  ) {
    // The inspector numbers workers in the order they attach to it, which races when several start together; Node's
    // title, `[worker <threadId>] <name>`, carries the thread id the program itself sees (worker.threadId).
    const threadId = /^\[worker (\d+)\]/.exec(info.title)?.[1];
    this.thread = { id: threadId ?? info.workerId, title: info.title, url: info.url };
    channel.on('Debugger.scriptParsed', (params) => {
      const script = params as { scriptId: string; url: string; hash?: string; sourceMapURL?: string };
      const record: ScriptRecord = { scriptId: script.scriptId, url: script.url, hash: script.hash };
      if (script.sourceMapURL) record.sourceMapURL = script.sourceMapURL;
      this.scriptsById.set(script.scriptId, record);
    });
  }

  static async open(
    channel: WorkerChannel,
    info: WorkerInfo,
    pid: number | undefined,
    trackAllocations: boolean,
  ): Promise<WorkerCapture> {
    const capture = new WorkerCapture(channel, info, pid);
    await channel.send('HeapProfiler.enable');
    if (trackAllocations) {
      await guardAllocationTracking((method, params) => channel.send(method, params));
      await channel.send('HeapProfiler.startTrackingHeapObjects', { trackAllocations: true });
      capture.tracking = true;
    }
    return capture;
  }

  /** True while the worker records allocation stacks. */
  get isTrackingAllocations(): boolean {
    return this.tracking;
  }

  /**
   * Starts or stops recording allocation stacks in the worker (after the snapshot in progress, if any). Stopping
   * makes V8 emit a whole snapshot, which nobody listens to here and so is dropped.
   */
  setAllocationTracking(on: boolean): Promise<void> {
    const run = this.queue.then(async () => {
      if (on === this.tracking || this.isClosed) return;
      if (on) {
        await guardAllocationTracking((method, params) => this.channel.send(method, params));
        await this.channel.send('HeapProfiler.startTrackingHeapObjects', { trackAllocations: true });
      } else await this.channel.send('HeapProfiler.stopTrackingHeapObjects', { reportProgress: false });
      this.tracking = on;
    });
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** True once the worker has exited (or the main session closed). */
  get isClosed(): boolean {
    return this.channel.isClosed;
  }

  /** A name for people: `worker <id> <name>`, the name given to `new Worker` (Node's title) or else its script URL. */
  get name(): string {
    const title = this.thread.title.replace(/^\[worker \d+\]\s*/, '');
    return `worker ${this.thread.id} ${title || this.thread.url}`;
  }

  /**
   * Writes a snapshot of the worker's heap to `filePath` (through a hidden `.partial` file renamed at the end) and
   * its sidecar to `<filePath>.meta.json`. If the worker exits meanwhile, nothing is left and the promise rejects.
   */
  takeSnapshot(filePath: string, options: WorkerSnapshotOptions = {}): Promise<SnapshotResult> {
    const run = this.queue.then(() => this.snapshot(new SnapshotJob(path.resolve(filePath)), options));
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async snapshot(job: SnapshotJob, options: WorkerSnapshotOptions): Promise<SnapshotResult> {
    const channel = this.channel;
    const parent = channel.parent;
    try {
      const stream = await job.openStream();
      // The worker's console storage holds what it logged, as the main thread's does (see CaptureSession).
      await channel.send('Runtime.discardConsoleEntries');
      const forcedGc = options.gc ?? true;
      if (forcedGc) {
        await channel.send('HeapProfiler.collectGarbage', {}, gcTimeoutMs);
        await channel.send('HeapProfiler.collectGarbage', {}, gcTimeoutMs);
      }
      const memoryUsage = await this.memoryUsage().catch(() => undefined);
      // As in the main thread, the Debugger domain is on only for one batch of messages: while it is on, V8 links
      // promises to their awaiters, and those links would retain objects the worker itself dropped.
      await Promise.all([
        channel.send('Debugger.enable'),
        channel.send('Debugger.setSkipAllPauses', { skip: true }),
        channel.send('Debugger.disable'),
      ]);
      const time = new Date().toISOString();
      const started = Date.now();
      await this.stream(stream, parent);
      await job.closeStream();
      const fileSize = (await fsp.stat(job.tempPath)).size;
      this.sequence++;
      const meta: SnapshotSidecar = {
        formatVersion: 1,
        snapshotFile: path.basename(job.filePath),
        fileSize,
        sessionId: this.id,
        sequence: this.sequence,
        inspectorUrl: parent.url,
        pid: this.pid,
        time,
        durationMs: Date.now() - started,
        label: options.label,
        memoryUsage,
        allocationTracking: this.tracking,
        forcedGc,
        method: 'cdp',
        scripts: [...this.scriptsById.values()],
        thread: this.thread,
      };
      await job.commit(meta);
      return { filePath: job.filePath, metaPath: job.metaPath, meta };
    } catch (error) {
      await job.discard();
      if (error instanceof ConnectionClosedError) {
        throw new ConnectionClosedError(`${this.name} went away while its snapshot was taken (${error.message})`);
      }
      throw error;
    }
  }

  private async stream(stream: WriteStream, parent: CdpClient): Promise<void> {
    stream.once('close', () => parent.resume());
    this.channel.on('HeapProfiler.addHeapSnapshotChunk', (params) => {
      if (stream.destroyed) return;
      if (!stream.write((params as { chunk: string }).chunk)) {
        // Back-pressure on the main session's socket, which carries the worker's chunks.
        parent.pause();
        stream.once('drain', () => parent.resume());
      }
    });
    try {
      await this.channel.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    } finally {
      this.channel.on('HeapProfiler.addHeapSnapshotChunk', undefined);
      parent.resume();
    }
  }

  private async memoryUsage(): Promise<MemoryUsage | undefined> {
    const reply = (await this.channel.send('Runtime.evaluate', {
      expression: 'process.memoryUsage()',
      returnByValue: true,
      silent: true,
    })) as {
      result?: { value?: MemoryUsage };
      exceptionDetails?: unknown;
    };
    const value = reply.result?.value;
    return !reply.exceptionDetails && typeof value?.heapUsed === 'number' ? value : undefined;
  }
}

/**
 * Follows the worker threads of the process behind a main session: every worker alive now and every one started
 * later is attached (without waiting for a debugger on start) and gets a {@link WorkerCapture}; a worker that
 * exits is dropped. Workers of workers are not followed.
 */
export class WorkerTracker implements Disposable {
  private readonly channels = new Map<string, WorkerChannel>();
  private readonly captures = new Map<string, Promise<WorkerCapture | undefined>>();
  private readonly subscriptions: Disposable[] = [];

  private constructor(
    client: CdpClient,
    pid: number | undefined,
    private trackAllocations: boolean,
  ) {
    this.subscriptions.push(
      client.on('NodeWorker.attachedToWorker', ({ sessionId, workerInfo }) => {
        const channel = new WorkerChannel(client, sessionId);
        this.channels.set(sessionId, channel);
        // A worker that exits while HeapProfiler is being enabled is simply not there to snapshot.
        this.captures.set(
          sessionId,
          WorkerCapture.open(channel, workerInfo, pid, this.trackAllocations).catch(() => undefined),
        );
      }),
      client.on('NodeWorker.receivedMessageFromWorker', ({ sessionId, message }) =>
        this.channels.get(sessionId)?.deliver(message),
      ),
      client.on('NodeWorker.detachedFromWorker', ({ sessionId }) => {
        this.channels.get(sessionId)?.close('the worker exited');
        this.channels.delete(sessionId);
        this.captures.delete(sessionId);
      }),
      client.onClose(() => {
        for (const channel of this.channels.values()) channel.close('the inspector connection closed');
        this.channels.clear();
        this.captures.clear();
      }),
    );
  }

  /**
   * Starts following the workers of the process on `client` (the main session's connection); with
   * `trackAllocations`, each worker records allocation stacks from the moment it is attached.
   */
  static async start(
    client: CdpClient,
    pid?: number,
    options: { trackAllocations?: boolean } = {},
  ): Promise<WorkerTracker> {
    const tracker = new WorkerTracker(client, pid, options.trackAllocations === true);
    await client.send('NodeWorker.enable', { waitForDebuggerOnStart: false });
    return tracker;
  }

  /** The workers alive now, each ready for snapshots. */
  async live(): Promise<WorkerCapture[]> {
    const captures = await Promise.all(this.captures.values());
    return captures.filter((c): c is WorkerCapture => c !== undefined && !c.isClosed);
  }

  /**
   * Starts or stops recording allocation stacks in every worker alive now and in those started later. A worker
   * that exits meanwhile is skipped.
   */
  async setAllocationTracking(on: boolean): Promise<void> {
    this.trackAllocations = on;
    await Promise.all(
      (await this.live()).map((worker) =>
        worker.setAllocationTracking(on).catch((error: unknown) => {
          if (!worker.isClosed) throw error;
        }),
      ),
    );
  }

  /** Stops following workers (their sessions end with the main session). */
  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    for (const channel of this.channels.values()) channel.close('worker tracking stopped');
    this.channels.clear();
    this.captures.clear();
  }
}
