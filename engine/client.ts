/**
 * Client side of the engine worker: starts the worker on first use, sends typed requests, relays progress, cancels
 * through a shared flag the worker polls between chunks, and stops the worker on dispose.
 */
import * as path from 'path';
import { Worker } from 'worker_threads';
import type {
  EngineAnswer,
  EngineProgress,
  EngineRequest,
  EngineResults,
  FromWorker,
  ToWorker,
} from '../protocol/engine';

export interface RequestOptions {
  onProgress?: (progress: EngineProgress) => void;
  signal?: AbortSignal;
}

interface Pending {
  resolve: (a: EngineAnswer<unknown>) => void;
  onProgress?: RequestOptions['onProgress'];
}

export class EngineClient {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  /**
   * `maxHeapMb` bounds the worker's JS heap (the snapshot's arrays live outside it). `workerFile` is the worker's
   * script: the one beside this module, as in the extension's bundle (the benchmark passes dist/worker.js).
   */
  constructor(
    private readonly maxHeapMb = 4096,
    private readonly workerFile = path.join(__dirname, 'worker.js'),
  ) {}

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.workerFile, { resourceLimits: { maxOldGenerationSizeMb: this.maxHeapMb } });
    w.on('message', (msg: FromWorker) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      if (msg.type === 'progress') {
        const { type: _type, id: _id, ...progress } = msg;
        p.onProgress?.(progress);
      } else {
        this.pending.delete(msg.id);
        p.resolve(msg.answer);
      }
    });
    const fail = (why: string) => {
      for (const p of this.pending.values()) p.resolve({ ok: false, error: why, code: 'memory' });
      this.pending.clear();
      this.worker = undefined;
    };
    w.on('error', (e) => fail(`the analysis stopped: ${e.message}`));
    w.on('exit', (code) => {
      if (this.pending.size)
        fail(`the analysis worker ended (exit code ${code}), most likely out of memory for this snapshot`);
      this.worker = undefined;
    });
    this.worker = w;
    return w;
  }

  /** Sends one request; resolves to its answer (errors come back as `{ ok: false }`, never as a rejection). */
  request<K extends EngineRequest['kind']>(
    request: Extract<EngineRequest, { kind: K }>,
    options: RequestOptions = {},
  ): Promise<EngineAnswer<EngineResults[K]>> {
    const w = this.start();
    const id = this.nextId++;
    const cancel = new SharedArrayBuffer(4);
    const flag = new Int32Array(cancel);
    return new Promise((resolve) => {
      const onAbort = () => Atomics.store(flag, 0, 1);
      if (options.signal?.aborted) onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: (a) => {
          options.signal?.removeEventListener('abort', onAbort);
          resolve(a as EngineAnswer<EngineResults[K]>);
        },
        onProgress: options.onProgress,
      });
      w.postMessage({ type: 'request', id, request, cancel } satisfies ToWorker);
    });
  }

  /** Stops the worker; pending requests are answered with an error. */
  async dispose(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    for (const p of this.pending.values()) p.resolve({ ok: false, error: 'the engine was stopped', code: 'cancelled' });
    this.pending.clear();
    if (w) await w.terminate();
  }
}
