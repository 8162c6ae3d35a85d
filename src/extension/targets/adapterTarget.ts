/**
 * A process in a `leak-lens` debug session: Leak Lens's own adapter holds the inspector connection in its process,
 * and this side asks it for snapshots, GCs and samples with custom DAP requests (protocol/adapter.ts).
 */
import * as vscode from 'vscode';
import type { CustomEvents, CustomRequests } from '../../../protocol/adapter';
import { UserError } from '../errors';
import { log } from '../log';
import {
  pushSample,
  type AllocationSamples,
  type ListeningAddress,
  type MemoryTarget,
  type SnapshotRequest,
  type TakenSnapshot,
} from './target';
import type { MemorySample, MemoryUsage } from '../../../protocol/memory';

export class AdapterTarget implements MemoryTarget {
  readonly kind = 'leak-lens';
  private info: CustomRequests['leakLens/targetInfo']['body'] | undefined;
  private connecting: Promise<void> | undefined;
  private readonly ring: MemorySample[] = [];
  private readonly progress = new Map<string, (done: number, total: number) => void>();
  private readonly sampleEmitter = new vscode.EventEmitter<MemorySample>();
  private readonly stateEmitter = new vscode.EventEmitter<void>();
  private readonly endEmitter = new vscode.EventEmitter<void>();
  readonly onDidSample = this.sampleEmitter.event;
  readonly onDidChangeState = this.stateEmitter.event;
  readonly onDidEnd = this.endEmitter.event;
  ended = false;
  programFinished = false;

  constructor(readonly session: vscode.DebugSession) {}

  get label(): string {
    const pid = this.pid;
    return pid !== undefined ? `${this.session.name} (pid ${pid})` : this.session.name;
  }

  get pid(): number | undefined {
    return this.info?.pid;
  }

  get trackingAllocations(): boolean {
    return this.info?.trackingAllocations ?? false;
  }

  get samples(): readonly MemorySample[] {
    return this.ring;
  }

  private async request<K extends keyof CustomRequests>(
    command: K,
    args: CustomRequests[K]['args'],
  ): Promise<CustomRequests[K]['body']> {
    if (this.ended) throw this.endedError();
    try {
      return (await this.session.customRequest(command, args)) as CustomRequests[K]['body'];
    } catch (error) {
      if (this.ended) throw this.endedError();
      throw error;
    }
  }

  ready(): Promise<void> {
    this.connecting ??= this.request('leakLens/targetInfo', {}).then(
      (info) => {
        this.info = info;
      },
      (error: unknown) => {
        this.connecting = undefined;
        throw error;
      },
    );
    return this.connecting;
  }

  /** Called by the registry with this session's custom events. */
  handleEvent(event: string, body: unknown): void {
    if (event === 'leakLens/memorySample') {
      const sample = body as CustomEvents['leakLens/memorySample'];
      pushSample(this.ring, sample);
      this.sampleEmitter.fire(sample);
    } else if (event === 'leakLens/snapshotProgress') {
      const p = body as CustomEvents['leakLens/snapshotProgress'];
      this.progress.get(p.file)?.(p.done, p.total);
    } else if (event === 'leakLens/programFinished') {
      this.programFinished = true;
    }
  }

  async takeSnapshot(file: string, request: SnapshotRequest): Promise<TakenSnapshot> {
    await this.ready();
    if (request.onProgress) this.progress.set(file, request.onProgress);
    const onAbort = (): void => void this.request('leakLens/cancelSnapshot', { file }).catch(() => undefined);
    request.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const body = await this.request('leakLens/takeSnapshot', {
        file,
        label: request.label,
        ...(request.workers ? { workers: true } : {}),
        ...(request.force ? { force: true } : {}),
      });
      const notes = this.programFinished
        ? ['The program had already finished, so no garbage collection ran before this snapshot.']
        : [];
      // The adapter gives each worker a capture of its own for as long as the session lives: its id tells workers apart.
      const workers = body.workers?.map((w) => ({
        name: w.name,
        key: w.sessionId,
        file: w.file,
        fileSize: w.fileSize,
      }));
      return {
        file: body.file,
        fileSize: body.fileSize,
        durationMs: body.durationMs,
        pid: body.pid,
        memoryUsage: body.memoryUsage,
        notes,
        ...(workers ? { workers } : {}),
      };
    } catch (error) {
      if (request.signal?.aborted) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
      if ((error as Error)?.message === 'cancelled')
        throw new Error('the target closed the inspector connection while taking a snapshot', { cause: error });
      // The session may end before the adapter's own answer arrives; either way the program is gone.
      if (this.ended)
        throw new Error('the target closed the inspector connection while taking a snapshot', { cause: error });
      throw error;
    } finally {
      request.signal?.removeEventListener('abort', onAbort);
      this.progress.delete(file);
    }
  }

  async collectGarbage(): Promise<{ before: MemoryUsage; after: MemoryUsage }> {
    await this.ready();
    return this.request('leakLens/collectGarbage', {});
  }

  async memoryUsage(): Promise<MemoryUsage> {
    await this.ready();
    return this.request('leakLens/memoryUsage', {});
  }

  async listeningAddresses(): Promise<ListeningAddress[]> {
    await this.ready();
    return (await this.request('leakLens/listeningAddresses', {})).addresses;
  }

  async startAllocationTracking(): Promise<void> {
    await this.ready();
    await this.request('leakLens/startAllocationTracking', {});
    if (this.info) this.info.trackingAllocations = true;
    this.stateEmitter.fire();
  }

  async stopAllocationTracking(): Promise<void> {
    await this.ready();
    await this.request('leakLens/stopAllocationTracking', {});
    if (this.info) this.info.trackingAllocations = false;
    this.stateEmitter.fire();
  }

  async startAllocationSampling(intervalBytes: number): Promise<void> {
    await this.ready();
    await this.request('leakLens/startAllocationSampling', { interval: intervalBytes });
  }

  async readAllocationSampling(sourceMaps: boolean): Promise<AllocationSamples> {
    await this.ready();
    return this.request('leakLens/readAllocationSampling', sourceMaps ? { sourceMaps: true } : {});
  }

  async stopAllocationSampling(): Promise<void> {
    if (this.ended) return;
    await this.request('leakLens/stopAllocationSampling', {});
  }

  startSampling(intervalMs: number): void {
    void this.ready()
      .then(() => this.request('leakLens/startSampling', { intervalMs }))
      .catch((error: unknown) =>
        log().warn(`cannot sample the memory of ${this.session.name}: ${(error as Error).message}`),
      );
  }

  stopSampling(): void {
    if (!this.ended) void this.request('leakLens/stopSampling', {}).catch(() => undefined);
  }

  private endedError(): UserError {
    return new UserError(
      `The debug session "${this.session.name}" has ended. Start the program again to keep working on its memory.`,
    );
  }

  dispose(): void {
    if (!this.ended) {
      this.ended = true;
      this.endEmitter.fire();
    }
    this.sampleEmitter.dispose();
    this.stateEmitter.dispose();
    this.endEmitter.dispose();
  }
}
