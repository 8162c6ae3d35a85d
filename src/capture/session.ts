// A capture session: one inspector connection to one Node process, from which heap snapshots, memory samples
// and allocation tracking are taken. Snapshots go straight to disk, each with a sidecar that the engine reads.
// The session keeps the connection's state (domains, the program finished or paused, one heap operation at a time)
// and builds each sidecar; the bytes of a snapshot move in heapSnapshot.ts, its files are snapshotJob.ts's, and
// memory readings come from memorySampling.ts.
import { randomUUID } from 'crypto';
import { promises as fsp } from 'fs';
import * as path from 'path';
import { listeningAddresses, type ListeningAddress } from './address';
import { guardAllocationTracking, type TrackingGuard } from './trackingGuard';
import { CdpClient, ConnectionClosedError, type ConnectOptions, type Disposable } from './cdp';
import type { MemorySample, MemoryUsage } from '../../protocol/memory';
import type { ScriptRecord, SnapshotMethod, SnapshotSidecar, ThreadInfo } from '../../protocol/sidecar';
import type { SamplingProfile } from '../../protocol/report';
import { HeapSnapshotReceiver } from './heapSnapshot';
import { readMemoryUsage, startMemorySampler } from './memorySampling';
import { CaptureAbortedError, ProgramFinishedError, ProgramPausedError, stalledError } from './sessionErrors';
import { SnapshotJob, type SnapshotResult } from './snapshotJob';

export type { ScriptRecord, SnapshotMethod, SnapshotSidecar, ThreadInfo };

/** What the session learned about the target process when it attached. Fields are absent for non-Node targets. */
export interface TargetProcessInfo {
  pid?: number;
  /** `process.version`, e.g. `v20.20.2`. */
  nodeVersion?: string;
  /** `process.platform`, e.g. `linux`. */
  platform?: string;
  /** `process.arch`, e.g. `x64`. */
  arch?: string;
}

/** Options for {@link CaptureSession.takeSnapshot}. */
export interface SnapshotOptions {
  /** Force a full GC first, so the snapshot holds only what is retained. Defaults to true. */
  gc?: boolean;
  /** Stored in the sidecar. */
  label?: string;
  /** Called as V8 walks the heap; `done` counts up to `total` objects. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Cancels the capture. V8 cannot stop a snapshot it has started, so the session discards the rest of it in the
   * background; the promise rejects at once with an {@link CaptureAbortedError} and no file is left behind.
   */
  signal?: AbortSignal;
  /** Defaults to `cdp`. */
  method?: SnapshotMethod;
  /**
   * Take this snapshot by stopping allocation tracking: V8 emits a full snapshot when tracking stops anyway, so
   * this saves the cost of a second one. Only valid while tracking is on.
   */
  stopAllocationTracking?: boolean;
  /** Give up if the snapshot takes longer than this; 0, the default, waits as long as the target lives. */
  timeoutMs?: number;
  /** The worker thread this session is connected to (a debugger's session of a worker), written into the sidecar. */
  thread?: ThreadInfo;
  /**
   * Take the snapshot even when it would need more memory than the target has (see budget.ts). Without it, such a
   * capture is refused with a {@link CaptureTooBigError} before the target spends anything on it.
   */
  force?: boolean;
}

/** Options for {@link CaptureSession.open}. */
export interface CaptureSessionOptions {
  /** Timeout of the WebSocket handshake. Defaults to 10 s. */
  connectTimeoutMs?: number;
  /** Timeout of ordinary calls (evaluate, GC). Defaults to 60 s, since a full GC of a large heap takes a while. */
  callTimeoutMs?: number;
  onHandlerError?: ConnectOptions['onHandlerError'];
  /**
   * The connection shares its inspector session with a debugger, as js-debug's CDP proxy does: pausing is left to
   * that debugger (no `Debugger.setSkipAllPauses`, so the user's breakpoints still stop the program) and so is
   * resuming a program that waits for it. The Debugger domain, on anyway for that debugger, stays on, and console
   * entries are left alone; sidecars say `debuggerAttached`, since V8's async stack links can then retain objects.
   */
  sharedWithDebugger?: boolean;
  /**
   * Runs once the connection is open, before any domain is enabled; js-debug's proxy, for one, forwards no events
   * until `JsDebug.subscribe` is sent. The client stays usable for calls capture does not know about.
   */
  beforeEnable?: (client: CdpClient) => Promise<void>;
}

