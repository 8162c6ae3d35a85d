/** The errors a parse ends with: a damaged or unreadable file, or the caller's cancel. */
import { oneLine } from './safeRead';

/** What to do about a snapshot whose content is damaged. */
export const CORRUPT_ADVICE = 'the file is corrupt or was altered; capture the snapshot again';

/**
 * A parse failure with the file and byte offset where it was found. The message is one line of bounded length
 * whatever the file name or the bytes quoted in the reason hold; a "malformed" reason gets the advice to re-capture.
 */
export class SnapshotParseError extends Error {
  readonly reason: string;
  constructor(
    readonly file: string,
    readonly offset: number,
    reason: string,
  ) {
    super(SnapshotParseError.format(file, offset, SnapshotParseError.advise(reason)));
    this.reason = SnapshotParseError.advise(reason);
    this.name = 'SnapshotParseError';
  }

  /** The reason with what to do about it, unless it already says. */
  private static advise(reason: string): string {
    if (/capture (it|the snapshot) again|pass |check |permission|memory|cancel/.test(reason)) return reason;
    if (/truncated/.test(reason)) return `${reason}; capture the snapshot again`;
    if (/^malformed|^unsupported/.test(reason)) return `${reason}; ${CORRUPT_ADVICE}`;
    if (/^not a V8 heap snapshot/.test(reason))
      return `${reason}; pass a .heapsnapshot file written by V8 (Node's inspector, DevTools or v8.writeHeapSnapshot)`;
    return reason;
  }

  private static format(file: string, offset: number, advised: string): string {
    return `${oneLine(file, 160)}: ${oneLine(advised, 360)}${offset >= 0 ? ` (at byte ${offset})` : ''}`;
  }
}
