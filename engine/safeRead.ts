/**
 * Reading files whose names come from outside the engine's control: the snapshot path a person passes, and the
 * script, source and source map paths written inside a snapshot or its sidecar (which anyone can edit).
 *
 * Only regular files are read. A file is opened without blocking (`O_NONBLOCK`: opening a FIFO with no writer would
 * otherwise wait forever) and checked with fstat on the open descriptor, so a path that names a FIFO, a device such
 * as /dev/zero, a socket or a folder is refused before a single byte is read, and a symlink is judged by what it
 * points at. Reads are capped: a file larger than the cap is refused by its size, and nothing past the cap is read
 * even if the file grows meanwhile. Also here: turning any text (file names, section names, values) into one line of
 * bounded length for messages.
 */
import * as fs from 'fs';
import { formatBytes } from '../protocol/units';

/** An open regular file: its descriptor (the caller closes it) and its size. */
export interface OpenedFile {
  fd: number;
  size: number;
}

/** Why a path could not be opened as a regular file, as a phrase that follows the file name. */
export type OpenFailure = { ok: false; reason: string; code: string };

/** What kind of thing a non-regular file is, in a person's words. */
function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** The reason an open or read failed, as a phrase ("no such file", "permission denied", ...). */
export function describeFsError(e: unknown): { reason: string; code: string } {
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case 'ENOENT':
      return { reason: 'no such file', code: 'ENOENT' };
    case 'EACCES':
    case 'EPERM':
      return { reason: 'permission denied', code: err.code };
    case 'EISDIR':
      return { reason: 'is a folder, not a file', code: 'EISDIR' };
    case 'ELOOP':
      return { reason: 'is a loop of symbolic links', code: 'ELOOP' };
    case 'ENAMETOOLONG':
      return { reason: 'the name is too long', code: 'ENAMETOOLONG' };
    case 'ENOTDIR':
      return { reason: 'a part of the path is not a folder', code: 'ENOTDIR' };
    default:
      return { reason: oneLine(err?.message ?? String(e), 120), code: err?.code ?? 'EIO' };
  }
}

/**
 * Opens `file` for reading if it is a regular file. Never blocks on a FIFO and never reads from a device.
 * Returns the descriptor, or why not.
 */
export function openRegularFile(file: string): ({ ok: true } & OpenedFile) | OpenFailure {
  let fd: number;
  try {
    // O_NONBLOCK makes opening a FIFO return at once; for a regular file it changes nothing.
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    return { ok: false, ...describeFsError(e) };
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) {
      fs.closeSync(fd);
      return {
        ok: false,
        reason: `is ${kindOf(st)}, not a regular file`,
        code: st.isDirectory() ? 'EISDIR' : 'ENOTREG',
      };
    }
    return { ok: true, fd, size: st.size };
  } catch (e) {
    fs.closeSync(fd);
    return { ok: false, ...describeFsError(e) };
  }
}

/** A whole small file as text, or why it was not read. */
export type BoundedRead = { ok: true; text: string } | OpenFailure;

/**
 * Reads a regular file of at most `maxBytes` as UTF-8 text. Anything else (missing, a folder, a FIFO, a device, or a
 * file larger than the cap) gives a reason instead; nothing past `maxBytes` is ever read.
 */
export function readRegularFile(file: string, maxBytes: number): BoundedRead {
  const opened = openRegularFile(file);
  if (!opened.ok) return opened;
  try {
    if (opened.size > maxBytes)
      return {
        ok: false,
        reason: `is ${formatBytes(opened.size)}, more than the ${formatBytes(maxBytes)} read at most`,
        code: 'EFBIG',
      };
    // Read up to the cap plus one byte, so a file that grew after fstat is noticed rather than read without end.
    const buf = Buffer.allocUnsafe(Math.min(maxBytes + 1, Math.max(opened.size, 0) + 1));
    let length = 0;
    for (;;) {
      const n = fs.readSync(opened.fd, buf, length, buf.length - length, length);
      if (n === 0) break;
      length += n;
      if (length === buf.length) break;
    }
    if (length > maxBytes)
      return { ok: false, reason: `is more than the ${formatBytes(maxBytes)} read at most`, code: 'EFBIG' };
    return { ok: true, text: buf.toString('utf8', 0, length) };
  } catch (e) {
    return { ok: false, ...describeFsError(e) };
  } finally {
    fs.closeSync(opened.fd);
  }
}

/**
 * Any text as one printable line of at most `max` characters: control characters (newlines, escapes, NUL) and
 * lone surrogates are written as escapes, and a long text keeps its start and end around an ellipsis.
 */
export function oneLine(text: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  let s = String(text).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  s = s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
  if (s.length <= max) return s;
  const head = Math.ceil((max - 1) * 0.6);
  const tail = max - 1 - head;
  return s.slice(0, head) + '…' + s.slice(s.length - tail);
}

/** A value from a file (a section name, a field value) quoted for a message: JSON-like, one line, bounded. */
export function quoteValue(value: unknown, max = 60): string {
  let text: string;
  try {
    text =
      typeof value === 'number' || typeof value === 'bigint' ? String(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return oneLine(text, max);
}
