/**
 * Writes the capture sidecar (protocol/sidecar.ts) beside a snapshot: the one writer, used by capture for every
 * snapshot and by the VS Code extension when it labels one. The engine reads it back (engine/sidecar.ts).
 */
import { randomBytes } from 'crypto';
import { promises as fsp } from 'fs';
import { sidecarPath, type SnapshotSidecar } from '../../protocol/sidecar';

/**
 * Writes `sidecar` beside `snapshotFile` atomically: into `temp` (created, never an existing file) and then renamed
 * into place, so a reader never sees half a sidecar.
 */
export async function writeSidecar(
  snapshotFile: string,
  sidecar: SnapshotSidecar,
  temp = `${sidecarPath(snapshotFile)}.${randomBytes(4).toString('hex')}.tmp`,
): Promise<void> {
  await fsp.writeFile(temp, `${JSON.stringify(sidecar, null, 1)}\n`, { flag: 'wx' });
  await fsp.rename(temp, sidecarPath(snapshotFile));
}