/**
 * One inspector session on one target. It enables Runtime and HeapProfiler once and never disables HeapProfiler,
 * so heap object ids stay comparable across its snapshots. The Debugger domain is on only for a moment before each
 * snapshot, to learn the scripts (unless a debugger shares the session). Closing the session ends that: V8 clears
 * the id map when an inspector session detaches, so keep one session open for a whole investigation.
 */
export class CaptureSession {
  /** A random id, written into every sidecar; see {@link SnapshotSidecar.sessionId}. */
  readonly id = randomUUID();
  private readonly scriptsById = new Map<string, ScriptRecord>();
  private info: TargetProcessInfo = {};
  private readonly receiver: HeapSnapshotReceiver;
  private heapQueue: Promise<void> = Promise.resolve();
  private heapOperations = 0;
  private tracking = false;
  private guard: TrackingGuard | undefined;
  private sequence = 0;
  private readonly samplers = new Set<Disposable>();
  private defaultContextId: number | undefined;
  private contextPid: number | undefined;
  private finished = false;
  private readonly finishedHandlers = new Set<() => void>();
  private paused = false;
  /** Called when the target stops running tasks: the program finished or a debugger paused it. */
  private readonly stallHandlers = new Set<() => void>();

  private constructor(
    private readonly client: CdpClient,
    private readonly shared: boolean,
  ) {
    client.on('Runtime.executionContextCreated', ({ context }) => {
      if (context.auxData?.isDefault === false) return;
      this.defaultContextId = context.id;
      // Node names its context `node[<pid>]`; that works even before `process.pid` is set up (--inspect-brk).
      const pid = /^node\[(\d+)\]$/.exec(context.name)?.[1];
      if (pid) this.contextPid = Number(pid);
    });
    client.on('Runtime.executionContextDestroyed', ({ executionContextId }) => {
      if (executionContextId === this.defaultContextId) this.markFinished();
    });
    client.on('Debugger.paused', () => {
      // Only a shared session keeps the Debugger domain on; a session of its own skips pauses while it is briefly on.
      if (!this.shared) return;
      this.paused = true;
      this.notifyStalled();
    });
    client.on('Debugger.resumed', () => {
      this.paused = false;
    });
    client.on('Debugger.scriptParsed', (script) => {
      const record: ScriptRecord = { scriptId: script.scriptId, url: script.url, hash: script.hash };
      if (script.sourceMapURL) record.sourceMapURL = script.sourceMapURL;
      this.scriptsById.set(script.scriptId, record);
    });
    this.receiver = new HeapSnapshotReceiver(client);
    client.onClose(() => {
      for (const sampler of [...this.samplers]) sampler.dispose();
    });
  }

  /**
   * Connects to an inspector URL and prepares the target: Runtime and HeapProfiler are enabled (and Debugger only
   * in a session shared with a debugger, which has it on anyway), and a program started with `--inspect-brk` is let
   * run. Nothing enabled in a session of its own adds a retainer to the target's heap.
   */
  static async open(url: string, options: CaptureSessionOptions = {}): Promise<CaptureSession> {
    const callTimeoutMs = options.callTimeoutMs ?? 60_000;
    const client = await CdpClient.connect(url, {
      timeoutMs: options.connectTimeoutMs,
      defaultCallTimeoutMs: callTimeoutMs,
      onHandlerError: options.onHandlerError,
    });
    const shared = options.sharedWithDebugger === true;
    const session = new CaptureSession(client, shared);
    try {
      await options.beforeEnable?.(client);
      await Promise.all([
        client.send('Runtime.enable', {}),
        // A debugger sharing the session has the Debugger domain on anyway. A session of our own leaves it off:
        // while it is on, V8 links promises to what awaits and handles them (async stack traces, catch prediction),
        // and those links keep requests, responses and sockets alive that the program itself dropped. Scripts are
        // learned just before each snapshot instead (see refreshScripts).
        shared ? client.send('Debugger.enable', {}) : undefined,
        client.send('HeapProfiler.enable', {}),
      ]);
      // Runtime.enable reports every live context before it returns. None means the program finished between
      // the connection opening and now, and Node is holding it only for this session.
      if (session.defaultContextId === undefined) session.markFinished();
      // Let a program started with --inspect-brk run; it has no context to evaluate in until it does.
      if (!shared) await client.send('Runtime.runIfWaitingForDebugger', {});
    } catch (error) {
      await client.close();
      if (error instanceof ConnectionClosedError) {
        throw new ConnectionClosedError(
          'the target closed the inspector connection while the capture session was being set up; did the program exit?',
        );
      }
      throw new Error(`could not prepare the target for capture: ${(error as Error).message}`, { cause: error });
    }
    // A program that has already finished has no context left to ask; the session is still valid, only uninformed.
    session.info = await session.readProcessInfo().catch((): TargetProcessInfo => ({}));
    session.info.pid ??= session.contextPid;
    return session;
  }

