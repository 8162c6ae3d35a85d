// The files of one snapshot in the making: a hidden `.partial` file beside the snapshot's place, renamed into place
// when the snapshot is complete, then its sidecar. A failure, a cancel or a full disk removes everything it made.
// Used for the main thread (session.ts) and for worker threads (workers.ts) alike.
import { randomBytes } from 'crypto';
import { promises as fsp, type WriteStream } from 'fs';
import type { FileHandle } from 'fs/promises';
import * as path from 'path';
import { sidecarPath, type SnapshotSidecar } from '../../protocol/sidecar';
import { writeSidecar } from './sidecarFile';

/** What a snapshot produced: the snapshot file, its sidecar's path and the sidecar. */
export interface SnapshotResult {
  filePath: string;
  metaPath: string;
  meta: SnapshotSidecar;
}

const writeHighWaterMark = 16 * 1024 * 1024;

/** The files of one snapshot in the making: the temporary file, then the snapshot and its sidecar. */
export class SnapshotJob {
  /** True once the caller's promise has been settled. */
  settled = false;
  /** True once the caller cancelled; everything the job made must go. */
  aborted = false;
  writeError: Error | undefined;
  readonly tempPath: string;
  readonly metaPath: string;
  private stream: WriteStream | undefined;
  private committed = false;

  constructor(readonly filePath: string) {
    // A dot-file in the same directory: the final rename stays on one file system, so it is atomic.
    const suffix = randomBytes(4).toString('hex');
    this.tempPath = path.join(path.dirname(filePath), `.${path.basename(filePath)}.${suffix}.partial`);
    this.metaPath = sidecarPath(filePath);
  }

  async openStream(): Promise<WriteStream> {
    let handle: FileHandle;
    try {
      handle = await fsp.open(this.tempPath, 'wx');
    } catch (error) {
      throw new Error(`cannot write a snapshot beside ${this.filePath}: ${(error as Error).message}`, { cause: error });
    }
    const stream = handle.createWriteStream({ highWaterMark: writeHighWaterMark });
    stream.on('error', (error) => {
      this.writeError ??= new Error(`could not write the snapshot to ${this.tempPath}: ${error.message}`, {
        cause: error,
      });
    });
    this.stream = stream;
    return stream;
  }

  async closeStream(): Promise<void> {
    const stream = this.stream;
    if (!stream) return;
    if (this.writeError) throw this.writeError;
    await new Promise<void>((resolve, reject) => {
      stream.end((error?: Error | null) => (error ? reject(error) : resolve()));
    }).catch((error: Error) => {
      throw this.writeError ?? error;
    });
    await waitForClose(stream);
    if (this.writeError) throw this.writeError;
  }

  /** Renames the finished snapshot into place, then writes the sidecar the same way. */
  async commit(meta: SnapshotSidecar): Promise<void> {
    await fsp.rename(this.tempPath, this.filePath);
    this.committed = true;
    await writeSidecar(this.filePath, meta, `${this.tempPath}.meta`);
  }

  /** Stops writing and removes every file this job made. Safe to call more than once. */
  async discard(): Promise<void> {
    const stream = this.stream;
    if (stream && !stream.destroyed) {
      stream.destroy();
      await waitForClose(stream);
    }
    const doomed = [this.tempPath, `${this.tempPath}.meta`];
    if (this.committed) doomed.push(this.filePath, this.metaPath);
    // ENOTDIR: the folder was never usable (a file stands in its place), so nothing was made there.
    await Promise.all(
      doomed.map((file) =>
        fsp.rm(file, { force: true }).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOTDIR') throw error;
        }),
      ),
    );
  }
}

function waitForClose(stream: WriteStream): Promise<void> {
  if (stream.closed) return Promise.resolve();
  return new Promise((resolve) => stream.once('close', () => resolve()));
}
