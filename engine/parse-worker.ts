/**
 * Second thread of a parallel parse: reads the `edges` section of a snapshot into shared columns while the main
 * thread reads nodes and strings, then builds the retainer (reverse edge) index, which needs the first-edge offsets
 * the main thread publishes when its nodes section is complete. Control and errors go through shared memory, so the
 * main thread can wait synchronously (Atomics.wait).
 */
import * as fs from 'fs';
import { workerData } from 'worker_threads';
import { SnapshotParseError } from './parseErrors';
import type { SnapshotHeader } from './rawSnapshot';
import { SnapshotParser } from './snapshotParser';
import { claimRetainerBlocks, countRetainers, RETAINER_BLOCKS } from './retainers';

/** Slots of the shared control array. */
export const enum Ctl {
  /** 0 running, 1 done, -1 failed. */
  State = 0,
  /** Set to 1 by the main thread once first-edge offsets are final. */
  NodesDone = 1,
  /** Set to 1 by the main thread to stop this worker. */
  Cancel = 2,
  /** Set to 1 by this worker once the retainer fill may start (retainers counted, first-edge offsets final). */
  FillReady = 3,
  /** Next block of the retainer fill to claim, and blocks filled (retainers.ts: claimRetainerBlocks). */
  NextBlock = 4,
  BlocksDone = 5,
}

export interface ParseWorkerData {
  file: string;
  header: SnapshotHeader;
  startOffset: number;
  chunkSize: number;
  control: SharedArrayBuffer;
  error: SharedArrayBuffer;
  firstEdge: SharedArrayBuffer;
  edgeType: SharedArrayBuffer;
  edgeName: SharedArrayBuffer;
  edgeTo: SharedArrayBuffer;
  firstRetainer: SharedArrayBuffer;
  retainerEdge: SharedArrayBuffer;
  retainerNode: SharedArrayBuffer;
}

const EDGES_KEY = Buffer.from('"edges"');

function run(d: ParseWorkerData): void {
  const ctl = new Int32Array(d.control);
  const firstEdge = new Uint32Array(d.firstEdge);
  const edgeTo = new Uint32Array(d.edgeTo);
  const parser = new SnapshotParser(d.file);
  parser.beginEdgesOnly(d.header, {
    firstEdge,
    edgeType: new Uint8Array(d.edgeType),
    edgeName: new Uint32Array(d.edgeName),
    edgeTo,
  });
  // The main thread checked that this is a regular file; never block on whatever may have replaced it since.
  const fd = fs.openSync(d.file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  try {
    const buf = Buffer.allocUnsafe(d.chunkSize);
    let offset = d.startOffset;
    let found = false;
    for (;;) {
      if (Atomics.load(ctl, Ctl.Cancel)) return;
      const n = fs.readSync(fd, buf, 0, buf.length, offset);
      if (n === 0)
        throw new SnapshotParseError(
          d.file,
          offset,
          'the file ends inside the "edges" section: the snapshot is truncated (was the capture interrupted?)',
        );
      let chunk = n === buf.length ? buf : buf.subarray(0, n);
      let chunkOffset = offset;
      if (!found) {
        // Numeric sections hold no quotes, so the first `"edges"` after the nodes section is its key.
        const at = chunk.indexOf(EDGES_KEY);
        if (at < 0) {
          // Step back a little so a key cut by the chunk boundary is found in the next read.
          offset += Math.max(1, n - EDGES_KEY.length);
          continue;
        }
        const colon = chunk.indexOf(0x3a, at + EDGES_KEY.length);
        if (colon < 0) {
          offset += at;
          continue;
        }
        found = true;
        chunk = chunk.subarray(colon + 1);
        chunkOffset = offset + colon + 1;
      }
      parser.feed(chunk, chunkOffset);
      offset += n;
      if (!parser.inEdges) break;
    }
    if (!parser.edgesComplete())
      throw new SnapshotParseError(d.file, offset, 'malformed snapshot: the "edges" section is incomplete');
  } finally {
    fs.closeSync(fd);
  }
  // Retainer index: the counting pass needs only the edges; the fill pass needs the owner of each edge, from the
  // main thread's first-edge offsets.
  const first = new Uint32Array(d.firstRetainer);
  countRetainers(edgeTo, first);
  while (Atomics.load(ctl, Ctl.NodesDone) === 0) {
    if (Atomics.load(ctl, Ctl.Cancel)) return;
    Atomics.wait(ctl, Ctl.NodesDone, 0, 100);
  }
  // The main thread helps with the fill if it has finished its own sections: both claim blocks of targets.
  Atomics.store(ctl, Ctl.FillReady, 1);
  Atomics.notify(ctl, Ctl.State);
  claimRetainerBlocks(
    ctl,
    Ctl.NextBlock,
    Ctl.BlocksDone,
    firstEdge,
    edgeTo,
    first,
    new Uint32Array(d.retainerEdge),
    new Uint32Array(d.retainerNode),
  );
  for (let filled; (filled = Atomics.load(ctl, Ctl.BlocksDone)) < RETAINER_BLOCKS;) {
    if (Atomics.load(ctl, Ctl.Cancel)) return;
    Atomics.wait(ctl, Ctl.BlocksDone, filled, 100);
  }
}

const data = workerData as ParseWorkerData | undefined;
if (data) {
  const ctl = new Int32Array(data.control);
  try {
    run(data);
    Atomics.store(ctl, Ctl.State, 1);
  } catch (e) {
    const err = e as SnapshotParseError;
    const text = JSON.stringify({ message: err.reason ?? err.message, offset: err.offset ?? -1 });
    const bytes = Buffer.from(text.slice(0, 4000));
    new Uint8Array(data.error).set(bytes);
    Atomics.store(ctl, Ctl.State, -1);
  }
  Atomics.notify(ctl, Ctl.State);
}