  /**
   * The session's CDP connection, for domains capture does not drive itself (such as NodeWorker, see
   * `WorkerTracker`). Disabling HeapProfiler through it would reset the object ids.
   */
  get connection(): CdpClient {
    return this.client;
  }

  /** The WebSocket URL this session is connected to. */
  get inspectorUrl(): string {
    return this.client.url;
  }

  /** The inspector's id for the target: the last segment of its URL. */
  get targetId(): string | undefined {
    return new URL(this.client.url).pathname.split('/').filter(Boolean).pop();
  }

  /** What the guard against V8's tracking crash did when allocation tracking last started (trackingGuard.ts). */
  get trackingGuard(): TrackingGuard | undefined {
    return this.guard;
  }

  /** pid, Node version, platform and architecture of the target, as far as it answered. */
  get processInfo(): TargetProcessInfo {
    return this.info;
  }

  /**
   * Every script the session has learned of, by script id: in a session of its own, those alive at the last
   * snapshot or {@link refreshScripts}; in a shared session, every script parsed since it opened.
   */
  get scripts(): ReadonlyMap<string, ScriptRecord> {
    return this.scriptsById;
  }

  /** True while allocation tracking is on. */
  get isTrackingAllocations(): boolean {
    return this.tracking;
  }

  /** True once the connection has closed, by {@link close} or because the target went away. */
  get isClosed(): boolean {
    return this.client.isClosed;
  }

  /**
   * True once the program's own code has finished (its main context is gone) while this session kept it alive:
   * Node then only waits for the debugger to disconnect and no longer runs tasks. Snapshots still work, without
   * the forced GC (V8 runs that as a task); evaluating code and in-process snapshots do not.
   */
  get hasProgramFinished(): boolean {
    return this.finished;
  }

  /**
   * True when the Debugger domain stays on in this session because a debugger shares it. V8 then keeps async
   * stack-trace links between promises, which can retain objects the program itself dropped; sidecars say so.
   */
  get debuggerAttached(): boolean {
    return this.shared;
  }

  /**
   * Learns every script the target holds, with its source map URL. A session of its own turns the Debugger domain
   * on (V8 then reports each live script) and off again in one batch of messages, so no program code runs while it
   * is on and no promise gets linked to its awaiters; a shared session has heard every script already.
   */
  async refreshScripts(): Promise<void> {
    if (this.shared) return;
    // Sent together, so the inspector dispatches them between two tasks of the program; the skip is there in case
    // a task runs in between all the same, so that a `debugger` statement cannot stop the program.
    await Promise.all([
      this.client.send('Debugger.enable', {}),
      this.client.send('Debugger.setSkipAllPauses', { skip: true }),
      this.client.send('Debugger.disable', {}),
    ]);
  }

  /**
   * Drops the console messages the inspector keeps for replay. A program run with `--inspect` hands every
   * `console.log` argument to V8's console storage (up to 1000 messages), which holds them from a global handle:
   * objects the program logged would look leaked. A shared session leaves them to the debugger that shows them.
   */
  private async discardConsoleEntries(): Promise<void> {
    if (this.shared) return;
    await this.client.send('Runtime.discardConsoleEntries', {});
  }

