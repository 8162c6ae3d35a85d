import * as path from 'path';

/** What the extension host tells the sweeper (src/sweeper/main.ts), one JSON object per line on its stdin. */
export type SweeperMessage =
  /** A process group the extension started (a workload command): stop it if the extension host goes away. */
  | { op: 'group'; pgid: number }
  /** The group has ended, or the extension stopped it: forget it (its id may be reused). */
  | { op: 'ungroup'; pgid: number }
  /** A snapshot being written to `file` (absolute): remove its partial files if the extension host goes away. */
  | { op: 'snapshot'; file: string }
  /** The snapshot is finished or was abandoned (its writer removed its partial files). */
  | { op: 'unsnapshot'; file: string };

/**
 * Whether `name`, in the folder of `file`, is a partial file of the snapshot `file` or of one of its worker threads:
 * capture writes `.<name>.heapsnapshot.<hex>.partial` (and `.partial.meta`) and renames them into place at the end;
 * workers' snapshots are `<stem>.worker<id>.heapsnapshot`.
 */
export function partialFileOf(file: string, name: string): boolean {
  const stem = path.basename(file).replace(/\.heapsnapshot$/, '');
  return name.startsWith(`.${stem}.`) && /\.partial(\.meta)?$/.test(name);
}
