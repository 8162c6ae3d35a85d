/**
 * A process debugged by VS Code's JavaScript debugger (js-debug). Leak Lens gets a CDP connection to it through
 * `extension.js-debug.requestCDPProxy` on the child session, subscribes to the events it needs (the proxy forwards
 * none otherwise) and runs a CaptureSession over it, sharing js-debug's inspector session: breakpoints keep working
 * and heap object ids stay stable for as long as js-debug is attached. Leak Lens never sends `HeapProfiler.disable`;
 * when something else does (js-debug's "Take Performance Profile"), V8 renumbers every object, and the next snapshot
 * says so.
 */
import { promises as fsp } from 'fs';
import * as vscode from 'vscode';
import { CaptureSession, ConnectionClosedError, type CdpClient, type Disposable, type ThreadInfo } from '../../capture';
import { UserError } from '../errors';
import { log } from '../log';
import {
  pushSample,
  workerTitle,
  type AllocationSamples,
  type ListeningAddress,
  type MemoryTarget,
  type SnapshotRequest,
  type TakenSnapshot,
  type TakenWorkerSnapshot,
} from './target';
import type { MemorySample, MemoryUsage } from '../../../protocol/memory';

/** What `extension.js-debug.requestCDPProxy` answers. */
interface CdpProxyAddress {
  host: string;
  port: number;
  path?: string;
}

const PROXY_TIMEOUT_MS = 10_000;
const OBJECT_GROUP = 'leak-lens';

/** The events Leak Lens needs through js-debug's proxy. */
const SUBSCRIBED_EVENTS = [
  'HeapProfiler.*',
  'Runtime.executionContextCreated',
  'Runtime.executionContextDestroyed',
  'Debugger.scriptParsed',
  'Debugger.paused',
  'Debugger.resumed',
];

/** A js-debug session of one of the process's worker threads, and when js-debug has attached it. */
export interface WorkerSession {
  session: vscode.DebugSession;
  attached: () => Promise<void>;
}

/** Leak Lens's connection to one worker thread, through js-debug's CDP proxy on the worker's own session. */
interface WorkerConnection {
  session: vscode.DebugSession;
  capture: CaptureSession;
  thread: ThreadInfo;
  /** `worker <id> <name>`. */
  name: string;
}

/**
 * A CDP connection to a js-debug session through `extension.js-debug.requestCDPProxy`, after js-debug attached it.
 * js-debug never answers for a session that is not a process's or a worker's own (child) session: never wait for ever.
 */
async function openProxy(
  session: vscode.DebugSession,
  attached: () => Promise<void>,
  onClient?: (client: CdpClient) => void,
): Promise<CaptureSession> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    attached(),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, PROXY_TIMEOUT_MS))),
  ]).finally(() => clearTimeout(timer));
  const proxy = await Promise.race([
    Promise.resolve(
      vscode.commands.executeCommand<CdpProxyAddress | undefined>('extension.js-debug.requestCDPProxy', session.id),
    ),
    new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), PROXY_TIMEOUT_MS))),
  ]).finally(() => clearTimeout(timer));
  if (!proxy?.port) {
    throw new UserError(
      `The JavaScript debugger did not give Leak Lens a connection to "${session.name}" within ${PROXY_TIMEOUT_MS / 1000} s. If the program is still starting, try again in a moment.`,
    );
  }
  const host = proxy.host.includes(':') ? `[${proxy.host}]` : proxy.host;
  const url = `ws://${host}:${proxy.port}${proxy.path ?? ''}`;
  log().info(`connecting to ${session.name} through js-debug's CDP proxy ${url}`);
  return CaptureSession.open(url, {
    sharedWithDebugger: true,
    beforeEnable: async (client) => {
      onClient?.(client);
      // Without this the proxy forwards no events at all, snapshot chunks included.
      await client.sendRaw('JsDebug.subscribe', { events: SUBSCRIBED_EVENTS });
    },
  });
}