  /**
   * True while a debugger holds the program paused. Only a shared session hears of pauses (a session of its own
   * keeps the Debugger domain off, and a program whose only sessions have it off cannot pause); then
   * snapshots skip the forced GC and {@link collectGarbage} rejects, since V8 runs a GC as a task.
   */
  get isPaused(): boolean {
    return this.paused;
  }

  /** Calls `handler` once, when the program's own code finishes; see {@link hasProgramFinished}. */
  onProgramFinished(handler: () => void): Disposable {
    if (this.finished) {
      queueMicrotask(handler);
      return { dispose: () => undefined };
    }
    this.finishedHandlers.add(handler);
    return { dispose: () => void this.finishedHandlers.delete(handler) };
  }

  /** Calls `handler` once when the connection closes. */
  onClose(handler: (reason: string) => void): Disposable {
    return this.client.onClose(handler);
  }

  /**
   * Forces a full garbage collection in the target. Rejects with {@link ProgramFinishedError} once the program
   * finished and with {@link ProgramPausedError} while a debugger holds it paused: V8 runs the GC as a task.
   */
  async collectGarbage(): Promise<void> {
    await this.whileTasksRun(this.client.send('HeapProfiler.collectGarbage', {}), 'force a garbage collection');
  }

  /**
   * Starts V8's sampling heap profiler: about one allocation per `intervalBytes` is sampled with its stack and kept
   * while the object lives. It keeps no object alive and costs the program little (see engine/sampling.ts).
   */
  async startAllocationSampling(intervalBytes: number): Promise<void> {
    await this.client.send('HeapProfiler.startSampling', { samplingInterval: intervalBytes });
  }

  /** The live samples now (call after {@link collectGarbage} for what is retained). */
  async allocationSamples(): Promise<SamplingProfile> {
    return (await this.client.send('HeapProfiler.getSamplingProfile', {})).profile;
  }

  async stopAllocationSampling(): Promise<void> {
    await this.client.send('HeapProfiler.stopSampling', {});
  }

  /**
   * `process.memoryUsage()` of the target. Where that cannot run (not Node, `process` replaced, or the program
   * has finished) it falls back to `Runtime.getHeapUsage`, which knows only the JS heap.
   */
  memoryUsage(): Promise<MemoryUsage> {
    return readMemoryUsage(this.client);
  }

  /**
   * The servers the program listens on (`net.Server`s and the HTTP servers built on them), asked inside the program
   * with nothing left behind; empty when it cannot answer (finished, or not Node).
   */
  listeningAddresses(): Promise<ListeningAddress[]> {
    return listeningAddresses(this.client);
  }

  /**
   * Samples {@link memoryUsage} now and then every `intervalMs` until disposed. A tick is skipped while the
   * previous sample is still in flight or a snapshot is being taken (the target answers nothing until it ends).
   */
  startSampling(
    intervalMs: number,
    onSample: (sample: MemorySample) => void,
    onError?: (error: Error) => void,
  ): Disposable {
    const sampler = startMemorySampler({
      intervalMs,
      read: () => this.memoryUsage(),
      skip: () => this.heapOperations > 0 || this.client.isClosed,
      onSample,
      onError,
      onDispose: () => void this.samplers.delete(sampler),
    });
    this.samplers.add(sampler);
    return sampler;
  }

  /**
   * Starts recording which function allocated each object: later snapshots carry `trace_function_infos` and
   * `trace_tree`. It slows the target down and costs memory, so stop it when done.
   */
  startAllocationTracking(): Promise<void> {
    return this.exclusive(async () => {
      // Pretenured allocations (objects V8 puts straight into the old generation, as it learns to for long-lived
      // ones) lose their stacks in the allocation tracker; turning pretenuring off is not safe in a target (see
      // run.ts), so the engine falls back on the source for objects without a stack.
      // Node < 22 can crash under tracking unless escape analysis is off (trackingGuard.ts).
      this.guard = await guardAllocationTracking((method, params) => this.client.sendRaw(method, params));
      await this.client.send('HeapProfiler.startTrackingHeapObjects', { trackAllocations: true });
      this.tracking = true;
    });
  }

