/**
 * The incremental scanner behind parse.ts: fed chunks of a `.heapsnapshot` file in order, it reads the JSON around
 * the numeric sections, the numbers straight into typed columns and the strings into a byte pool, checking the
 * header and the counts as it goes. It never holds the file, or any section of it, as one JS string.
 */
import { availableMemoryBytes, estimateAnalysisBytes } from './memoryBudget';
import { SnapshotParseError } from './parseErrors';
import { TRACE_FUNCTION_INFO_FIELDS, type RawSnapshot, type SnapshotHeader, type TraceTree } from './rawSnapshot';
import { oneLine, quoteValue } from './safeRead';
import { StringTable } from './strings';

/** A Float64Array that grows by doubling. */
class GrowableNumbers {
  data = new Float64Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const d = new Float64Array(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    this.data[this.length++] = v;
  }
  /** Appends values from..to of `source` in one copy. */
  pushAll(source: Float64Array, from: number, to: number): void {
    const count = to - from;
    if (this.length + count > this.data.length) {
      const d = new Float64Array(Math.max(this.data.length * 2, this.length + count));
      d.set(this.data.subarray(0, this.length));
      this.data = d;
    }
    this.data.set(source.subarray(from, to), this.length);
    this.length += count;
  }
  result(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

const enum Mode {
  TopOpen,
  TopKey,
  TopKeyText,
  TopColon,
  ValueStart,
  Json,
  Numbers,
  Strings,
  TraceTree,
  SkipToQuote,
  Stopped,
  Done,
}

const enum Sink {
  Nodes,
  Edges,
  Generic,
}

const SCRATCH = 1 << 16;

/** Incremental parser state; feed it chunks in order, then call finish(). */
export class SnapshotParser {
  private mode = Mode.TopOpen;
  private key = '';
  private readonly sections: string[] = [];
  private header: SnapshotHeader | null = null;

  // Generic JSON scanning state (used for `snapshot` and unknown sections).
  private jsonDepth = 0;
  private jsonInString = false;
  private jsonEscape = false;
  private jsonCapture: Buffer[] | null = null;
  private jsonScalar = false;

  // Number array state.
  private sink: Sink = Sink.Generic;
  private numOpen = false;
  private acc = 0;
  private inNum = false;
  private neg = false;
  private readonly scratch = new Float64Array(SCRATCH);
  private scratchLen = 0;
  private generic: GrowableNumbers | null = null;
  private readonly genericSections = new Map<string, Float64Array>();

  // Nodes.
  private nodeFieldCount = 0;
  private nodeTypeOff = -1;
  private nodeNameOff = -1;
  private nodeIdOff = -1;
  private nodeSizeOff = -1;
  private nodeEdgeCountOff = -1;
  private nodeTraceOff = -1;
  private nodeDetachOff = -1;
  private nodeValues = 0;
  private nodeType: Uint8Array = new Uint8Array(0);
  private nodeName: Uint32Array = new Uint32Array(0);
  private nodeId: Uint32Array = new Uint32Array(0);
  private nodeSelfSize: Float64Array = new Float64Array(0);
  private nodeTraceId: Uint32Array | null = null;
  private nodeDetachedness: Uint8Array | null = null;
  private firstEdge: Uint32Array = new Uint32Array(1);

  // Edges.
  private edgeFieldCount = 0;
  private edgeTypeOff = -1;
  private edgeNameOff = -1;
  private edgeToOff = -1;
  private edgeValues = 0;
  private edgeType: Uint8Array = new Uint8Array(0);
  private edgeName: Uint32Array = new Uint32Array(0);
  private edgeTo: Uint32Array = new Uint32Array(0);

  // Strings.
  readonly strings = new StringTable();
  private strOpen = false;
  private strInString = false;
  private strPieces: Buffer[] = [];
  private strPieceLen = 0;
  private strPendingBackslashes = 0;

  // Trace tree (nested arrays: [id, function_info_index, count, size, [children]] repeated).
  private ttDepth = 0;
  private ttFieldCount = 5;
  private ttFields: number[] = [];
  private ttStack: number[] = [];
  private ttLast = -1;
  private ttId = new GrowableNumbers();
  private ttFi = new GrowableNumbers();
  private ttParent = new GrowableNumbers();
  private ttIdOff = 0;
  private ttFiOff = 1;
  private sawTraceTree = false;

  private base = 0;

  /** When set, the edges section is parsed by another thread: this parser only skips over it. */
  edgesExternal = false;
  /** Called once the nodes section is complete (first-edge offsets are final). */
  onNodesDone?: () => void;

  constructor(readonly file: string) {}

  private fail(pos: number, reason: string): never {
    throw new SnapshotParseError(this.file, this.base + pos, reason);
  }

  /** Consumes one chunk. `base` is the file offset of buf[0]. */
  feed(buf: Buffer, base: number): void {
    this.base = base;
    let pos = 0;
    const end = buf.length;
    while (pos < end) {
      switch (this.mode) {
        case Mode.TopOpen: {
          const c = buf[pos];
          if (isSpace(c)) {
            pos++;
            break;
          }
          if (c !== 0x7b) this.fail(pos, `not a V8 heap snapshot: expected '{' but found ${describeByte(c)}`);
          pos++;
          this.mode = Mode.TopKey;
          break;
        }
        case Mode.TopKey: {
          const c = buf[pos];
          if (isSpace(c) || c === 0x2c) {
            pos++;
            break;
          }
          if (c === 0x7d) {
            this.mode = Mode.Done;
            pos++;
            break;
          }
          if (c !== 0x22) this.fail(pos, `malformed snapshot: expected a section name but found ${describeByte(c)}`);
          this.key = '';
          this.mode = Mode.TopKeyText;
          pos++;
          break;
        }
        case Mode.TopKeyText: {
          const q = buf.indexOf(0x22, pos);
          if (q === -1) {
            this.key += buf.toString('latin1', pos, end);
            if (this.key.length > 256) this.fail(pos, 'malformed snapshot: a section name is too long');
            pos = end;
            break;
          }
          this.key += buf.toString('latin1', pos, q);
          if (this.key.length > 256) this.fail(pos, 'malformed snapshot: a section name is too long');
          pos = q + 1;
          this.mode = Mode.TopColon;
          break;
        }
        case Mode.TopColon: {
          const c = buf[pos];
          if (isSpace(c)) {
            pos++;
            break;
          }
          if (c !== 0x3a)
            this.fail(pos, `malformed snapshot: expected ':' after the section name ${quoteKey(this.key)}`);
          pos++;
          this.beginValue(pos);
          break;
        }
        case Mode.Json:
          pos = this.scanJson(buf, pos, end);
          break;
        case Mode.Numbers:
          pos = this.scanNumbers(buf, pos, end);
          break;
        case Mode.Strings:
          pos = this.scanStrings(buf, pos, end);
          break;
        case Mode.TraceTree:
          pos = this.scanTraceTree(buf, pos, end);
          break;
        case Mode.Stopped:
          return;
        case Mode.SkipToQuote: {
          // A numeric section holds no quote: the next one starts the following section name.
          const q = buf.indexOf(0x22, pos);
          if (q < 0) pos = end;
          else {
            pos = q;
            this.mode = Mode.TopKey;
          }
          break;
        }
        case Mode.Done: {
          const c = buf[pos];
          if (!isSpace(c)) this.fail(pos, `unexpected ${describeByte(c)} after the end of the snapshot`);
          pos++;
          break;
        }
        default:
          this.fail(pos, 'internal parser state error');
      }
    }
  }

  private beginValue(pos: number): void {
    const key = this.key;
    this.sections.push(key);
    if (key !== 'snapshot' && !this.header) {
      this.fail(pos, `not a V8 heap snapshot: the file starts with ${quoteKey(key)} instead of the "snapshot" header`);
    }
    switch (key) {
      case 'snapshot':
        this.startJson(true);
        return;
      case 'nodes':
        this.startNumbers(Sink.Nodes);
        return;
      case 'edges':
        if (this.edgesExternal) {
          if (this.nodeValues !== this.header!.node_count * this.nodeFieldCount)
            this.fail(pos, 'unsupported snapshot: the "edges" section comes before a complete "nodes" section');
          this.mode = Mode.SkipToQuote;
          return;
        }
        this.startNumbers(Sink.Edges);
        return;
      case 'strings':
        this.mode = Mode.Strings;
        this.strOpen = false;
        return;
      case 'trace_tree':
        this.mode = Mode.TraceTree;
        this.sawTraceTree = true;
        this.ttDepth = 0;
        return;
      case 'trace_function_infos':
      case 'locations':
      case 'samples':
        this.startNumbers(Sink.Generic);
        return;
      default:
        // Unknown or newer sections (such as `scopes`) are skipped without being kept.
        this.startJson(false);
    }
  }

  private startJson(capture: boolean): void {
    this.mode = Mode.Json;
    this.jsonDepth = 0;
    this.jsonInString = false;
    this.jsonEscape = false;
    this.jsonScalar = false;
    this.jsonCapture = capture ? [] : null;
  }

  /** Scans a generic JSON value, tracking nesting and strings; returns the position after it. */
  private scanJson(buf: Buffer, pos: number, end: number): number {
    const start = pos;
    let depth = this.jsonDepth;
    let inString = this.jsonInString;
    let escape = this.jsonEscape;
    let done = false;
    for (; pos < end; pos++) {
      const c = buf[pos];
      if (inString) {
        if (escape) escape = false;
        else if (c === 0x5c) escape = true;
        else if (c === 0x22) {
          inString = false;
          if (depth === 0 && !this.jsonScalar) {
            pos++;
            done = true;
            break;
          }
        }
        continue;
      }
      if (c === 0x22) {
        inString = true;
        continue;
      }
      if (c === 0x7b || c === 0x5b) {
        depth++;
        continue;
      }
      if (c === 0x7d || c === 0x5d) {
        if (depth === 0) {
          // The end of the enclosing object: a scalar value ended just before it.
          done = true;
          break;
        }
        depth--;
        if (depth === 0) {
          pos++;
          done = true;
          break;
        }
        continue;
      }
      if (depth === 0) {
        if (c === 0x2c) {
          done = true;
          break;
        }
        if (!isSpace(c)) this.jsonScalar = true;
      }
    }
    if (this.jsonCapture) {
      this.jsonCapture.push(Buffer.from(buf.subarray(start, pos)));
      if (this.jsonCapture.reduce((s, b) => s + b.length, 0) > 64 << 20) {
        this.fail(pos, 'malformed snapshot: the "snapshot" header is larger than 64 MB');
      }
    }
    this.jsonDepth = depth;
    this.jsonInString = inString;
    this.jsonEscape = escape;
    if (done) this.endJson(pos);
    return pos;
  }

  private endJson(pos: number): void {
    if (this.jsonCapture) {
      const text = Buffer.concat(this.jsonCapture).toString('utf8');
      this.jsonCapture = null;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (e) {
        this.fail(
          pos,
          `malformed snapshot: the "snapshot" header is not valid JSON (${oneLine((e as Error).message, 80)})`,
        );
      }
      this.setHeader(value, pos);
    }
    this.mode = Mode.TopKey;
  }

  /** Called with the header before columns are allocated (a parallel parse sets `columns` here). */
  onHeader?: (header: SnapshotHeader) => void;

  /** Column storage supplied by the caller (shared memory for a parallel parse), used instead of fresh arrays. */
  columns?: { firstEdge: Uint32Array; edgeType: Uint8Array; edgeName: Uint32Array; edgeTo: Uint32Array };

  /** Prepares this parser to read only the edges section, for a header another parser read. */
  beginEdgesOnly(header: SnapshotHeader, columns: NonNullable<SnapshotParser['columns']>): void {
    this.columns = columns;
    this.setHeaderFields(header, 0, false);
    this.edgeType = columns.edgeType;
    this.edgeName = columns.edgeName;
    this.edgeTo = columns.edgeTo;
    this.nodeValues = header.node_count * this.nodeFieldCount;
    this.key = 'edges';
    this.edgesOnly = true;
    this.startNumbers(Sink.Edges);
  }

  /** True while the edges section is being read (for an edges-only parser). */
  get inEdges(): boolean {
    return this.mode === Mode.Numbers && this.sink === Sink.Edges;
  }

  /** Checks the edge count once an edges-only parser has seen the end of its section. */
  edgesComplete(): boolean {
    return this.mode === Mode.Stopped && this.edgeValues === this.header!.edge_count * this.edgeFieldCount;
  }

  private edgesOnly = false;

  /** The file's size, when known: a header claiming more nodes and edges than fit in it is rejected as damaged. */
  fileSize?: number;

  /** Running sum of the nodes' edge counts (checked against edge_count as rows arrive). */
  private edgeSum = 0;

  private setHeader(value: unknown, pos: number): void {
    const h = value as SnapshotHeader;
    if (
      !h ||
      typeof h !== 'object' ||
      !h.meta ||
      !Array.isArray(h.meta.node_fields) ||
      !Array.isArray(h.meta.edge_fields)
    ) {
      this.fail(pos, 'not a V8 heap snapshot: the "snapshot" header has no meta.node_fields / meta.edge_fields');
    }
    if (!Number.isInteger(h.node_count) || !Number.isInteger(h.edge_count) || h.node_count < 1 || h.edge_count < 0) {
      this.fail(pos, 'not a V8 heap snapshot: the header has no valid node_count / edge_count');
    }
    if (h.node_count >= 2 ** 32 || h.edge_count >= 2 ** 32)
      this.fail(pos, 'snapshot has more than 2^32 nodes or edges');
    checkHeader(h, (reason) => this.fail(pos, reason));
    // Say so before allocating anything rather than fail halfway for lack of memory.
    const need = estimateAnalysisBytes(h.node_count, h.edge_count);
    const have = availableMemoryBytes();
    // Each node and edge takes at least two bytes per field ("0,"): a header that claims more than the file can hold
    // is damaged (or the file cut short), and asking for a bigger machine would be the wrong advice.
    const minBytes = 2 * (h.node_count * h.meta.node_fields.length + h.edge_count * h.meta.edge_fields.length);
    if (need > have && this.fileSize !== undefined && minBytes > this.fileSize) {
      this.fail(
        pos,
        `malformed snapshot: the header claims ${h.node_count} nodes and ${h.edge_count} edges, more than a file of ${this.fileSize} bytes can hold (is it cut short?)`,
      );
    }
    if (need > have) {
      const gb = (b: number) => (b / 2 ** 30).toFixed(1);
      this.fail(
        -1 - this.base,
        `this snapshot (${h.node_count} objects, ${h.edge_count} references) needs about ${gb(need)} GB of memory to analyse, and only ${gb(have)} GB is available; analyse it on a machine with more memory, or close other programs`,
      );
    }
    this.setHeaderFields(h, pos, true);
  }

  /** Field offsets from the header's meta, and (when `allocate`) the column arrays. */
  private setHeaderFields(h: SnapshotHeader, pos: number, allocate: boolean): void {
    this.header = h;
    const nf = h.meta.node_fields;
    this.nodeFieldCount = nf.length;
    this.nodeTypeOff = nf.indexOf('type');
    this.nodeNameOff = nf.indexOf('name');
    this.nodeIdOff = nf.indexOf('id');
    this.nodeSizeOff = nf.indexOf('self_size');
    this.nodeEdgeCountOff = nf.indexOf('edge_count');
    this.nodeTraceOff = nf.indexOf('trace_node_id');
    this.nodeDetachOff = nf.indexOf('detachedness');
    for (const [name, off] of [
      ['type', this.nodeTypeOff],
      ['name', this.nodeNameOff],
      ['id', this.nodeIdOff],
      ['self_size', this.nodeSizeOff],
      ['edge_count', this.nodeEdgeCountOff],
    ] as const) {
      if (off < 0) this.fail(pos, `unsupported snapshot: meta.node_fields has no "${name}" field`);
    }
    const ef = h.meta.edge_fields;
    this.edgeFieldCount = ef.length;
    this.edgeTypeOff = ef.indexOf('type');
    this.edgeNameOff = ef.indexOf('name_or_index');
    this.edgeToOff = ef.indexOf('to_node');
    if (this.edgeTypeOff < 0 || this.edgeNameOff < 0 || this.edgeToOff < 0) {
      this.fail(pos, 'unsupported snapshot: meta.edge_fields lacks type, name_or_index or to_node');
    }
    const tf = h.meta.trace_node_fields;
    if (tf && tf.length) {
      this.ttFieldCount = tf.length + 0; // the children array is one of the listed fields
      this.ttIdOff = Math.max(0, tf.indexOf('id'));
      this.ttFiOff = Math.max(0, tf.indexOf('function_info_index'));
    }
    if (!allocate) return;
    this.onHeader?.(h);
    const n = h.node_count;
    const m = h.edge_count;
    this.nodeType = new Uint8Array(n);
    this.nodeName = new Uint32Array(n);
    this.nodeId = new Uint32Array(n);
    this.nodeSelfSize = new Float64Array(n);
    // Without allocation tracking every trace_node_id is 0: do not spend 4 bytes per node on them.
    this.nodeTraceId = this.nodeTraceOff >= 0 && (h.trace_function_count ?? 1) > 0 ? new Uint32Array(n) : null;
    this.nodeDetachedness = this.nodeDetachOff >= 0 ? new Uint8Array(n) : null;
    const cols = this.columns;
    this.firstEdge = cols ? cols.firstEdge : new Uint32Array(n + 1);
    this.edgeType = cols ? cols.edgeType : new Uint8Array(m);
    this.edgeName = cols ? cols.edgeName : new Uint32Array(m);
    this.edgeTo = cols ? cols.edgeTo : new Uint32Array(m);
  }

  private startNumbers(sink: Sink): void {
    if (sink === Sink.Nodes && this.nodeValues > 0) this.fail(0, 'malformed snapshot: two "nodes" sections');
    if (sink === Sink.Edges && this.nodeValues !== this.header!.node_count * this.nodeFieldCount) {
      // Edges refer to nodes by position; they can only be checked once all nodes are known.
      this.fail(0, 'unsupported snapshot: the "edges" section comes before a complete "nodes" section');
    }
    this.mode = Mode.Numbers;
    this.sink = sink;
    this.numOpen = false;
    this.acc = 0;
    this.inNum = false;
    this.neg = false;
    this.scratchLen = 0;
    this.generic = sink === Sink.Generic ? new GrowableNumbers() : null;
  }

  /** The hot loop: parses a flat array of integers into the scratch buffer. */
  private scanNumbers(buf: Buffer, pos: number, end: number): number {
    if (!this.numOpen) {
      while (pos < end && isSpace(buf[pos])) pos++;
      if (pos === end) return pos;
      if (buf[pos] !== 0x5b) this.fail(pos, `malformed snapshot: ${quoteKey(this.key)} is not an array`);
      this.numOpen = true;
      pos++;
    }
    const scratch = this.scratch;
    let n = this.scratchLen;
    let done = false;
    // A number cut by the chunk boundary is finished first.
    if (this.inNum) {
      let acc = this.acc;
      let d = 0;
      while (pos < end && (d = buf[pos] - 48) >>> 0 < 10) {
        acc = acc * 10 + d;
        pos++;
      }
      if (pos === end) {
        this.acc = acc;
        return pos;
      }
      scratch[n++] = this.neg ? -acc : acc;
      this.neg = false;
      this.inNum = false;
      this.acc = 0;
    }
    while (pos < end) {
      if (n >= SCRATCH) {
        this.scratchLen = n;
        n = this.flushNumbers(pos);
      }
      let c = buf[pos];
      let d = c - 48;
      if (d >>> 0 < 10) {
        // Read the whole number in one tight loop.
        let acc = d;
        pos++;
        while (pos < end && (d = buf[pos] - 48) >>> 0 < 10) {
          acc = acc * 10 + d;
          pos++;
        }
        if (pos === end) {
          this.acc = acc;
          this.inNum = true;
          break;
        }
        scratch[n++] = acc;
        c = buf[pos];
      }
      pos++;
      if (c === 0x2c || c === 0x0a || c === 0x20 || c === 0x0d || c === 0x09) continue;
      if (c === 0x5d) {
        done = true;
        break;
      }
      if (c === 0x2d) {
        // Negative numbers only occur in sections this engine does not index by row; handle them on the slow path.
        let acc = 0;
        while (pos < end && (d = buf[pos] - 48) >>> 0 < 10) {
          acc = acc * 10 + d;
          pos++;
        }
        if (pos === end) {
          this.acc = acc;
          this.inNum = true;
          this.neg = true;
          break;
        }
        scratch[n++] = -acc;
        continue;
      }
      this.fail(pos - 1, `malformed snapshot: unexpected ${describeByte(c)} in the ${quoteKey(this.key)} section`);
    }
    this.scratchLen = n;
    if (done) {
      this.scratchLen = this.flushNumbers(pos, true);
      if (this.scratchLen !== 0)
        this.fail(pos, `malformed snapshot: the ${quoteKey(this.key)} section does not hold whole rows`);
      this.endNumbers(pos);
    }
    return pos;
  }

  /**
   * Moves whole rows of parsed numbers from the scratch buffer into the section's columns, keeps an incomplete last
   * row at the front of the scratch buffer, and returns how many values remain there.
   */
  private flushNumbers(pos: number, last = false): number {
    const n = this.scratchLen;
    const s = this.scratch;
    let i = 0;
    if (this.sink === Sink.Nodes) {
      const nf = this.nodeFieldCount;
      let node = this.nodeValues / nf;
      if (node + Math.floor(n / nf) > this.header!.node_count)
        this.fail(
          pos,
          `malformed snapshot: the "nodes" section has more values than node_count (${this.header!.node_count}) x ${nf} fields`,
        );
      const typeOff = this.nodeTypeOff,
        nameOff = this.nodeNameOff,
        idOff = this.nodeIdOff,
        sizeOff = this.nodeSizeOff,
        ecOff = this.nodeEdgeCountOff;
      const nodeType = this.nodeType,
        nodeName = this.nodeName,
        nodeId = this.nodeId,
        nodeSize = this.nodeSelfSize,
        firstEdge = this.firstEdge;
      const trace = this.nodeTraceId,
        trOff = this.nodeTraceOff,
        detach = this.nodeDetachedness,
        dtOff = this.nodeDetachOff;
      const edgeLimit = this.header!.edge_count;
      let edgeSum = this.edgeSum;
      for (; i + nf <= n; i += nf, node++) {
        const type = s[i + typeOff],
          name = s[i + nameOff],
          id = s[i + idOff],
          size = s[i + sizeOff],
          ec = s[i + ecOff];
        // Every value indexes something or is added up: one out of range would surface much later as garbage.
        if (!(
          type >= 0 &&
          type < 256 &&
          name >= 0 &&
          name < 4294967296 &&
          id >= 0 &&
          id < 4294967296 &&
          size >= 0 &&
          size <= Number.MAX_SAFE_INTEGER &&
          ec >= 0
        )) {
          this.failNodeRow(pos, node, { type, name, id, self_size: size, edge_count: ec });
        }
        edgeSum += ec;
        if (edgeSum > edgeLimit)
          this.fail(
            pos,
            `malformed snapshot: the edge counts of the first ${node + 1} nodes add up to ${edgeSum}, more than edge_count (${edgeLimit}) in the "nodes" section`,
          );
        nodeType[node] = type;
        nodeName[node] = name;
        nodeId[node] = id;
        nodeSize[node] = size;
        firstEdge[node + 1] = ec;
      }
      this.edgeSum = edgeSum;
      if (trace) {
        for (let k = 0, nd = this.nodeValues / nf; k + nf <= n; k += nf, nd++) {
          const v = s[k + trOff];
          if (!(v >= 0 && v < 4294967296)) this.failNodeRow(pos, nd, { trace_node_id: v });
          trace[nd] = v;
        }
      }
      if (detach) {
        for (let k = 0, nd = this.nodeValues / nf; k + nf <= n; k += nf, nd++) {
          const v = s[k + dtOff];
          if (!(v >= 0 && v < 256)) this.failNodeRow(pos, nd, { detachedness: v });
          detach[nd] = v;
        }
      }
      this.nodeValues = node * nf;
    } else if (this.sink === Sink.Edges) {
      const ef = this.edgeFieldCount;
      let edge = this.edgeValues / ef;
      if (edge + Math.floor(n / ef) > this.header!.edge_count)
        this.fail(
          pos,
          `malformed snapshot: the "edges" section has more values than edge_count (${this.header!.edge_count}) x ${ef} fields`,
        );
      const nf = this.nodeFieldCount;
      const nodeLimit = this.header!.node_count * nf;
      const typeOff = this.edgeTypeOff,
        nameOff = this.edgeNameOff,
        toOff = this.edgeToOff;
      const edgeType = this.edgeType,
        edgeName = this.edgeName,
        edgeTo = this.edgeTo;
      for (; i + ef <= n; i += ef, edge++) {
        const to = s[i + toOff];
        const node = to / nf;
        // A valid target is a whole row position inside the nodes array.
        if (!(to >= 0 && to < nodeLimit) || node !== Math.floor(node)) {
          this.fail(
            pos,
            `malformed snapshot: edge ${edge} points at ${to}, which is not a node position (a multiple of ${nf} below ${nodeLimit}) in the "edges" section`,
          );
        }
        const type = s[i + typeOff],
          name = s[i + nameOff];
        if (!(type >= 0 && type < 256))
          this.fail(pos, `malformed snapshot: edge ${edge} has type ${type}, out of range in the "edges" section`);
        if (!(name >= 0 && name < 4294967296))
          this.fail(
            pos,
            `malformed snapshot: edge ${edge} has name_or_index ${name}, out of range in the "edges" section`,
          );
        edgeTo[edge] = node;
        edgeType[edge] = type;
        edgeName[edge] = name;
      }
      this.edgeValues = edge * ef;
    } else {
      this.generic!.pushAll(s, 0, n);
      i = n;
    }
    const rest = n - i;
    if (rest > 0 && !last) s.copyWithin(0, i, n);
    this.scratchLen = rest;
    return rest;
  }

  private failNodeRow(pos: number, node: number, values: Record<string, number>): never {
    const bad = Object.entries(values).find(
      ([k, v]) =>
        !(v >= 0) ||
        (k === 'self_size'
          ? v > Number.MAX_SAFE_INTEGER
          : k === 'type' || k === 'detachedness'
            ? v >= 256
            : k === 'edge_count'
              ? false
              : v >= 4294967296),
    );
    const [field, value] = bad ?? Object.entries(values)[0];
    const shown = Number.isFinite(value) ? String(value) : 'a number too large to read';
    this.fail(
      pos,
      `malformed snapshot: node ${node} has ${field} ${shown}, which is impossible, in the "nodes" section`,
    );
  }

  private endNumbers(pos: number): void {
    const h = this.header!;
    if (this.sink === Sink.Nodes) {
      const expected = h.node_count * this.nodeFieldCount;
      if (this.nodeValues !== expected) {
        this.fail(
          pos,
          `malformed snapshot: the "nodes" section has ${this.nodeValues} values, expected ${expected} (node_count ${h.node_count} x ${this.nodeFieldCount} fields)`,
        );
      }
      // Turn per-node edge counts into first-edge offsets.
      const fe = this.firstEdge;
      for (let i = 1; i < fe.length; i++) fe[i] += fe[i - 1];
      if (fe[fe.length - 1] !== h.edge_count) {
        this.fail(
          pos,
          `malformed snapshot: the nodes' edge counts add up to ${fe[fe.length - 1]}, but edge_count is ${h.edge_count}`,
        );
      }
      this.onNodesDone?.();
    } else if (this.sink === Sink.Edges) {
      const expected = h.edge_count * this.edgeFieldCount;
      if (this.edgeValues !== expected) {
        this.fail(
          pos,
          `malformed snapshot: the "edges" section has ${this.edgeValues} values, expected ${expected} (edge_count ${h.edge_count} x ${this.edgeFieldCount} fields)`,
        );
      }
    } else {
      this.genericSections.set(this.key, this.generic!.result());
      this.generic = null;
    }
    // An edges-only parser has nothing more to read once its section ends.
    this.mode = this.edgesOnly && this.sink === Sink.Edges ? Mode.Stopped : Mode.TopKey;
  }

  /** Parses the array of JSON strings into the string table without decoding them. */
  private scanStrings(buf: Buffer, pos: number, end: number): number {
    if (!this.strOpen) {
      while (pos < end && isSpace(buf[pos])) pos++;
      if (pos === end) return pos;
      if (buf[pos] !== 0x5b) this.fail(pos, 'malformed snapshot: "strings" is not an array');
      this.strOpen = true;
      pos++;
    }
    while (pos < end) {
      if (this.strInString) {
        // Find the closing quote: a quote preceded by an even number of backslashes.
        let q = buf.indexOf(0x22, pos);
        while (q !== -1 && q < end) {
          let bs = 0;
          let k = q - 1;
          while (k >= pos && buf[k] === 0x5c) {
            bs++;
            k--;
          }
          if (k < pos) bs += this.strPendingBackslashes;
          if ((bs & 1) === 0) break;
          q = buf.indexOf(0x22, q + 1);
        }
        if (q === -1 || q >= end) {
          // The string continues in the next chunk; remember trailing backslashes for the escape rule.
          const piece = Buffer.from(buf.subarray(pos, end));
          this.strPieces.push(piece);
          this.strPieceLen += piece.length;
          let k = end - 1;
          let bs = 0;
          while (k >= pos && buf[k] === 0x5c) {
            bs++;
            k--;
          }
          this.strPendingBackslashes = k < pos ? this.strPendingBackslashes + bs : bs;
          return end;
        }
        if (this.strPieces.length === 0) {
          this.strings.append(buf.subarray(pos, q));
        } else {
          const last = buf.subarray(pos, q);
          this.strPieces.push(last);
          this.strings.append(this.strPieces, this.strPieceLen + last.length);
          this.strPieces = [];
          this.strPieceLen = 0;
        }
        this.strPendingBackslashes = 0;
        this.strInString = false;
        pos = q + 1;
        continue;
      }
      const c = buf[pos];
      if (c === 0x22) {
        this.strInString = true;
        this.strPendingBackslashes = 0;
        pos++;
        continue;
      }
      if (c === 0x2c || isSpace(c)) {
        pos++;
        continue;
      }
      if (c === 0x5d) {
        this.mode = Mode.TopKey;
        return pos + 1;
      }
      this.fail(pos, `malformed snapshot: unexpected ${describeByte(c)} in the "strings" section`);
    }
    return pos;
  }

  /** Parses the nested trace tree into parent-linked columns. */
  private scanTraceTree(buf: Buffer, pos: number, end: number): number {
    const fields = this.ttFieldCount - 1; // numeric fields before the children array
    for (; pos < end; pos++) {
      const c = buf[pos];
      const d = c - 48;
      if (d >= 0 && d <= 9) {
        this.acc = this.acc * 10 + d;
        this.inNum = true;
        continue;
      }
      if (this.inNum) {
        this.ttFields.push(this.acc);
        this.acc = 0;
        this.inNum = false;
        if (this.ttFields.length === fields) {
          const parent = this.ttStack.length ? this.ttStack[this.ttStack.length - 1] : -1;
          this.ttId.push(this.ttFields[this.ttIdOff]);
          this.ttFi.push(this.ttFields[this.ttFiOff]);
          this.ttParent.push(parent);
          this.ttLast = this.ttId.length - 1;
          this.ttFields = [];
        }
      }
      if (c === 0x5b) {
        // The outermost bracket opens the list of roots; inner ones open the children of the last node read.
        if (this.ttDepth > 0) this.ttStack.push(this.ttLast);
        this.ttDepth++;
      } else if (c === 0x5d) {
        this.ttDepth--;
        if (this.ttDepth === 0) {
          this.mode = Mode.TopKey;
          return pos + 1;
        }
        this.ttStack.pop();
      } else if (!(c === 0x2c || isSpace(c))) {
        this.fail(pos, `malformed snapshot: unexpected ${describeByte(c)} in the "trace_tree" section`);
      }
    }
    return pos;
  }

  /** Checks that the file ended where a snapshot may end, and assembles the result. */
  finish(fileSize: number): RawSnapshot {
    if (this.mode !== Mode.Done) {
      const where =
        this.mode === Mode.TopOpen
          ? 'before any data'
          : this.key
            ? `inside the ${quoteKey(this.key)} section`
            : 'in the header';
      throw new SnapshotParseError(
        this.file,
        fileSize,
        `the file ends ${where}: the snapshot is truncated (was the capture interrupted?)`,
      );
    }
    const h = this.header;
    if (!h) throw new SnapshotParseError(this.file, -1, 'not a V8 heap snapshot: there is no "snapshot" header');
    if (!this.sections.includes('nodes'))
      throw new SnapshotParseError(this.file, -1, 'not a V8 heap snapshot: there is no "nodes" section');
    if (!this.sections.includes('edges'))
      throw new SnapshotParseError(this.file, -1, 'not a V8 heap snapshot: there is no "edges" section');
    if (!this.sections.includes('nodes'))
      throw new SnapshotParseError(this.file, -1, 'not a V8 heap snapshot: there is no "nodes" section');
    if (!this.sections.includes('strings'))
      throw new SnapshotParseError(this.file, -1, 'not a V8 heap snapshot: there is no "strings" section');
    this.strings.seal();
    const nameLimit = this.strings.length;
    // Names must point into the string table; a corrupt index would otherwise surface much later as garbage.
    for (let i = 0; i < this.nodeName.length; i++) {
      if (this.nodeName[i] >= nameLimit)
        throw new SnapshotParseError(
          this.file,
          -1,
          `malformed snapshot: node ${i} names string ${this.nodeName[i]}, but there are only ${nameLimit} strings in the "strings" section`,
        );
    }
    // Edges read on this thread are checked here; a parallel parse checks its edges once they arrive.
    if (!this.edgesExternal) checkEdgeNames(this.file, h, this.edgeType, this.edgeName, nameLimit);
    const corrupt = (reason: string): never => {
      throw new SnapshotParseError(this.file, -1, `malformed snapshot: ${reason}`);
    };
    const locFields = h.meta.location_fields ?? ['object_index', 'script_id', 'line', 'column'];
    const rawLoc = this.genericSections.get('locations') ?? new Float64Array(0);
    const locations = new Uint32Array(rawLoc.length);
    const objOff = locFields.indexOf('object_index');
    const nf = this.nodeFieldCount;
    if (rawLoc.length % locFields.length !== 0)
      corrupt(
        `the "locations" section has ${rawLoc.length} values, not a whole number of rows of ${locFields.length} fields`,
      );
    for (let i = 0; i < rawLoc.length; i++) {
      const f = i % locFields.length;
      const v = rawLoc[i];
      if (f === objOff) {
        if (!(v >= 0 && v < h.node_count * nf && v % nf === 0))
          corrupt(
            `location ${Math.floor(i / locFields.length)} points at ${v}, which is not a node position in the "locations" section`,
          );
        locations[i] = v / nf;
      } else {
        if (!(v >= 0 && v < 4294967296))
          corrupt(
            `location ${Math.floor(i / locFields.length)} has ${locFields[f]} ${v}, out of range in the "locations" section`,
          );
        locations[i] = v;
      }
    }
    const traceFunctionInfos = this.genericSections.get('trace_function_infos') ?? new Float64Array(0);
    const tfFields = h.meta.trace_function_info_fields ?? TRACE_FUNCTION_INFO_FIELDS;
    const tfStride = tfFields.length;
    if (traceFunctionInfos.length % tfStride !== 0)
      corrupt(
        `the "trace_function_infos" section has ${traceFunctionInfos.length} values, not a whole number of rows of ${tfStride} fields`,
      );
    for (const field of ['name', 'script_name']) {
      const off = tfFields.indexOf(field);
      for (let i = off; off >= 0 && i < traceFunctionInfos.length; i += tfStride) {
        const v = traceFunctionInfos[i];
        if (!(v >= 0 && v < nameLimit))
          corrupt(
            `function info ${(i - off) / tfStride} names string ${v}, but there are only ${nameLimit} strings in the "trace_function_infos" section`,
          );
      }
    }
    const functionCount = traceFunctionInfos.length / tfStride;
    const ttFi = this.ttFi.result();
    for (let i = 0; i < ttFi.length; i++) {
      if (!(ttFi[i] < functionCount))
        corrupt(
          `trace node ${i} refers to function info ${ttFi[i]}, but there are only ${functionCount} in the "trace_tree" section`,
        );
    }
    const ttId = this.ttId.result();
    for (let i = 0; i < ttId.length; i++)
      if (!(ttId[i] < 4294967296))
        corrupt(`trace node ${i} has id ${ttId[i]}, out of range in the "trace_tree" section`);
    const traceTree: TraceTree | null = this.sawTraceTree
      ? {
          count: ttId.length,
          id: Uint32Array.from(ttId),
          functionInfoIndex: Uint32Array.from(ttFi),
          parent: Int32Array.from(this.ttParent.result()),
        }
      : null;
    return {
      file: this.file,
      fileSize,
      header: h,
      nodeCount: h.node_count,
      edgeCount: h.edge_count,
      nodeType: this.nodeType,
      nodeName: this.nodeName,
      nodeId: this.nodeId,
      nodeSelfSize: this.nodeSelfSize,
      nodeTraceId: this.nodeTraceId,
      nodeDetachedness: this.nodeDetachedness,
      firstEdge: this.firstEdge,
      edgeType: this.edgeType,
      edgeName: this.edgeName,
      edgeTo: this.edgeTo,
      strings: this.strings,
      traceFunctionInfos,
      traceTree,
      locations,
      sections: this.sections,
    };
  }
}

/**
 * Checks the header fields the parser and the analysis index with: field lists must be lists of names holding the
 * fields used, counts must be counts. `fail` receives a reason naming the field.
 */
function checkHeader(h: SnapshotHeader, fail: (reason: string) => never): void {
  const meta = h.meta as unknown as Record<string, unknown>;
  const where = 'in the "snapshot" header';
  const names = (field: string, required: string[], optional: boolean): void => {
    const v = meta[field];
    if (v === undefined && optional) return;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
      fail(`malformed snapshot: meta.${field} is ${quoteValue(v, 40)}, not a list of field names ${where}`);
    const missing = required.find((r) => !(v as string[]).includes(r));
    if (missing) fail(`malformed snapshot: meta.${field} has no "${missing}" field ${where}`);
  };
  names('node_fields', [], false);
  names('edge_fields', [], false);
  names('location_fields', ['object_index', 'script_id', 'line', 'column'], true);
  names('trace_function_info_fields', ['name', 'script_name', 'line', 'column'], true);
  names('trace_node_fields', ['id', 'function_info_index', 'children'], true);
  const tf = h.meta.trace_node_fields;
  if (tf && tf[tf.length - 1] !== 'children')
    fail(`malformed snapshot: meta.trace_node_fields does not end with "children" ${where}`);
  for (const field of ['node_types', 'edge_types']) {
    const v = meta[field];
    if (!Array.isArray(v) || !Array.isArray(v[0]) || !(v[0] as unknown[]).every((x) => typeof x === 'string')) {
      fail(`malformed snapshot: meta.${field} is ${quoteValue(v, 40)}, not a list of type names ${where}`);
    }
  }
  const count = (field: 'trace_function_count' | 'extra_native_bytes'): void => {
    const v = (h as unknown as Record<string, unknown>)[field];
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > Number.MAX_SAFE_INTEGER)
      fail(`malformed snapshot: ${field} is ${quoteValue(v, 40)}, not a count ${where}`);
  };
  count('trace_function_count');
  count('extra_native_bytes');
}

/** Checks that every named edge (all but element and hidden edges) names a string inside the string table. */
export function checkEdgeNames(
  file: string,
  h: SnapshotHeader,
  edgeType: Uint8Array,
  edgeName: Uint32Array,
  stringCount: number,
): void {
  const types = Array.isArray(h.meta.edge_types[0]) ? (h.meta.edge_types[0] as string[]) : [];
  const element = types.indexOf('element');
  const hidden = types.indexOf('hidden');
  for (let e = 0; e < edgeName.length; e++) {
    const t = edgeType[e];
    if (t !== element && t !== hidden && edgeName[e] >= stringCount) {
      throw new SnapshotParseError(
        file,
        -1,
        `malformed snapshot: edge ${e} names string ${edgeName[e]}, but there are only ${stringCount} strings in the "strings" section`,
      );
    }
  }
}

/** A section name as read from the file, quoted for a message (escaped, one line, bounded). */
function quoteKey(key: string): string {
  return oneLine(JSON.stringify(key), 60);
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function describeByte(c: number): string {
  if (c >= 0x20 && c < 0x7f) return `'${String.fromCharCode(c)}'`;
  return `byte 0x${c.toString(16).padStart(2, '0')}`;
}
