/**
 * The snapshot's string table, kept as raw JSON-escaped UTF-8 bytes in large pooled buffers.
 *
 * A snapshot's `strings` section can be far larger than V8's maximum string length (about 512 MB), and millions of
 * small JS strings cost far more memory than their bytes. So strings stay as bytes and are decoded on demand, with a
 * cache for the ones asked for (class names, property names: a small subset of the table).
 * Appending is O(length); decoding one string is O(length).
 */
export class StringTable {
  /** Pool chunk size; a string never straddles two chunks (a string longer than this gets a chunk of its own). */
  private static readonly CHUNK = 1 << 26;
  private readonly chunks: Buffer[] = [];
  private chunkUsed = 0;
  private starts = new Float64Array(1 << 16);
  private lengths = new Uint32Array(1 << 16);
  private count = 0;
  private sealed = false;
  private readonly decoded: (string | undefined)[] = [];

  get length(): number {
    return this.count;
  }

  /** Total bytes held in the pool (for memory accounting). */
  get byteSize(): number {
    return this.chunks.reduce((sum, c) => sum + c.length, 0) + this.starts.byteLength + this.lengths.byteLength;
  }

  /** Appends the raw (still JSON-escaped) bytes of one string, given as one or more pieces. */
  append(pieces: Buffer[] | Buffer, totalLength?: number): void {
    const list = Array.isArray(pieces) ? pieces : [pieces];
    const len = totalLength ?? list.reduce((s, p) => s + p.length, 0);
    let chunk = this.chunks[this.chunks.length - 1];
    if (!chunk || this.chunkUsed + len > chunk.length) {
      // After parsing only a few strings are added: keep those chunks small.
      chunk = Buffer.allocUnsafe(Math.max(this.sealed ? 1 << 16 : StringTable.CHUNK, len));
      this.chunks.push(chunk);
      this.chunkUsed = 0;
    }
    const chunkIndex = this.chunks.length - 1;
    let at = this.chunkUsed;
    for (const p of list) {
      p.copy(chunk, at);
      at += p.length;
    }
    if (this.count === this.starts.length) this.grow();
    // A string's position is encoded as chunkIndex * 2^32 + offset, which a double holds exactly.
    this.starts[this.count] = chunkIndex * 4294967296 + this.chunkUsed;
    this.lengths[this.count] = len;
    this.count++;
    this.chunkUsed = at;
  }

  /** Appends a string given as JS text (used for strings the engine adds itself). Returns its index. */
  appendText(text: string): number {
    const raw = JSON.stringify(text);
    this.append(Buffer.from(raw.slice(1, -1), 'utf8'));
    return this.count - 1;
  }

  private grow(): void {
    const starts = new Float64Array(this.starts.length * 2);
    starts.set(this.starts);
    this.starts = starts;
    const lengths = new Uint32Array(this.lengths.length * 2);
    lengths.set(this.lengths);
    this.lengths = lengths;
  }

  /** Releases the unused tail of the index arrays once parsing is done. */
  seal(): void {
    this.sealed = true;
    this.starts = this.starts.slice(0, this.count);
    this.lengths = this.lengths.slice(0, this.count);
    const last = this.chunks.length - 1;
    if (last >= 0 && this.chunkUsed < this.chunks[last].length) {
      this.chunks[last] = Buffer.from(this.chunks[last].subarray(0, this.chunkUsed));
    }
  }

  /** The decoded text of string `index` ("" for an index out of range). */
  get(index: number): string {
    // `!(in range)` also turns away undefined and NaN, which a corrupt index read past the end of a column gives.
    if (!(index >= 0 && index < this.count)) return '';
    const cached = this.decoded[index];
    if (cached !== undefined) return cached;
    const text = this.decode(index);
    this.decoded[index] = text;
    return text;
  }

  /** Decodes without caching: for one-off reads of strings that are unlikely to be asked for again. */
  peek(index: number): string {
    if (!(index >= 0 && index < this.count)) return '';
    return this.decoded[index] ?? this.decode(index);
  }

  /** Raw byte length of string `index` as stored (escaped). */
  rawLength(index: number): number {
    return index >= 0 && index < this.count ? this.lengths[index] : 0;
  }

  /** True when the raw bytes of string `index` start with the ASCII text `prefix` (no decoding). */
  startsWith(index: number, prefix: string): boolean {
    if (!(index >= 0 && index < this.count)) return false;
    const len = this.lengths[index];
    if (len < prefix.length) return false;
    const pos = this.starts[index];
    const chunk = this.chunks[Math.floor(pos / 4294967296)];
    const off = pos % 4294967296;
    for (let i = 0; i < prefix.length; i++) if (chunk[off + i] !== prefix.charCodeAt(i)) return false;
    return true;
  }

  private decode(index: number): string {
    const pos = this.starts[index];
    const chunk = this.chunks[Math.floor(pos / 4294967296)];
    const off = pos % 4294967296;
    const end = off + this.lengths[index];
    // Only strings with escapes need JSON decoding; search for a backslash inside this string only.
    if (chunk.subarray(off, end).indexOf(0x5c) === -1) return chunk.toString('utf8', off, end);
    try {
      return JSON.parse('"' + chunk.toString('utf8', off, end) + '"') as string;
    } catch {
      return chunk.toString('utf8', off, end);
    }
  }
}
