// A small Chrome DevTools Protocol client over one WebSocket, enough to drive a Node inspector.
// It knows the shapes of the commands and events that capture uses; anything else goes through sendRaw.
import WebSocket from 'ws';
import type { SamplingProfile } from '../../protocol/report';

/** Something that can be undone: an event subscription, a timer, a sampler. */
export interface Disposable {
  dispose(): void;
}

/** A value as `Runtime.evaluate` returns it (only the parts capture reads). */
export interface RemoteObject {
  type: string;
  subtype?: string;
  value?: unknown;
  description?: string;
}

/** The exception half of a `Runtime.evaluate` reply. */
export interface ExceptionDetails {
  text: string;
  exception?: RemoteObject;
}

/** The commands capture sends, with their parameters and results. */
export interface CdpCommands {
  'Runtime.enable': { params: Record<string, never>; result: Record<string, never> };
  'Runtime.evaluate': {
    params: {
      expression: string;
      returnByValue?: boolean;
      awaitPromise?: boolean;
      silent?: boolean;
      includeCommandLineAPI?: boolean;
      timeout?: number;
      /** Remote objects the evaluation makes belong to this group, until `Runtime.releaseObjectGroup`. */
      objectGroup?: string;
    };
    result: { result: RemoteObject; exceptionDetails?: ExceptionDetails };
  };
  'Runtime.releaseObjectGroup': { params: { objectGroup: string }; result: Record<string, never> };
  'Runtime.runIfWaitingForDebugger': { params: Record<string, never>; result: Record<string, never> };
  'Runtime.discardConsoleEntries': { params: Record<string, never>; result: Record<string, never> };
  'Runtime.getHeapUsage': { params: Record<string, never>; result: { usedSize: number; totalSize: number } };
  'Debugger.enable': { params: { maxScriptsCacheSize?: number }; result: { debuggerId?: string } };
  'Debugger.setSkipAllPauses': { params: { skip: boolean }; result: Record<string, never> };
  'Debugger.disable': { params: Record<string, never>; result: Record<string, never> };
  'HeapProfiler.enable': { params: Record<string, never>; result: Record<string, never> };
  'NodeWorker.enable': { params: { waitForDebuggerOnStart: boolean }; result: Record<string, never> };
  'HeapProfiler.collectGarbage': { params: Record<string, never>; result: Record<string, never> };
  'HeapProfiler.startSampling': { params: { samplingInterval?: number }; result: Record<string, never> };
  'HeapProfiler.getSamplingProfile': { params: Record<string, never>; result: { profile: SamplingProfile } };
  'HeapProfiler.stopSampling': { params: Record<string, never>; result: { profile: SamplingProfile } };
  'HeapProfiler.takeHeapSnapshot': {
    params: { reportProgress?: boolean; captureNumericValue?: boolean; exposeInternals?: boolean };
    result: Record<string, never>;
  };
  'HeapProfiler.startTrackingHeapObjects': { params: { trackAllocations?: boolean }; result: Record<string, never> };
  'HeapProfiler.stopTrackingHeapObjects': {
    params: { reportProgress?: boolean; captureNumericValue?: boolean; exposeInternals?: boolean };
    result: Record<string, never>;
  };
}

/** The events capture listens to, with their parameters. */
export interface CdpEvents {
  'Debugger.scriptParsed': {
    scriptId: string;
    url: string;
    hash: string;
    sourceMapURL?: string;
    executionContextId?: number;
  };
  'Debugger.paused': { reason: string };
  'Debugger.resumed': Record<string, never>;
  'HeapProfiler.addHeapSnapshotChunk': { chunk: string };
  'HeapProfiler.reportHeapSnapshotProgress': { done: number; total: number; finished?: boolean };
  'HeapProfiler.lastSeenObjectId': { lastSeenObjectId: number; timestamp: number };
  'Runtime.executionContextCreated': {
    context: { id: number; name: string; origin: string; auxData?: { isDefault?: boolean } };
  };
  'Runtime.executionContextDestroyed': { executionContextId: number };
  'NodeWorker.attachedToWorker': {
    sessionId: string;
    workerInfo: { workerId: string; type: string; title: string; url: string };
    waitingForDebugger: boolean;
  };
  'NodeWorker.detachedFromWorker': { sessionId: string };
  'NodeWorker.receivedMessageFromWorker': { sessionId: string; message: string; workerId?: string };
}

/** Per-call options. */
export interface SendOptions {
  /** Reject if no reply arrives within this many milliseconds; 0 waits for ever. Defaults to the client's default. */
  timeoutMs?: number;
}

/** Options for {@link CdpClient.connect}. */
export interface ConnectOptions {
  /** How long the WebSocket handshake may take. Defaults to 10 s. */
  timeoutMs?: number;
  /** The timeout of calls that do not give their own. Defaults to 30 s. */
  defaultCallTimeoutMs?: number;
  /** Where exceptions thrown by event handlers go. Defaults to a process warning. */
  onHandlerError?: (error: unknown) => void;
}

