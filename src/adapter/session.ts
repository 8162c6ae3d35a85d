/**
 * The `leak-lens` debug adapter: plain DAP over the capture library, for memory work without breakpoints. `launch`
 * starts a Node program under the inspector, `attach` joins one by WebSocket URL, host:port or process id; custom
 * requests (see ./protocol.ts) take snapshots, force GCs, sample memory and track allocations. It never imports
 * `vscode`, so any editor with a DAP client can use it (`node adapter.js`, or `--server=PORT`).
 *
 * One inspector session is held for the whole debug session: V8 clears heap object ids when an inspector session
 * detaches, so snapshots are comparable only within one debug session.
 */
import {
  DebugSession,
  Event,
  ExitedEvent,
  InitializedEvent,
  OutputEvent,
  TerminatedEvent,
  Thread,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import * as fs from 'fs';
import * as path from 'path';
import {
  attachToPid,
  CaptureAbortedError,
  CaptureSession,
  launchForCapture,
  targetFromHostPort,
  WorkerTracker,
  type Disposable,
  type LaunchedProgram,
} from '../capture';
import type { MemoryUsage } from '../../protocol/memory';
import type {
  AttachArguments,
  CustomEvents,
  CustomEventName,
  CustomRequestName,
  CustomRequests,
  LaunchArguments,
  WorkerSnapshotBody,
} from '../../protocol/adapter';

/** What a client may send: nothing is known to be present until checked. */
type LaunchRequestArguments = DebugProtocol.LaunchRequestArguments & Partial<LaunchArguments>;
type AttachRequestArguments = DebugProtocol.AttachRequestArguments & AttachArguments;

/** Inspector lines Node prints on stderr that mean nothing to the user of a debug session. */
const inspectorNoise =
  /^(Debugger listening on |For help, see: https:\/\/nodejs\.org|Debugger attached\.|Debugger ending on |Waiting for the debugger to disconnect)/;

/** A failure the user can act on; its message is shown as is. */
class UserError extends Error {}

export class LeakLensDebugSession extends DebugSession {
  private capture: CaptureSession | undefined;
  /** The program's worker threads, followed from the start so their object ids stay comparable. */
  private workers: WorkerTracker | undefined;
  private program: LaunchedProgram | undefined;
  private stopOnDisconnect = true;
  private sampler: Disposable | undefined;
  /** V8's sampling heap profiler is on (leakLens/startAllocationSampling): stopped before the connection closes. */
  private allocationSampling = false;
  private readonly sessionScope: Disposable[] = [];
  /** In-flight cancellable requests by request seq. */
  private readonly cancellers = new Map<number, AbortController>();
  /** In-flight snapshots by file. */
  private readonly snapshotCancellers = new Map<string, AbortController>();
  private ended = false;
  /** Snapshots being written, so that stopping waits until their half-written files are removed. */
  private readonly snapshotsInFlight = new Set<Promise<unknown>>();

  /** Every session of this adapter process, so that a stop signal can end what each of them started. */
  static readonly live = new Set<LeakLensDebugSession>();
  /** Set once the process is exiting on a signal: the exit status is then the signal's, not DebugSession's 0. */
  static exitingOnSignal = false;

  constructor() {
    super();
    LeakLensDebugSession.live.add(this);
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
  }

  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = {
      ...response.body,
      supportsConfigurationDoneRequest: true,
      supportsTerminateRequest: true,
      supportsCancelRequest: true,
    };
    this.sendResponse(response);
    // No breakpoints to configure: the client may send configurationDone at once.
    this.sendEvent(new InitializedEvent());
  }

  protected override async launchRequest(
    response: DebugProtocol.LaunchResponse,
    given: LaunchRequestArguments | undefined,
  ): Promise<void> {
    const args = given ?? ({} as LaunchRequestArguments);
    try {
      if (typeof args.program !== 'string' || !args.program.trim()) {
        throw new UserError(
          'The launch configuration has no "program": name the script to run (for example "server.js").',
        );
      }
      const cwd = args.cwd ?? path.dirname(path.resolve(args.program));
      const program = path.resolve(cwd, args.program);
      if (!fs.existsSync(program))
        throw new UserError(
          `Cannot find the program ${program}: check "program" (and "cwd") in the launch configuration.`,
        );
      if (!fs.existsSync(cwd))
        throw new UserError(`The working folder ${cwd} does not exist: check "cwd" in the launch configuration.`);
      const env: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(args.env ?? {})) env[k] = v === null ? undefined : String(v);
      const launched = await launchForCapture(
        {
          args: [program, ...(args.args ?? [])],
          runtimeExecutable: args.runtimeExecutable,
          runtimeArgs: args.runtimeArgs,
          cwd,
          env,
          onStdout: (data) => this.output(data.toString(), 'stdout'),
          onStderr: (data) => this.output(data.toString(), 'stderr'),
        },
        { sharedWithDebugger: false },
      );
      this.program = launched.program;
      this.stopOnDisconnect = args.stopOnDisconnect ?? true;
      this.adopt(launched.session);
      void launched.program.exited.then((status) => {
        this.output(
          `\nThe program ${status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`}.\n`,
          'console',
        );
        this.sendEvent(new ExitedEvent(status.code ?? 1));
        this.end();
      });
      this.output(`Leak Lens: launched ${program} (pid ${launched.program.pid}) for memory work.\n`, 'console');
      await this.afterConnect(args);
      this.sendResponse(response);
    } catch (error) {
      this.fail(response, error, 'could not launch the program');
    }
  }

  protected override async attachRequest(
    response: DebugProtocol.AttachResponse,
    given: AttachRequestArguments | undefined,
  ): Promise<void> {
    const args = given ?? ({} as AttachRequestArguments);
    try {
      const url = await this.resolveAttachUrl(args);
      const session = await CaptureSession.open(url);
      this.adopt(session);
      const pid = session.processInfo.pid;
      this.output(`Leak Lens: attached to ${pid !== undefined ? `process ${pid}` : url} for memory work.\n`, 'console');
      await this.afterConnect(args);
      this.sendResponse(response);
    } catch (error) {
      this.fail(response, error, 'could not attach');
    }
  }

  private async resolveAttachUrl(args: AttachRequestArguments): Promise<string> {
    const given = [args.websocketUrl, args.port, args.processId].filter((v) => v !== undefined && v !== '').length;
    if (given !== 1) {
      throw new UserError(
        'The attach configuration must name exactly one of "websocketUrl", "port" (with "address") or "processId".',
      );
    }
    if (args.websocketUrl) {
      if (!/^wss?:\/\//.test(args.websocketUrl))
        throw new UserError(`"websocketUrl" must start with ws:// (got ${args.websocketUrl}).`);
      return args.websocketUrl;
    }
    if (args.port !== undefined) {
      const port = Number(args.port);
      if (!Number.isInteger(port) || port <= 0 || port > 65535)
        throw new UserError(`"port" must be a port number (got ${String(args.port)}).`);
      return (await targetFromHostPort(args.address || '127.0.0.1', port)).url;
    }
    const pid = Number(args.processId);
    if (!Number.isInteger(pid) || pid <= 0)
      throw new UserError(`"processId" must be a process id (got ${String(args.processId)}).`);
    return (await attachToPid(pid)).url;
  }

  /** Takes ownership of a capture session: its end ends the debug session. */
  private adopt(session: CaptureSession): void {
    this.capture = session;
    this.sessionScope.push(
      session.onClose(() => {
        if (!this.program) this.output('\nThe target closed the inspector connection.\n', 'console');
        this.end();
      }),
      session.onProgramFinished(() => {
        this.output(
          '\nThe program has finished; its memory stays inspectable until you stop this session.\n',
          'console',
        );
        this.sendCustomEvent('leakLens/programFinished', {});
      }),
    );
  }

  private async afterConnect(args: { trackAllocations?: boolean; samplingIntervalMs?: number }): Promise<void> {
    // A target without the NodeWorker domain (not Node, or too old) simply has no workers to snapshot.
    this.workers = await WorkerTracker.start(this.capture!.connection, this.capture!.processInfo.pid, {
      trackAllocations: args.trackAllocations,
    }).catch(() => undefined);
    if (args.trackAllocations) await this.capture!.startAllocationTracking();
    if (args.samplingIntervalMs && args.samplingIntervalMs > 0) this.startSampling(args.samplingIntervalMs);
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.sendResponse(response);
  }

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    const pid = this.capture?.processInfo.pid;
    response.body = { threads: [new Thread(1, pid !== undefined ? `Node process ${pid}` : 'Node process')] };
    this.sendResponse(response);
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    this.fail(
      response,
      new UserError(
        'A Leak Lens session is for memory work and never pauses the program. To use breakpoints, debug it with the "node" debugger; Leak Lens works on those sessions too.',
      ),
    );
  }

  protected override cancelRequest(response: DebugProtocol.CancelResponse, args: DebugProtocol.CancelArguments): void {
    if (args.requestId !== undefined) this.cancellers.get(args.requestId)?.abort();
    this.sendResponse(response);
  }

  protected override async terminateRequest(response: DebugProtocol.TerminateResponse): Promise<void> {
    await this.shutDownTarget(true);
    this.sendResponse(response);
    this.end();
  }

  protected override async disconnectRequest(
    response: DebugProtocol.DisconnectResponse,
    args: DebugProtocol.DisconnectArguments,
  ): Promise<void> {
    const stop = args?.terminateDebuggee ?? this.stopOnDisconnect;
    await this.shutDownTarget(stop);
    this.sendResponse(response);
    this.ended = true;
  }

  protected override async customRequest(
    command: string,
    response: DebugProtocol.Response,
    args: unknown,
    request?: DebugProtocol.Request,
  ): Promise<void> {
    if (!command.startsWith('leakLens/')) {
      super.customRequest(command, response, args, request);
      return;
    }
    const controller = new AbortController();
    if (request) this.cancellers.set(request.seq, controller);
    try {
      response.body = await this.custom(command as CustomRequestName, (args ?? {}) as never, controller.signal);
      this.sendResponse(response);
    } catch (error) {
      if (error instanceof CaptureAbortedError) {
        response.success = false;
        response.message = 'cancelled';
        this.sendResponse(response);
      } else this.fail(response, error);
    } finally {
      if (request) this.cancellers.delete(request.seq);
    }
  }

  private async custom<K extends CustomRequestName>(
    command: K,
    args: CustomRequests[K]['args'],
    signal: AbortSignal,
  ): Promise<CustomRequests[K]['body']> {
    const capture = this.capture;
    if (!capture || capture.isClosed)
      throw new UserError(
        'There is no program to work on: the session has no inspector connection (launch or attach first).',
      );
    type Body = CustomRequests[K]['body'];
    switch (command) {
      case 'leakLens/targetInfo':
        return {
          pid: capture.processInfo.pid,
          nodeVersion: capture.processInfo.nodeVersion,
          inspectorUrl: capture.inspectorUrl,
          trackingAllocations: capture.isTrackingAllocations,
          programFinished: capture.hasProgramFinished,
          launched: this.program !== undefined,
        } satisfies CustomRequests['leakLens/targetInfo']['body'] as Body;
      case 'leakLens/takeSnapshot': {
        const a = args as CustomRequests['leakLens/takeSnapshot']['args'];
        if (typeof a.file !== 'string' || !path.isAbsolute(a.file))
          throw new UserError('leakLens/takeSnapshot needs an absolute "file" path.');
        await fs.promises.mkdir(path.dirname(a.file), { recursive: true }).catch(() => undefined);
        let last = 0;
        const controller = signalController(signal);
        this.snapshotCancellers.set(a.file, controller);
        const writing = capture.takeSnapshot(a.file, {
          label: a.label,
          gc: a.gc ?? true,
          force: a.force === true,
          signal: controller.signal,
          onProgress: (done, total) => {
            const now = Date.now();
            if (now - last < 250 && done < total) return;
            last = now;
            this.sendCustomEvent('leakLens/snapshotProgress', { file: a.file, done, total });
          },
        });
        this.snapshotsInFlight.add(writing);
        const result = await writing.finally(() => {
          this.snapshotCancellers.delete(a.file);
          this.snapshotsInFlight.delete(writing);
        });
        const m = result.meta;
        const workers = a.workers ? await this.snapshotWorkers(a.file, a.label, a.gc ?? true) : undefined;
        return {
          ...(workers ? { workers } : {}),
          file: result.filePath,
          metaFile: result.metaPath,
          fileSize: m.fileSize,
          durationMs: m.durationMs,
          sessionId: m.sessionId,
          sequence: m.sequence,
          pid: m.pid,
          memoryUsage: m.memoryUsage,
          allocationTracking: m.allocationTracking,
        } satisfies CustomRequests['leakLens/takeSnapshot']['body'] as Body;
      }
      case 'leakLens/cancelSnapshot': {
        const c = this.snapshotCancellers.get((args as CustomRequests['leakLens/cancelSnapshot']['args']).file);
        c?.abort();
        return { cancelled: c !== undefined } as Body;
      }
      case 'leakLens/collectGarbage': {
        const before = await capture.memoryUsage();
        await capture.collectGarbage();
        const after = await capture.memoryUsage();
        return { before, after } as Body;
      }
      case 'leakLens/memoryUsage':
        return (await capture.memoryUsage()) as Body;
      case 'leakLens/listeningAddresses':
        return { addresses: await capture.listeningAddresses() } as Body;
      case 'leakLens/startSampling': {
        const interval = Number((args as CustomRequests['leakLens/startSampling']['args']).intervalMs);
        if (!Number.isFinite(interval) || interval < 100)
          throw new UserError('leakLens/startSampling needs "intervalMs" of at least 100.');
        this.startSampling(interval);
        return {} as Body;
      }
      case 'leakLens/stopSampling':
        this.sampler?.dispose();
        this.sampler = undefined;
        return {} as Body;
      case 'leakLens/startAllocationTracking':
        if (!capture.isTrackingAllocations) await capture.startAllocationTracking();
        // Workers too, so that their snapshots (`workers: true`) say where their objects were allocated.
        await this.workers?.setAllocationTracking(true);
        return {} as Body;
      case 'leakLens/stopAllocationTracking':
        await capture.stopAllocationTracking();
        await this.workers?.setAllocationTracking(false);
        return {} as Body;
      case 'leakLens/startAllocationSampling': {
        const interval = Number((args as CustomRequests['leakLens/startAllocationSampling']['args']).interval);
        if (!Number.isInteger(interval) || interval < 64)
          throw new UserError(
            'leakLens/startAllocationSampling needs "interval" in bytes, a whole number of at least 64.',
          );
        await capture.startAllocationSampling(interval);
        this.allocationSampling = true;
        return {} as Body;
      }
      case 'leakLens/readAllocationSampling': {
        if (!this.allocationSampling)
          throw new UserError('Allocation sampling is not on; send leakLens/startAllocationSampling first.');
        // Twice: objects freed by the first collection's finalizers go in the second, as before a snapshot.
        await capture.collectGarbage();
        await capture.collectGarbage();
        const profile = await capture.allocationSamples();
        const sourceMapURLs: Record<string, string> = {};
        if ((args as CustomRequests['leakLens/readAllocationSampling']['args']).sourceMaps === true) {
          await capture.refreshScripts();
          for (const script of capture.scripts.values())
            if (script.sourceMapURL) sourceMapURLs[script.url] = script.sourceMapURL;
        }
        return { profile, sourceMapURLs } satisfies CustomRequests['leakLens/readAllocationSampling']['body'] as Body;
      }
      case 'leakLens/stopAllocationSampling':
        if (this.allocationSampling) await capture.stopAllocationSampling();
        this.allocationSampling = false;
        return {} as Body;
      default:
        throw new UserError(`unknown request ${String(command)}`);
    }
  }

  /** Snapshots every live worker thread beside `file`; a worker that exits meanwhile is left out. */
  private async snapshotWorkers(file: string, label: string | undefined, gc: boolean): Promise<WorkerSnapshotBody[]> {
    const taken: WorkerSnapshotBody[] = [];
    for (const worker of (await this.workers?.live()) ?? []) {
      const workerFile = `${file.replace(/\.heapsnapshot$/, '')}.worker${worker.thread.id}.heapsnapshot`;
      try {
        const { filePath, metaPath, meta } = await worker.takeSnapshot(workerFile, { label, gc });
        taken.push({
          name: worker.name,
          thread: worker.thread,
          file: filePath,
          metaFile: metaPath,
          fileSize: meta.fileSize,
          sessionId: meta.sessionId,
          sequence: meta.sequence,
        });
      } catch (error) {
        if (!worker.isClosed) throw error;
      }
    }
    return taken;
  }

  private startSampling(intervalMs: number): void {
    this.sampler?.dispose();
    this.sampler = this.capture!.startSampling(intervalMs, (sample: MemoryUsage & { time: number }) =>
      this.sendCustomEvent('leakLens/memorySample', sample),
    );
  }

  private sendCustomEvent<E extends CustomEventName>(event: E, body: CustomEvents[E]): void {
    this.sendEvent(new Event(event, body));
  }

  private output(text: string, category: 'stdout' | 'stderr' | 'console'): void {
    if (category === 'stderr') {
      text = text
        .split(/(?<=\n)/)
        .filter((line) => !inspectorNoise.test(line))
        .join('');
      if (!text) return;
    }
    this.sendEvent(new OutputEvent(text, category));
  }

  /**
   * Closes the inspector connection and, if asked and Leak Lens launched it, stops the program and its children.
   * Requests in flight are cancelled only when the client asked to end; when the target went away they fail on
   * their own, with an error that says so.
   */
  private async shutDownTarget(stopProgram: boolean, cancelInFlight = true): Promise<void> {
    for (const d of this.sessionScope.splice(0)) d.dispose();
    if (cancelInFlight) {
      for (const c of this.cancellers.values()) c.abort();
      for (const c of this.snapshotCancellers.values()) c.abort();
    }
    this.sampler?.dispose();
    this.sampler = undefined;
    this.workers?.dispose();
    this.workers = undefined;
    const capture = this.capture;
    this.capture = undefined;
    // An attached program goes on running: leave it without the profiler's (small) cost.
    if (this.allocationSampling && capture && !capture.isClosed)
      await capture.stopAllocationSampling().catch(() => undefined);
    this.allocationSampling = false;
    await capture?.close().catch(() => undefined);
    if (stopProgram && this.program) await this.program.stop();
    // A cancelled snapshot removes its half-written file when it settles; wait for that, within reason.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.snapshotsInFlight]),
      new Promise((resolve) => (timer = setTimeout(resolve, 5_000))),
    ]);
    clearTimeout(timer);
  }

  /**
   * The adapter process was told to stop (SIGINT, SIGTERM, SIGHUP) or lost its parent: end what this session
   * started, as a disconnect would, and leave no snapshot half-written. The caller exits afterwards.
   */
  async release(): Promise<void> {
    LeakLensDebugSession.live.delete(this);
    await this.shutDownTarget(this.stopOnDisconnect);
  }

  private shuttingDown = false;

  /**
   * The client went away (stdin closed, SIGTERM, or the socket closed in --server mode) without disconnecting: end
   * what this session started before the process exits, so no launched program outlives its adapter.
   */
  override shutdown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    LeakLensDebugSession.live.delete(this);
    void this.shutDownTarget(this.stopOnDisconnect).finally(() => {
      if (!LeakLensDebugSession.exitingOnSignal) super.shutdown();
    });
  }

  /** Tells the client the session is over (once). */
  private end(): void {
    if (this.ended) return;
    this.ended = true;
    void this.shutDownTarget(true, false).then(() => this.sendEvent(new TerminatedEvent()));
  }

  /** Answers a request with an error; `what` prefixes errors that do not come from this adapter's own checks. */
  private fail(response: DebugProtocol.Response, error: unknown, what?: string): void {
    const text = (error as Error)?.message ?? String(error);
    const message = error instanceof UserError || !what ? text : `Leak Lens ${what}: ${text}`;
    response.success = false;
    response.message = message;
    // `showUser` makes VS Code show the message even for requests it sent itself (launch, attach).
    response.body = {
      error: { id: 1, format: message.replace(/[{}]/g, (c) => (c === '{' ? '(' : ')')), showUser: true },
    };
    this.sendResponse(response);
  }
}

/** A controller that aborts with `signal` and can also be aborted on its own; its signal is the one to pass on. */
function signalController(signal: AbortSignal): AbortController {
  const c = new AbortController();
  if (signal.aborted) c.abort();
  else signal.addEventListener('abort', () => c.abort(), { once: true });
  return c;
}
