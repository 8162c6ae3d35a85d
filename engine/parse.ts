/**
 * Streaming parser for V8 `.heapsnapshot` files.
 *
 * Reads the file in fixed-size chunks and turns it into flat typed arrays (one column per node or edge field) and a
 * byte-pooled string table, without ever holding the file, or any section of it, as one JS string. Field offsets come
 * from `snapshot.meta`; unknown sections are skipped; unknown node types are kept as their numeric code.
 * Time O(file size), memory O(nodes + edges + string bytes).
 */
import * as fs from 'fs';
import * as path from 'path';
import { ParallelEdges } from './parallelEdges';
import { CancelledError } from '../protocol/cancel';
import { SnapshotParseError } from './parseErrors';
import type { RawSnapshot } from './rawSnapshot';
import { openRegularFile } from './safeRead';
import { checkEdgeNames, SnapshotParser } from './snapshotParser';

export interface ParseOptions {
  /** Called after each chunk with bytes read so far and the file size. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Polled after each chunk; returning true stops the parse with a CancelledError. */
  shouldCancel?: () => boolean;
  /** Read size in bytes (default 8 MiB). */
  chunkSize?: number;
  /** Read the edges section and build retainers on a second thread (default: for files over 24 MiB). */
  parallel?: boolean;
}

/**
 * Parses a `.heapsnapshot` file synchronously (run it in a worker or child process for large files).
 * Throws SnapshotParseError for anything that is not a complete, well-formed snapshot, and CancelledError on cancel.
 */
export function parseSnapshotFile(file: string, options: ParseOptions = {}): RawSnapshot {
  // A FIFO, a device or a folder is refused before anything is read (opening never blocks).
  const opened = openRegularFile(file);
  if (!opened.ok) {
    const what =
      opened.code === 'ENOENT'
        ? 'no such file; check the path'
        : opened.code === 'EISDIR'
          ? 'is a folder, not a snapshot file; pass the .heapsnapshot file inside it'
          : opened.code === 'EACCES' || opened.code === 'EPERM'
            ? 'cannot be read (permission denied); check its permissions'
            : opened.code === 'ENOTREG'
              ? `${opened.reason}; save the snapshot to a file and pass that`
              : `cannot be read (${opened.reason})`;
    throw new SnapshotParseError(file, -1, what);
  }
  const fd = opened.fd;
  let helper: ParallelEdges | undefined;
  try {
    const size = opened.size;
    if (size === 0)
      throw new SnapshotParseError(file, 0, 'the file is empty: the capture wrote nothing; capture the snapshot again');
    const parser = new SnapshotParser(file);
    parser.fileSize = size;
    const chunkSize = options.chunkSize ?? 8 << 20;
    const buf = Buffer.allocUnsafe(chunkSize);
    let offset = 0;
    const parallel = options.parallel ?? size > 24 << 20;
    if (parallel && fs.existsSync(path.join(__dirname, 'parse-worker.js'))) {
      parser.onHeader = (header) => {
        helper = new ParallelEdges(file, header, offset, chunkSize);
        parser.columns = helper.columns;
        parser.edgesExternal = true;
        parser.onNodesDone = () => helper!.nodesDone();
      };
    }
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, offset);
      if (n === 0) break;
      parser.feed(n === buf.length ? buf : buf.subarray(0, n), offset);
      offset += n;
      options.onProgress?.(offset, size);
      if (options.shouldCancel?.()) throw new CancelledError();
      helper?.check();
    }
    const raw = parser.finish(offset);
    if (helper) {
      raw.retainers = helper.wait(options.shouldCancel);
      checkEdgeNames(file, raw.header, raw.edgeType, raw.edgeName, raw.strings.length);
    }
    return raw;
  } catch (e) {
    helper?.stop();
    throw e;
  } finally {
    fs.closeSync(fd);
  }
}
