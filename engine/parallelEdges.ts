/**
 * The main thread's side of a parallel parse: the edge columns and retainer index in shared memory, the second
 * thread (parse-worker.ts) that reads the edges section into them, and waiting for it. Control slots are parse-worker.ts's Ctl.
 */
import * as path from 'path';
import { Worker } from 'worker_threads';
import type { ParseWorkerData } from './parse-worker';
import { CancelledError } from '../protocol/cancel';
import { SnapshotParseError } from './parseErrors';
import type { RawSnapshot, SnapshotHeader } from './rawSnapshot';
import { claimRetainerBlocks } from './retainers';

/** The main thread's side of a parallel parse: shared columns, the worker, and waiting for it. */
export class ParallelEdges {
  readonly columns: { firstEdge: Uint32Array; edgeType: Uint8Array; edgeName: Uint32Array; edgeTo: Uint32Array };
  private readonly ctl: Int32Array;
  private readonly error: Uint8Array;
  private readonly worker: Worker;
  private readonly retainerBuffers: { first: SharedArrayBuffer; edge: SharedArrayBuffer; node: SharedArrayBuffer };

  constructor(
    private readonly file: string,
    header: SnapshotHeader,
    startOffset: number,
    chunkSize: number,
  ) {
    const n = header.node_count;
    const m = header.edge_count;
    const sab = (bytes: number) => new SharedArrayBuffer(Math.max(4, bytes));
    const b = {
      control: sab(32),
      error: sab(4096),
      firstEdge: sab(4 * (n + 1)),
      edgeType: sab(m),
      edgeName: sab(4 * m),
      edgeTo: sab(4 * m),
    };
    this.retainerBuffers = { first: sab(4 * (n + 1)), edge: sab(4 * m), node: sab(4 * m) };
    this.ctl = new Int32Array(b.control);
    this.error = new Uint8Array(b.error);
    this.columns = {
      firstEdge: new Uint32Array(b.firstEdge),
      edgeType: new Uint8Array(b.edgeType),
      edgeName: new Uint32Array(b.edgeName),
      edgeTo: new Uint32Array(b.edgeTo),
    };
    const data: ParseWorkerData = {
      file,
      header,
      startOffset,
      chunkSize,
      ...b,
      firstRetainer: this.retainerBuffers.first,
      retainerEdge: this.retainerBuffers.edge,
      retainerNode: this.retainerBuffers.node,
    };
    this.worker = new Worker(path.join(__dirname, 'parse-worker.js'), { workerData: data });
    this.worker.unref();
    this.worker.on('error', (e) => {
      // A crash before the worker could report: record it so wait() fails with it.
      if (Atomics.load(this.ctl, 0) === 0) {
        this.error.set(
          Buffer.from(JSON.stringify({ message: `the edges reader failed: ${e.message}`, offset: -1 }).slice(0, 4000)),
        );
        Atomics.store(this.ctl, 0, -1);
      }
    });
  }

  nodesDone(): void {
    Atomics.store(this.ctl, 1, 1);
    Atomics.notify(this.ctl, 1);
  }

  /** Throws the worker's error early, if it already failed. */
  check(): void {
    if (Atomics.load(this.ctl, 0) === -1) this.fail();
  }

  private fail(): never {
    const text = Buffer.from(this.error).toString('utf8').replace(/\0+$/, '');
    let e: { message: string; offset: number } = { message: 'the edges reader failed', offset: -1 };
    try {
      e = JSON.parse(text) as typeof e;
    } catch {
      /* keep the generic message */
    }
    throw new SnapshotParseError(this.file, e.offset, e.message);
  }

  wait(shouldCancel?: () => boolean): NonNullable<RawSnapshot['retainers']> {
    let helped = false;
    while (Atomics.load(this.ctl, 0) === 0) {
      if (shouldCancel?.()) throw new CancelledError();
      if (!helped && Atomics.load(this.ctl, 3) === 1) {
        // Slots 3-5 (parse-worker.ts, Ctl): fill ready, next block, blocks done. This thread is free: take a share.
        helped = true;
        const c = this.columns;
        const r = this.retainerBuffers;
        claimRetainerBlocks(
          this.ctl,
          4,
          5,
          c.firstEdge,
          c.edgeTo,
          new Uint32Array(r.first),
          new Uint32Array(r.edge),
          new Uint32Array(r.node),
        );
        continue;
      }
      // The worker wakes this wait when the fill becomes ready, as well as when it is done.
      Atomics.wait(this.ctl, 0, 0, 50);
    }
    if (Atomics.load(this.ctl, 0) === -1) this.fail();
    void this.worker.terminate();
    return {
      firstRetainer: new Uint32Array(this.retainerBuffers.first),
      retainerEdge: new Uint32Array(this.retainerBuffers.edge),
      retainerNode: new Uint32Array(this.retainerBuffers.node),
    };
  }

  stop(): void {
    Atomics.store(this.ctl, 2, 1);
    Atomics.notify(this.ctl, 1);
    void this.worker.terminate();
  }
}