/** Opens a CDP connection to an inspector URL; the same as {@link CdpClient.connect}. */
export function connect(url: string, options?: ConnectOptions): Promise<CdpClient> {
  return CdpClient.connect(url, options);
}

/** A command the target answered with a protocol error. */
export class CdpError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    protocolMessage: string,
  ) {
    super(`${method} failed: ${protocolMessage}`);
    this.name = 'CdpError';
  }
}

/** The inspector connection could not be opened, or closed before a call got its reply. */
export class ConnectionClosedError extends Error {
  constructor(
    message: string,
    /** True when this side closed the connection (`close()`), false when the target or the network did. */
    readonly byThisSide = false,
  ) {
    super(message);
    this.name = 'ConnectionClosedError';
  }
}

/** A call got no reply in time. */
export class CdpTimeoutError extends Error {
  constructor(
    readonly method: string,
    readonly timeoutMs: number,
  ) {
    super(`${method} got no reply from the target within ${timeoutMs} ms`);
    this.name = 'CdpTimeoutError';
  }
}

/**
 * The calls sent on one CDP channel and not answered yet, by message id: a call settles once, by its reply, its
 * timeout, or the channel closing. Shared by the inspector connection and the worker channels relayed through it.
 */
export class PendingCalls {
  private nextId = 1;
  private readonly calls = new Map<
    number,
    { method: string; resolve(result: unknown): void; reject(error: Error): void; timer: NodeJS.Timeout | undefined }
  >();

  /**
   * Starts a call: `transmit` sends it with the id given; the promise settles with the reply, or rejects after
   * `timeoutMs` (0: never), or when transmit throws or rejects.
   */
  start(method: string, timeoutMs: number, transmit: (id: number) => void | Promise<unknown>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs > 0
          ? setTimeout(() => this.settle(id, undefined, new CdpTimeoutError(method, timeoutMs)), timeoutMs)
          : undefined;
      this.calls.set(id, { method, resolve, reject, timer });
      try {
        const sent = transmit(id);
        if (sent) sent.catch((error: Error) => this.settle(id, undefined, error));
      } catch (error) {
        this.settle(id, undefined, error as Error);
      }
    });
  }

  /** The method of a pending call, if `id` is one. */
  method(id: number): string | undefined {
    return this.calls.get(id)?.method;
  }

  /** Settles a call (a reply, or an error); an unknown or settled id is ignored. */
  settle(id: number, result: unknown, error?: Error): void {
    const call = this.calls.get(id);
    if (!call) return;
    this.calls.delete(id);
    if (call.timer) clearTimeout(call.timer);
    if (error) call.reject(error);
    else call.resolve(result);
  }

  /** A reply as CDP sends it: the result, or the error it carries. */
  reply(message: { id: number; result?: unknown; error?: { code: number; message: string } }): void {
    const method = this.method(message.id);
    if (method === undefined) return;
    this.settle(
      message.id,
      message.result,
      message.error ? new CdpError(method, message.error.code, message.error.message) : undefined,
    );
  }

  /** Rejects every pending call with the error `why` makes for its method. */
  rejectAll(why: (method: string) => Error): void {
    for (const [id, call] of [...this.calls]) this.settle(id, undefined, why(call.method));
  }
}

interface ProtocolMessage {
  id?: number;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: string };
}

/**
 * One CDP connection. Replies are matched to calls by id; every pending call is rejected with a
 * {@link ConnectionClosedError} as soon as the socket closes, so no caller waits for ever on a dead target.
 */
export class CdpClient {
  private readonly pending = new PendingCalls();
  private readonly handlers = new Map<string, Set<(params: unknown) => void>>();
  private readonly closeHandlers = new Set<(reason: string) => void>();
  private closeReason: string | undefined;
  private closedByUs = false;
  private readonly closed: Promise<void>;

  private constructor(
    private readonly socket: WebSocket,
    readonly url: string,
    private readonly defaultCallTimeoutMs: number,
    private readonly onHandlerError: (error: unknown) => void,
  ) {
    socket.on('message', (data, isBinary) => this.receive(data, isBinary));
    this.closed = new Promise((resolve) => {
      socket.once('close', (code, reason) => {
        const text = reason.length > 0 ? `${code} ${reason.toString()}` : String(code);
        this.shutDown(`the socket closed (${text})`);
        resolve();
      });
    });
    // After the handshake, socket errors are always followed by 'close', which does the cleanup.
    socket.on('error', () => undefined);
  }