export class JsDebugTarget implements MemoryTarget {
  readonly kind = 'js-debug';
  private connecting: Promise<void> | undefined;
  private capture: CaptureSession | undefined;
  private control: CdpClient | undefined;
  private readonly connectionScope: Disposable[] = [];
  private sampler: Disposable | undefined;
  private samplingMs: number | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly ring: MemorySample[] = [];
  private paused = false;
  /** The heap object id of the global object when ids were last known to be intact. */
  private globalHeapId: string | undefined;
  /** Bumped whenever V8's object ids were found reset; snapshots of different generations cannot be compared. */
  private idGeneration = 1;
  private readonly sampleEmitter = new vscode.EventEmitter<MemorySample>();
  private readonly stateEmitter = new vscode.EventEmitter<void>();
  private readonly endEmitter = new vscode.EventEmitter<void>();
  readonly onDidSample = this.sampleEmitter.event;
  readonly onDidChangeState = this.stateEmitter.event;
  readonly onDidEnd = this.endEmitter.event;
  ended = false;

  /** Connections to worker threads, by the worker's session id; undefined where the worker could not be reached. */
  private readonly workerConnections = new Map<string, Promise<WorkerConnection | undefined>>();
  /** V8's sampling heap profiler was started (Find Leaks' sampling mode) and not stopped yet. */
  private allocationSampling = false;
  /** Allocation tracking was asked for: workers connected later start it too. */
  private trackWorkers = false;

  /**
   * `attached` resolves once js-debug has attached its child session to the process; `workerSessions` lists
   * js-debug's sessions of the process's worker threads alive now.
   */
  constructor(
    readonly session: vscode.DebugSession,
    private readonly attached: () => Promise<void> = () => Promise.resolve(),
    private readonly workerSessions: () => WorkerSession[] = () => [],
  ) {}

  get label(): string {
    const pid = this.pid;
    return pid !== undefined && !this.session.name.includes(String(pid))
      ? `${this.session.name} (pid ${pid})`
      : this.session.name;
  }

  get pid(): number | undefined {
    return this.capture?.processInfo.pid;
  }

  get trackingAllocations(): boolean {
    return this.capture?.isTrackingAllocations ?? false;
  }

  get programFinished(): boolean {
    return this.capture?.hasProgramFinished ?? false;
  }

  get samples(): readonly MemorySample[] {
    return this.ring;
  }

  ready(): Promise<void> {
    if (this.ended) return Promise.reject(this.endedError());
    this.connecting ??= this.connect().catch((error: unknown) => {
      this.connecting = undefined;
      throw error;
    });
    return this.connecting;
  }

  private async connect(): Promise<void> {
    const capture = await openProxy(this.session, this.attached, (client) => {
      this.control = client;
      const on = client.on.bind(client) as unknown as (event: string, handler: (params: unknown) => void) => Disposable;
      this.connectionScope.push(
        on('Debugger.paused', () => (this.paused = true)),
        on('Debugger.resumed', () => (this.paused = false)),
      );
    });
    if (this.ended) {
      await capture.close();
      throw this.endedError();
    }
    this.capture = capture;
    this.connectionScope.push(capture.onClose(() => this.end()));
    const id = await this.heapIdOfGlobal();
    this.globalHeapId = id !== '0' ? id : undefined;
    log().info(`connected to ${this.label} (node ${capture.processInfo.nodeVersion ?? '?'})`);
  }

