/**
 * The text of a file as the editor shows it: the open document's buffer when there is one (unsaved edits
 * included), the file on disk otherwise. Disk reads are cached by modification time and size, and the cache is
 * bounded, so a report naming ten thousand files does not keep ten thousand files in memory.
 */
import * as fs from 'fs';
import { AnchorText } from './anchor';

export interface FileText {
  at: AnchorText;
  /** True when the text is an open editor buffer. */
  open: boolean;
  /**
   * Modification time on disk (epoch ms), for files read from disk, and for an open buffer whose text is the file's
   * on disk (nothing edited since it was opened or saved).
   */
  mtimeMs?: number;
}

/** Open documents by file path, as the server's document manager holds them. */
export interface OpenDocuments {
  get(file: string): { text: string; version: number } | undefined;
}

/** Files larger than this are not read for markers (a generated bundle of this size is not a place to mark). */
const MAX_SOURCE_BYTES = 8 * 1024 * 1024;
const CACHE_LIMIT = 2000;

export class TextSource {
  private readonly disk = new Map<string, { mtimeMs: number; size: number; at: AnchorText }>();
  private readonly opened = new Map<string, { version: number; at: AnchorText }>();
  /** `stat` results of the current pass (one report applied, one file refreshed, one request answered). */
  private readonly stats = new Map<string, fs.Stats | null>();

  constructor(private readonly docs: OpenDocuments) {}

  /**
   * Starts a pass: files are looked at again on disk. Within a pass each file is `stat`ed once, however many markers
   * and retainer steps point into it.
   */
  beginPass(): void {
    this.stats.clear();
  }

  private stat(file: string): fs.Stats | null {
    let st = this.stats.get(file);
    if (st === undefined) {
      try {
        st = fs.statSync(file);
      } catch {
        st = null;
      }
      this.stats.set(file, st);
    }
    return st;
  }

  get(file: string): FileText | undefined {
    const doc = this.docs.get(file);
    if (doc) {
      const cached = this.opened.get(file);
      let at: AnchorText;
      if (cached && cached.version === doc.version && cached.at.text === doc.text) at = cached.at;
      else {
        at = new AnchorText(file, doc.text);
        this.opened.set(file, { version: doc.version, at });
      }
      // An open buffer that holds the file's text as it is on disk is as trustworthy as the file.
      const onDisk = this.fromDisk(file);
      return onDisk && onDisk.at.text === doc.text ? { at, open: true, mtimeMs: onDisk.mtimeMs } : { at, open: true };
    }
    this.opened.delete(file);
    return this.fromDisk(file);
  }

  private fromDisk(file: string): FileText | undefined {
    const st = this.stat(file);
    if (!st || !st.isFile() || st.size > MAX_SOURCE_BYTES) return undefined;
    const cached = this.disk.get(file);
    if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) {
      // Keep recently used entries at the end of the insertion order.
      this.disk.delete(file);
      this.disk.set(file, cached);
      return { at: cached.at, open: false, mtimeMs: st.mtimeMs };
    }
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
    const at = new AnchorText(file, text);
    this.disk.delete(file);
    this.disk.set(file, { mtimeMs: st.mtimeMs, size: st.size, at });
    if (this.disk.size > CACHE_LIMIT) this.disk.delete(this.disk.keys().next().value as string);
    return { at, open: false, mtimeMs: st.mtimeMs };
  }

  exists(file: string): boolean {
    if (this.docs.get(file)) return true;
    return !!this.stat(file)?.isFile();
  }

  forget(file: string): void {
    this.opened.delete(file);
  }
}