  /** Opens a WebSocket to an inspector URL (`ws://host:port/<id>`). */
  static connect(url: string, options: ConnectOptions = {}): Promise<CdpClient> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      // The inspector sends no compressed frames, and big evaluate results are legitimate, so allow 1 GB frames.
      const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1024 * 1024 * 1024 });
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new Error(`could not connect to the inspector at ${url}: no handshake within ${timeoutMs} ms`));
      }, timeoutMs);
      const fail = (error: Error): void => {
        clearTimeout(timer);
        reject(new ConnectionClosedError(`could not connect to the inspector at ${url}: ${error.message}`));
      };
      socket.once('error', fail);
      socket.once('unexpected-response', (_request, response) => {
        socket.terminate();
        fail(new Error(`the server answered HTTP ${response.statusCode ?? '?'} instead of opening a WebSocket`));
      });
      socket.once('open', () => {
        clearTimeout(timer);
        socket.off('error', fail);
        const onHandlerError =
          options.onHandlerError ??
          ((error: unknown) => process.emitWarning(`leak-lens: a CDP event handler threw: ${String(error)}`));
        resolve(new CdpClient(socket, url, options.defaultCallTimeoutMs ?? 30_000, onHandlerError));
      });
    });
  }

  /** True once the socket has closed; every later call rejects at once. */
  get isClosed(): boolean {
    return this.closeReason !== undefined;
  }

  /** Sends a command capture knows the shape of. */
  send<M extends keyof CdpCommands>(
    method: M,
    params: CdpCommands[M]['params'],
    options: SendOptions = {},
  ): Promise<CdpCommands[M]['result']> {
    return this.sendRaw(method, params, options) as Promise<CdpCommands[M]['result']>;
  }

  /** Sends any command; the caller vouches for the result's shape. */
  sendRaw(method: string, params: object = {}, options: SendOptions = {}): Promise<unknown> {
    if (this.closeReason !== undefined) {
      return Promise.reject(
        new ConnectionClosedError(`cannot send ${method}: the inspector connection is closed (${this.closeReason})`),
      );
    }
    const timeoutMs = options.timeoutMs ?? this.defaultCallTimeoutMs;
    return this.pending.start(method, timeoutMs, (id) => {
      this.socket.send(JSON.stringify({ id, method, params }), (error) => {
        if (error)
          this.pending.settle(id, undefined, new ConnectionClosedError(`could not send ${method}: ${error.message}`));
      });
    });
  }

  /** Calls `handler` for each `event` until the returned disposable is disposed. */
  on<E extends keyof CdpEvents>(event: E, handler: (params: CdpEvents[E]) => void): Disposable {
    let set = this.handlers.get(event);
    if (!set) {
      set = new Set();
      this.handlers.set(event, set);
    }
    const untyped = handler as (params: unknown) => void;
    set.add(untyped);
    return { dispose: () => void set.delete(untyped) };
  }

  /** Calls `handler` once, when the connection closes for any reason. */
  onClose(handler: (reason: string) => void): Disposable {
    if (this.closeReason !== undefined) {
      const reason = this.closeReason;
      queueMicrotask(() => handler(reason));
      return { dispose: () => undefined };
    }
    this.closeHandlers.add(handler);
    return { dispose: () => void this.closeHandlers.delete(handler) };
  }

  /**
   * Stops reading from the socket, so the sender feels TCP back-pressure. A few already-buffered messages may
   * still arrive after this call.
   */
  pause(): void {
    if (!this.socket.isPaused && this.closeReason === undefined) this.socket.pause();
  }

  /** Undoes {@link pause}. */
  resume(): void {
    if (this.socket.isPaused) this.socket.resume();
  }

  /** Closes the connection and resolves once the socket is gone. Pending calls reject. */
  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return this.closed;
    this.closedByUs = true;
    this.resume();
    this.socket.close();
    // A target that stopped answering would keep the closing handshake open; do not wait for it long.
    const timer = setTimeout(() => this.socket.terminate(), 1_000);
    await this.closed;
    clearTimeout(timer);
  }

  private receive(data: WebSocket.RawData, isBinary: boolean): void {
    if (isBinary) return;
    let message: ProtocolMessage;
    try {
      message = JSON.parse(data.toString()) as ProtocolMessage;
    } catch {
      return;
    }
    if (typeof message.id === 'number') {
      this.pending.reply({ id: message.id, result: message.result, error: message.error });
      return;
    }
    if (typeof message.method !== 'string') return;
    const set = this.handlers.get(message.method);
    if (!set) return;
    for (const handler of [...set]) {
      try {
        handler(message.params);
      } catch (error) {
        this.onHandlerError(error);
      }
    }
  }

  private shutDown(reason: string): void {
    if (this.closeReason !== undefined) return;
    this.closeReason = reason;
    this.pending.rejectAll(
      (method) =>
        new ConnectionClosedError(
          this.closedByUs
            ? `the inspector connection was closed by this side while waiting for ${method}`
            : `the target closed the inspector connection while waiting for ${method}`,
          this.closedByUs,
        ),
    );
    for (const handler of [...this.closeHandlers]) {
      try {
        handler(reason);
      } catch (error) {
        this.onHandlerError(error);
      }
    }
    this.closeHandlers.clear();
    this.handlers.clear();
  }
}