  /** The heap snapshot id V8 gives the global object; it changes only when V8 cleared its object ids. */
  private async heapIdOfGlobal(): Promise<string | undefined> {
    const control = this.control;
    if (!control || control.isClosed) return undefined;
    try {
      const reply = (await control.sendRaw(
        'Runtime.evaluate',
        { expression: 'globalThis', objectGroup: OBJECT_GROUP, silent: true },
        { timeoutMs: 5_000 },
      )) as { result?: { objectId?: string } };
      const objectId = reply.result?.objectId;
      if (!objectId) return undefined;
      const id = (await control.sendRaw('HeapProfiler.getHeapObjectId', { objectId }, { timeoutMs: 5_000 })) as {
        heapSnapshotObjectId?: string;
      };
      // "0": V8 has no id for it yet (ids are handed out by snapshots and tracking), or it cleared its id map.
      return id.heapSnapshotObjectId ?? undefined;
    } catch {
      // The program may have finished (no context to evaluate in); ids cannot be checked then, which is harmless.
      return undefined;
    } finally {
      void control.sendRaw('Runtime.releaseObjectGroup', { objectGroup: OBJECT_GROUP }).catch(() => undefined);
    }
  }

  private connected(): CaptureSession {
    if (this.ended || !this.capture || this.capture.isClosed) throw this.endedError();
    return this.capture;
  }

  private endedError(): UserError {
    return new UserError(
      `The debug session "${this.session.name}" has ended. Start the program again to keep working on its memory.`,
    );
  }

  async takeSnapshot(file: string, request: SnapshotRequest): Promise<TakenSnapshot> {
    await this.ready();
    const capture = this.connected();
    const notes: string[] = [];
    // Another client of this inspector session may have disabled the heap profiler; enabling again is harmless.
    await this.control?.sendRaw('HeapProfiler.enable', {}).catch(() => undefined);
    const id = await this.heapIdOfGlobal();
    if (this.globalHeapId && id && id !== this.globalHeapId) {
      this.idGeneration++;
      notes.push(
        'V8 renumbered every object since the previous snapshot (something sent HeapProfiler.disable, for example the JavaScript debugger\'s "Take Performance Profile"). ' +
          'Snapshots taken before cannot be compared with this one; use this one as a new baseline.',
      );
      log().warn(`object ids of ${this.label} were reset (global object id ${this.globalHeapId} -> ${id})`);
    }
    const gc = !this.paused;
    if (!gc)
      notes.push(
        'The program is paused at a breakpoint, so no garbage collection ran before this snapshot; it may include garbage. Continue the program for a cleaner snapshot.',
      );
    const result = await capture.takeSnapshot(file, {
      label: request.label,
      gc,
      signal: request.signal,
      onProgress: request.onProgress,
      force: request.force,
    });
    // The snapshot gave every object an id; remember the global's to notice the next reset.
    const after = await this.heapIdOfGlobal();
    if (after && after !== '0') this.globalHeapId = after;
    if (this.idGeneration > 1) {
      // Snapshots on either side of an id reset must never be compared: give this side its own session id.
      const meta = { ...result.meta, sessionId: `${result.meta.sessionId}#ids${this.idGeneration}` };
      await fsp.writeFile(result.metaPath, `${JSON.stringify(meta, null, 1)}\n`);
    }
    const workers = request.workers ? await this.snapshotWorkers(file, request) : undefined;
    return {
      file: result.filePath,
      fileSize: result.meta.fileSize,
      durationMs: result.meta.durationMs,
      pid: result.meta.pid,
      memoryUsage: result.meta.memoryUsage,
      notes,
      ...(workers ? { workers } : {}),
    };
  }

  /**
   * The connections to the worker threads alive now: js-debug's session of each worker hands out a CDP proxy of
   * its own (the process's session cannot be used: js-debug holds its NodeWorker domain and relays the workers'
   * messages itself). Connections of workers that have gone are closed; a worker that cannot be reached (it is
   * exiting) is logged and left out.
   */
  private async liveWorkers(): Promise<WorkerConnection[]> {
    const sessions = this.workerSessions();
    const alive = new Set(sessions.map((w) => w.session.id));
    for (const [id, connection] of this.workerConnections) {
      if (alive.has(id)) continue;
      this.workerConnections.delete(id);
      void connection.then((c) => c?.capture.close()).catch(() => undefined);
    }
    for (const w of sessions) {
      if (this.workerConnections.has(w.session.id)) continue;
      this.workerConnections.set(w.session.id, this.connectWorker(w));
    }
    const connections = await Promise.all(sessions.map((w) => this.workerConnections.get(w.session.id)));
    return connections.filter((c): c is WorkerConnection => c !== undefined && !c.capture.isClosed);
  }