  /**
   * Stops allocation tracking. V8 emits a whole snapshot when tracking stops; it is discarded here. To keep it,
   * call {@link takeSnapshot} with `stopAllocationTracking: true` instead.
   */
  stopAllocationTracking(): Promise<void> {
    return this.exclusive(async () => {
      if (!this.tracking) return;
      await this.client.send('HeapProfiler.stopTrackingHeapObjects', { reportProgress: false }, { timeoutMs: 0 });
      this.tracking = false;
    });
  }

  /**
   * Writes a heap snapshot to `filePath` and its sidecar to `<filePath>.meta.json`. The snapshot is written to a
   * temporary file beside `filePath` and renamed into place only when complete, so `filePath` never holds a
   * partial snapshot; on failure, cancellation or target death the temporary file is removed.
   */
  takeSnapshot(filePath: string, options: SnapshotOptions = {}): Promise<SnapshotResult> {
    const signal = options.signal;
    if (signal?.aborted) {
      return Promise.reject(
        new CaptureAbortedError('the snapshot was cancelled before it started', { cause: signal.reason }),
      );
    }
    if (options.stopAllocationTracking && options.method === 'inprocess') {
      return Promise.reject(
        new Error('stopAllocationTracking needs method "cdp": only the inspector emits that snapshot'),
      );
    }
    const job = new SnapshotJob(path.resolve(filePath));
    return new Promise<SnapshotResult>((resolve, reject) => {
      const onAbort = (): void => {
        if (job.settled) return;
        job.settled = true;
        job.aborted = true;
        // Remove what exists now, then reject; the job removes anything it creates later when it sees the flag.
        const error = new CaptureAbortedError('the snapshot was cancelled', { cause: signal?.reason });
        void job.discard().then(
          () => reject(error),
          () => reject(error),
        );
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const finished = this.exclusive(() => this.runSnapshot(job, options));
      finished.then(
        (result) => {
          signal?.removeEventListener('abort', onAbort);
          if (job.settled) return;
          job.settled = true;
          if (result) resolve(result);
          else reject(new CaptureAbortedError('the snapshot was cancelled'));
        },
        (error: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          if (job.settled) return;
          job.settled = true;
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  /** Closes the connection. This clears the target's heap object ids (V8 does so when a session detaches). */
  async close(): Promise<void> {
    for (const sampler of [...this.samplers]) sampler.dispose();
    await this.client.close();
  }

  /** Runs heap operations one at a time: snapshot chunks carry no id, so two snapshots must never overlap. */
  private exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.heapQueue.then(async () => {
      this.heapOperations++;
      try {
        return await operation();
      } finally {
        this.heapOperations--;
      }
    });
    this.heapQueue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Does the work of one snapshot; resolves undefined if the job was cancelled on the way. */
  private async runSnapshot(job: SnapshotJob, options: SnapshotOptions): Promise<SnapshotResult | undefined> {
    try {
      return await this.writeSnapshotFiles(job, options);
    } catch (error) {
      await job.discard();
      if (job.aborted) return undefined;
      throw this.explain(error);
    } finally {
      // A cancel may land between any two steps; whatever exists by then must go.
      if (job.aborted) await job.discard();
    }
  }

  private async writeSnapshotFiles(job: SnapshotJob, options: SnapshotOptions): Promise<SnapshotResult | undefined> {
    if (job.aborted) return undefined;
    const method = options.method ?? 'cdp';
    if (options.stopAllocationTracking && !this.tracking) {
      throw new Error('stopAllocationTracking was asked for, but allocation tracking is not on');
    }
    // Create the file first, so an unwritable place fails before the target spends time on a GC.
    const stream = method === 'cdp' ? await job.openStream() : undefined;
    await this.discardConsoleEntries();
    let forcedGc = (options.gc ?? true) && !this.finished && !this.paused;
    if (forcedGc) {
      // Two passes: the first can queue finalizers and weak callbacks whose garbage only the second frees.
      try {
        await this.collectGarbage();
        await this.collectGarbage();
      } catch (error) {
        // A program that finishes or pauses during the GC can still be captured, just without it.
        if (!(error instanceof ProgramFinishedError || error instanceof ProgramPausedError)) throw error;
        forcedGc = false;
      }
    }
    if (job.aborted) return undefined;
    const memoryUsage = await this.memoryUsage().catch(() => undefined);
    const capture = this.finished ? undefined : await this.receiver.checkCost(options.force === true);
    await this.refreshScripts();
    if (job.aborted) return undefined;
    const time = new Date().toISOString();
    const started = Date.now();
    const allocationTracking = this.tracking;
    const programFinished = this.finished;
    if (stream) {
      await this.receiver.stream(job, stream, options);
    } else {
      if (this.finished) {
        throw new ProgramFinishedError(
          'the program has finished, so it can no longer run v8.writeHeapSnapshot; use method "cdp"',
        );
      }
      await this.receiver.writeInProcess(job, options);
    }
    if (capture) await this.receiver.recordCost(capture, memoryUsage?.heapUsed);
    if (options.stopAllocationTracking) this.tracking = false;
    if (job.aborted) return undefined;
    const durationMs = Date.now() - started;
    const fileSize = (await fsp.stat(job.tempPath)).size;
    this.sequence++;
    const meta: SnapshotSidecar = {
      formatVersion: 1,
      snapshotFile: path.basename(job.filePath),
      fileSize,
      sessionId: this.id,
      sequence: this.sequence,
      targetId: this.targetId,
      inspectorUrl: this.inspectorUrl,
      pid: this.info.pid,
      nodeVersion: this.info.nodeVersion,
      platform: this.info.platform,
      arch: this.info.arch,
      time,
      durationMs,
      label: options.label,
      memoryUsage,
      allocationTracking,
      ...(capture ? { capture } : {}),
      ...(programFinished ? { programFinished } : {}),
      forcedGc,
      method,
      ...(this.shared ? { debuggerAttached: true } : {}),
      scripts: [...this.scriptsById.values()],
      ...(options.thread ? { thread: options.thread } : {}),
    };
    await job.commit(meta);
    return job.aborted ? undefined : { filePath: job.filePath, metaPath: job.metaPath, meta };
  }

  /**
   * Rejects `promise`'s wait when the target stops running tasks (the program finished, or a debugger paused it):
   * V8 answers some commands from a task, and those replies would not come.
   */
  private whileTasksRun<T>(promise: Promise<T>, what: string): Promise<T> {
    const stalled = this.stalledError(what);
    if (stalled) {
      promise.catch(() => undefined);
      return Promise.reject(stalled);
    }
    return new Promise<T>((resolve, reject) => {
      const onStall = (): void => reject(this.stalledError(what) ?? new ProgramPausedError(`cannot ${what} now`));
      this.stallHandlers.add(onStall);
      const watcher = { dispose: () => void this.stallHandlers.delete(onStall) };
      promise.then(
        (value) => {
          watcher.dispose();
          resolve(value);
        },
        (error: unknown) => {
          watcher.dispose();
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  private stalledError(what: string): Error | undefined {
    return stalledError(what, { finished: this.finished, paused: this.paused });
  }

  private notifyStalled(): void {
    for (const handler of [...this.stallHandlers]) handler();
  }

  private markFinished(): void {
    if (this.finished) return;
    this.finished = true;
    for (const handler of [...this.finishedHandlers]) handler();
    this.finishedHandlers.clear();
    this.notifyStalled();
  }

  private async readProcessInfo(): Promise<TargetProcessInfo> {
    const reply = await this.client.send('Runtime.evaluate', {
      expression:
        '({ pid: process.pid, nodeVersion: process.version, platform: process.platform, arch: process.arch })',
      returnByValue: true,
      silent: true,
    });
    if (reply.exceptionDetails || typeof reply.result.value !== 'object' || reply.result.value === null) return {};
    return reply.result.value as TargetProcessInfo;
  }

  private explain(error: unknown): Error {
    if (error instanceof ConnectionClosedError) {
      const message = error.byThisSide
        ? 'the capture session was closed while taking a snapshot'
        : 'the target closed the inspector connection while taking a snapshot';
      return new Error(message, { cause: error });
    }
    return error instanceof Error ? error : new Error(String(error));
  }
}
