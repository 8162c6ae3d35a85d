// Getting one heap snapshot out of the target: the cost check before it (budget.ts), the snapshot's chunks streamed
// over CDP to its file with back-pressure (or `v8.writeHeapSnapshot` run in the target), and the target's peak RSS
// after it. The session (session.ts) decides when and builds the sidecar; this module moves the bytes.
import { promises as fsp, type WriteStream } from 'fs';
import { checkCapture, FACTS_EXPRESSION, PEAK_RSS_EXPRESSION, type CaptureCost, type CaptureFacts } from './budget';
import { ConnectionClosedError, type CdpClient } from './cdp';
import { InProcessWriteError } from './sessionErrors';
import type { SnapshotJob } from './snapshotJob';

/** The options of a snapshot that concern its transfer; a subset of the session's `SnapshotOptions`. */
export interface TransferOptions {
  /** Called as V8 walks the heap; `done` counts up to `total` objects. */
  onProgress?: (done: number, total: number) => void;
  /** Take the snapshot V8 emits when allocation tracking stops, instead of a new one. */
  stopAllocationTracking?: boolean;
  /** Give up if the snapshot takes longer than this; 0, the default, waits as long as the target lives. */
  timeoutMs?: number;
}

/**
 * Receives the heap snapshots of one connection. V8's snapshot chunks carry no id, so it listens once, for the life of
 * the connection, and hands the chunks to the snapshot in progress; the caller runs one snapshot at a time.
 */
export class HeapSnapshotReceiver {
  private chunkSink: ((chunk: string) => void) | undefined;
  private progressSink: ((done: number, total: number) => void) | undefined;
  /** Objects and heap bytes of the last snapshot: the density that sizes the next one's cost. */
  private lastCapture: { objects: number; heapUsed: number } | undefined;
  private lastObjectTotal = 0;

  constructor(private readonly client: CdpClient) {
    client.on('HeapProfiler.addHeapSnapshotChunk', ({ chunk }) => this.chunkSink?.(chunk));
    client.on('HeapProfiler.reportHeapSnapshotProgress', ({ done, total }) => {
      this.lastObjectTotal = total;
      this.progressSink?.(done, total);
    });
  }

  /**
   * Refuses a snapshot that would not fit in the target's memory (budget.ts) with a `CaptureTooBigError`, unless
   * `force`; returns the cost to record, or undefined when the target could not say.
   */
  async checkCost(force: boolean): Promise<CaptureCost | undefined> {
    const reply = await this.client
      .send('Runtime.evaluate', {
        expression: FACTS_EXPRESSION,
        includeCommandLineAPI: true,
        returnByValue: true,
        silent: true,
      })
      .catch((error: unknown) => {
        if (error instanceof ConnectionClosedError) throw error;
        return undefined;
      });
    const facts = reply?.result.value as CaptureFacts | undefined;
    if (reply?.exceptionDetails || typeof facts?.heapUsed !== 'number') return undefined;
    return checkCapture(
      facts,
      this.lastCapture,
      force,
      'capture anyway with --force-capture (leak-lens run) or Capture Anyway (VS Code)',
    );
  }

  /** Adds what the capture really cost, and remembers its density for the next estimate. */
  async recordCost(cost: CaptureCost, heapUsed: number | undefined): Promise<void> {
    if (this.lastObjectTotal > 0 && heapUsed) this.lastCapture = { objects: this.lastObjectTotal, heapUsed };
    const reply = await this.client
      .send('Runtime.evaluate', { expression: PEAK_RSS_EXPRESSION, returnByValue: true, silent: true })
      .catch(() => undefined);
    const peak = reply?.result.value;
    if (typeof peak === 'number' && peak > 0) cost.peakRssBytes = peak;
  }

  /** Streams a snapshot taken through the inspector into `job`'s file, reading no faster than the disk writes. */
  async stream(job: SnapshotJob, stream: WriteStream, options: TransferOptions): Promise<void> {
    const client = this.client;
    this.lastObjectTotal = 0;
    // Whether the stream finished, failed or was destroyed by a cancel, no 'drain' will come to resume reading.
    stream.once('close', () => client.resume());
    this.chunkSink = (chunk) => {
      // After a cancel or a write error the rest of this snapshot still arrives; it is dropped here.
      if (job.aborted || job.writeError || stream.destroyed) return;
      if (!stream.write(chunk)) {
        // Back-pressure: stop reading the socket until the disk catches up, so chunks do not pile up here.
        client.pause();
        stream.once('drain', () => client.resume());
      }
    };
    this.progressSink = options.onProgress
      ? (done, total) => {
          if (!job.aborted) options.onProgress?.(done, total);
        }
      : undefined;
    try {
      // Progress is always asked for: its total is the object count that sizes the next capture's cost.
      const params = { reportProgress: true };
      const sendOptions = { timeoutMs: options.timeoutMs ?? 0 };
      if (options.stopAllocationTracking) {
        await client.send('HeapProfiler.stopTrackingHeapObjects', params, sendOptions);
      } else {
        await client.send('HeapProfiler.takeHeapSnapshot', params, sendOptions);
      }
    } finally {
      this.chunkSink = undefined;
      this.progressSink = undefined;
      client.resume();
    }
    if (job.aborted) return;
    await job.closeStream();
  }

  /**
   * Has the target write its own heap snapshot to `job`'s temporary file with `v8.writeHeapSnapshot`. Only for a
   * target that shares this file system and still runs tasks.
   */
  async writeInProcess(job: SnapshotJob, options: TransferOptions): Promise<void> {
    this.lastObjectTotal = 0;
    // process.getBuiltinModule exists from Node 20.16; before that, the command-line API's require does the job.
    const expression =
      `(globalThis.process.getBuiltinModule ? globalThis.process.getBuiltinModule('v8') : require('v8'))` +
      `.writeHeapSnapshot(${JSON.stringify(job.tempPath)})`;
    const reply = await this.client.send(
      'Runtime.evaluate',
      { expression, includeCommandLineAPI: true, returnByValue: true, silent: true },
      { timeoutMs: options.timeoutMs ?? 0 },
    );
    if (reply.exceptionDetails) {
      const why = reply.exceptionDetails.exception?.description ?? reply.exceptionDetails.text;
      throw new InProcessWriteError(`the target could not write its heap snapshot: ${why}`);
    }
    try {
      await fsp.access(job.tempPath);
    } catch {
      throw new InProcessWriteError(
        `the target reported writing ${job.tempPath}, but it is not there; a target on another machine or in a ` +
          `container cannot write into this file system, so use method "cdp" for it`,
      );
    }
  }
}