  private async connectWorker(w: WorkerSession): Promise<WorkerConnection | undefined> {
    const title = workerTitle(w.session.name);
    const thread: ThreadInfo = { id: title?.id ?? '?', title: w.session.name, url: '' };
    const name = `worker ${thread.id}${title?.name ? ` ${title.name}` : ''}`;
    try {
      const capture = await openProxy(w.session, w.attached);
      if (this.ended) {
        await capture.close();
        return undefined;
      }
      capture.onClose(() => {
        // The worker exited (js-debug ends its session and closes the proxy); forget it.
        this.workerConnections.delete(w.session.id);
      });
      if (this.trackWorkers) await capture.startAllocationTracking();
      log().info(`connected to ${name} of ${this.label}`);
      return { session: w.session, capture, thread, name };
    } catch (error) {
      log().warn(`could not reach ${name} of ${this.label}, so it is left out: ${(error as Error).message}`);
      return undefined;
    }
  }

  /** Snapshots every worker alive beside `file`; a worker that exits meanwhile is logged and left out. */
  private async snapshotWorkers(file: string, request: SnapshotRequest): Promise<TakenWorkerSnapshot[]> {
    const taken: TakenWorkerSnapshot[] = [];
    for (const worker of await this.liveWorkers()) {
      const workerFile = `${file.replace(/\.heapsnapshot$/, '')}.worker${worker.thread.id}.heapsnapshot`;
      try {
        const result = await worker.capture.takeSnapshot(workerFile, {
          label: request.label,
          thread: worker.thread,
          signal: request.signal,
        });
        taken.push({
          name: worker.name,
          key: worker.capture.id,
          file: result.filePath,
          fileSize: result.meta.fileSize,
        });
      } catch (error) {
        if (request.signal?.aborted) throw error;
        const gone =
          worker.capture.isClosed ||
          error instanceof ConnectionClosedError ||
          !this.workerSessions().some((w) => w.session.id === worker.session.id);
        if (!gone) throw error;
        log().info(
          `${worker.name} of ${this.label} exited during a snapshot, so it is left out: ${(error as Error).message}`,
        );
      }
    }
    return taken;
  }

  async collectGarbage(): Promise<{ before: MemoryUsage; after: MemoryUsage }> {
    await this.ready();
    const capture = this.connected();
    if (this.paused) {
      throw new UserError(
        'The program is paused at a breakpoint, and V8 collects garbage only while it runs. Continue the program, then collect garbage again.',
      );
    }
    const before = await capture.memoryUsage();
    await capture.collectGarbage();
    const after = await capture.memoryUsage();
    return { before, after };
  }

  async memoryUsage(): Promise<MemoryUsage> {
    await this.ready();
    return this.connected().memoryUsage();
  }

  async listeningAddresses(): Promise<ListeningAddress[]> {
    await this.ready();
    return this.connected().listeningAddresses();
  }

  async startAllocationTracking(): Promise<void> {
    await this.ready();
    await this.connected().startAllocationTracking();
    // Workers too (and those connected later), so that their snapshots say where their objects were allocated.
    this.trackWorkers = true;
    await this.eachWorker((capture) =>
      capture.isTrackingAllocations ? Promise.resolve() : capture.startAllocationTracking(),
    );
    this.stateEmitter.fire();
  }

  async stopAllocationTracking(): Promise<void> {
    await this.ready();
    await this.connected().stopAllocationTracking();
    this.trackWorkers = false;
    await this.eachWorker((capture) => capture.stopAllocationTracking());
    this.stateEmitter.fire();
  }

