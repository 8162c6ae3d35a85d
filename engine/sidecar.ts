/**
 * The capture sidecar (`<snapshot>.meta.json`), read as untrusted input: anyone can edit it, and its paths (script
 * URLs, source map URLs) are opened later. It is read only if it is a small regular file, and then checked field by
 * field: a field of the wrong shape is dropped with one warning that names the sidecar and the field, and the rest is
 * kept, so a damaged sidecar never stops an analysis (the snapshot alone suffices). Time O(sidecar size).
 */
import type { MemoryUsage } from '../protocol/memory';
import { sidecarPath, type SnapshotSidecar } from '../protocol/sidecar';
import type { SidecarScript } from './scripts';
import { oneLine, quoteValue, readRegularFile } from './safeRead';

/**
 * The fields of the sidecar (protocol/sidecar.ts) that survived the checks: what the engine and the extension's
 * snapshot list read. Every field may be absent.
 */
export type CheckedSidecar = Partial<
  Pick<
    SnapshotSidecar,
    'pid' | 'sessionId' | 'sequence' | 'time' | 'label' | 'allocationTracking' | 'debuggerAttached' | 'thread' | 'run'
  >
> & {
  memoryUsage?: Required<MemoryUsage>;
  scripts?: SidecarScript[];
};

/** The largest sidecar read: a capture of a program with tens of thousands of scripts stays far below it. */
export const MAX_SIDECAR_BYTES = 32 << 20;
/** Longest script URL or source map URL kept (an inline `data:` source map can be long). */
const MAX_URL_LENGTH = 8 << 20;
/** Longest label, time or session id kept. */
const MAX_TEXT_LENGTH = 1000;

const MEMORY_FIELDS = ['rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers'] as const;

/** A byte count a process can have: a finite, whole, non-negative number. */
function isByteCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER;
}

/** A single-line text of bounded length (labels and times are shown in reports and titles). */
function isShortText(v: unknown): v is string {
  // eslint-disable-next-line no-control-regex
  return typeof v === 'string' && v.length <= MAX_TEXT_LENGTH && !/[\u0000-\u001f\u007f]/.test(v);
}

/**
 * Validates a parsed sidecar. `where` names the sidecar file in warnings; `warn` receives one line per dropped field.
 */
export function validateSidecar(
  value: unknown,
  where: string,
  warn: (message: string) => void,
): CheckedSidecar | undefined {
  const drop = (field: string, v: unknown, what: string) =>
    warn(`${where}: ignored "${field}" (${quoteValue(v, 40)} is not ${what}); the analysis goes on without it`);
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    warn(`${where}: ignored (it holds ${quoteValue(value, 40)}, not an object); the analysis goes on without it`);
    return undefined;
  }
  const raw = value as Record<string, unknown>;
  const out: CheckedSidecar = {};
  if (raw.pid !== undefined) {
    if (typeof raw.pid === 'number' && Number.isInteger(raw.pid) && raw.pid > 0 && raw.pid < 2 ** 32) out.pid = raw.pid;
    else drop('pid', raw.pid, 'a process id');
  }
  if (raw.sequence !== undefined) {
    if (
      typeof raw.sequence === 'number' &&
      Number.isInteger(raw.sequence) &&
      raw.sequence > 0 &&
      raw.sequence < 2 ** 32
    )
      out.sequence = raw.sequence;
    else drop('sequence', raw.sequence, 'a snapshot number');
  }
  for (const field of ['sessionId', 'time', 'label', 'run'] as const) {
    const v = raw[field];
    if (v === undefined) continue;
    if (isShortText(v)) out[field] = v;
    else drop(field, v, `a line of text of at most ${MAX_TEXT_LENGTH} characters`);
  }
  if (raw.allocationTracking !== undefined) {
    if (typeof raw.allocationTracking === 'boolean') out.allocationTracking = raw.allocationTracking;
    else drop('allocationTracking', raw.allocationTracking, 'true or false');
  }
  if (raw.debuggerAttached !== undefined) {
    if (typeof raw.debuggerAttached === 'boolean') out.debuggerAttached = raw.debuggerAttached;
    else drop('debuggerAttached', raw.debuggerAttached, 'true or false');
  }
  if (raw.thread !== undefined) {
    const th = raw.thread as Record<string, unknown> | null;
    if (
      th &&
      typeof th === 'object' &&
      typeof th.id === 'string' &&
      /^\d{1,10}$/.test(th.id) &&
      isShortText(th.title) &&
      typeof th.url === 'string' &&
      th.url.length <= MAX_URL_LENGTH
    ) {
      out.thread = { id: th.id, title: th.title, url: th.url };
    } else drop('thread', th, 'a worker thread (id, title and url)');
  }
  if (raw.memoryUsage !== undefined) {
    const m = raw.memoryUsage as Record<string, unknown> | null;
    const bad =
      !m || typeof m !== 'object' || Array.isArray(m) ? 'memoryUsage' : MEMORY_FIELDS.find((f) => !isByteCount(m[f]));
    if (bad === undefined)
      out.memoryUsage = Object.fromEntries(
        MEMORY_FIELDS.map((f) => [f, m![f] as number]),
      ) as CheckedSidecar['memoryUsage'];
    else if (bad === 'memoryUsage') drop('memoryUsage', m, 'an object of byte counts');
    else drop(`memoryUsage.${bad}`, m![bad], 'a byte count');
  }
  if (raw.scripts !== undefined) {
    if (!Array.isArray(raw.scripts)) drop('scripts', raw.scripts, 'a list of scripts');
    else {
      const scripts: SidecarScript[] = [];
      let bad = 0;
      let example: unknown;
      for (const s of raw.scripts as unknown[]) {
        const sc = s as Record<string, unknown> | null;
        const ok =
          sc &&
          typeof sc === 'object' &&
          (typeof sc.scriptId === 'string' || typeof sc.scriptId === 'number') &&
          /^\d{1,10}$/.test(String(sc.scriptId)) &&
          typeof sc.url === 'string' &&
          sc.url.length <= MAX_URL_LENGTH &&
          (sc.sourceMapURL === undefined ||
            (typeof sc.sourceMapURL === 'string' && sc.sourceMapURL.length <= MAX_URL_LENGTH));
        if (ok)
          scripts.push({
            scriptId: String(sc.scriptId),
            url: sc.url as string,
            sourceMapURL: sc.sourceMapURL as string | undefined,
          });
        else {
          if (bad === 0) example = s;
          bad++;
        }
      }
      if (bad > 0)
        warn(
          `${where}: ignored ${bad} of ${raw.scripts.length} entries of "scripts" (such as ${quoteValue(example, 40)}): each needs a numeric scriptId and a url`,
        );
      out.scripts = scripts;
    }
  }
  return out;
}

/**
 * Reads and validates the sidecar beside `snapshotFile`. No sidecar is normal (undefined, no warning); one that
 * cannot be read or parsed gives one warning and undefined.
 */
export function readSidecarFile(
  snapshotFile: string,
  warn: (message: string) => void = () => {},
): CheckedSidecar | undefined {
  const file = sidecarPath(snapshotFile);
  const where = `sidecar ${oneLine(file, 160)}`;
  const read = readRegularFile(file, MAX_SIDECAR_BYTES);
  if (!read.ok) {
    if (read.code !== 'ENOENT') warn(`${where}: not read (${read.reason}); the analysis goes on without it`);
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(read.text);
  } catch (e) {
    warn(`${where}: not read (not valid JSON: ${oneLine((e as Error).message, 60)}); the analysis goes on without it`);
    return undefined;
  }
  return validateSidecar(value, where, (m) => warn(oneLine(m, 400)));
}