  async startAllocationSampling(intervalBytes: number): Promise<void> {
    await this.ready();
    await this.connected().startAllocationSampling(intervalBytes);
    this.allocationSampling = true;
  }

  async readAllocationSampling(sourceMaps: boolean): Promise<AllocationSamples> {
    await this.ready();
    const capture = this.connected();
    if (this.paused) {
      throw new UserError(
        'The program is paused at a breakpoint, and V8 collects garbage only while it runs, so the live samples cannot be told from garbage. Continue the program, then go on.',
      );
    }
    // Twice: objects freed by the first collection's finalizers go in the second, as before a snapshot.
    await capture.collectGarbage();
    await capture.collectGarbage();
    const profile = await capture.allocationSamples();
    const sourceMapURLs: Record<string, string> = {};
    // js-debug keeps the Debugger domain on, so every script parsed since Leak Lens connected is known already.
    if (sourceMaps)
      for (const script of capture.scripts.values())
        if (script.sourceMapURL) sourceMapURLs[script.url] = script.sourceMapURL;
    return { profile, sourceMapURLs };
  }

  async stopAllocationSampling(): Promise<void> {
    if (this.ended || !this.capture || this.capture.isClosed) return;
    await this.capture.stopAllocationSampling();
    this.allocationSampling = false;
  }

  /** Runs `action` on every worker alive; a worker that exits meanwhile is skipped. */
  private async eachWorker(action: (capture: CaptureSession) => Promise<void>): Promise<void> {
    await Promise.all(
      (await this.liveWorkers()).map((w) =>
        action(w.capture).catch((error: unknown) => {
          if (!w.capture.isClosed) throw error;
        }),
      ),
    );
  }

  startSampling(intervalMs: number): void {
    this.stopSampling();
    this.samplingMs = intervalMs;
    const attempt = (tries: number): void => {
      this.ready().then(
        () => {
          if (this.ended || !this.capture || this.samplingMs !== intervalMs || this.sampler) return;
          this.sampler = this.capture.startSampling(
            intervalMs,
            (sample) => {
              pushSample(this.ring, sample);
              this.sampleEmitter.fire(sample);
            },
            (error) => log().debug(`memory sample of ${this.label} failed: ${error.message}`),
          );
        },
        (error: unknown) => {
          // Right after a session starts js-debug may not hand out its proxy yet: try again a few times.
          if (this.ended || this.samplingMs !== intervalMs || tries >= 5) {
            log().warn(`cannot sample the memory of ${this.session.name}: ${(error as Error).message}`);
            return;
          }
          this.retryTimer = setTimeout(() => attempt(tries + 1), 500 * 2 ** tries);
        },
      );
    };
    attempt(0);
  }

  stopSampling(): void {
    this.samplingMs = undefined;
    clearTimeout(this.retryTimer);
    this.sampler?.dispose();
    this.sampler = undefined;
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.stopSampling();
    this.endEmitter.fire();
  }

  dispose(): void {
    this.end();
    for (const d of this.connectionScope.splice(0)) d.dispose();
    const capture = this.capture;
    this.capture = undefined;
    // The profiler belongs to js-debug's inspector session, which outlives this connection: stop it first.
    const stopping =
      this.allocationSampling && capture && !capture.isClosed
        ? capture.stopAllocationSampling().catch(() => undefined)
        : Promise.resolve();
    this.allocationSampling = false;
    // Closing the proxy connection leaves js-debug's own inspector session (and so the object ids) untouched.
    void stopping.then(() => capture?.close()).catch(() => undefined);
    for (const connection of this.workerConnections.values())
      void connection.then((c) => c?.capture.close()).catch(() => undefined);
    this.workerConnections.clear();
    this.sampleEmitter.dispose();
    this.stateEmitter.dispose();
    this.endEmitter.dispose();
  }
}
