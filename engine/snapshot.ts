/**
 * A parsed heap snapshot: node and edge columns, the string table, type codes looked up by name, and the reverse
 * (retainer) index. A node is an index into the columns, never an object.
 */
import { RawSnapshot, SnapshotHeader, TraceTree } from './rawSnapshot';
import { countRetainers, fillRetainers } from './retainers';
import { StringTable } from './strings';

/** Numeric codes of the node and edge types this engine needs, looked up from `snapshot.meta` (-1 if absent). */
export interface TypeCodes {
  hidden: number;
  array: number;
  string: number;
  object: number;
  code: number;
  closure: number;
  regexp: number;
  number: number;
  native: number;
  synthetic: number;
  consString: number;
  slicedString: number;
  symbol: number;
  bigint: number;
  objectShape: number;
  edgeContext: number;
  edgeElement: number;
  edgeProperty: number;
  edgeInternal: number;
  edgeHidden: number;
  edgeShortcut: number;
  edgeWeak: number;
}

export class HeapSnapshot {
  readonly file: string;
  readonly fileSize: number;
  readonly header: SnapshotHeader;
  readonly nodeCount: number;
  readonly edgeCount: number;
  readonly nodeType: Uint8Array;
  readonly nodeName: Uint32Array;
  readonly nodeId: Uint32Array;
  readonly nodeSelfSize: Float64Array;
  readonly nodeTraceId: Uint32Array | null;
  readonly nodeDetachedness: Uint8Array | null;
  readonly firstEdge: Uint32Array;
  readonly edgeType: Uint8Array;
  readonly edgeName: Uint32Array;
  readonly edgeTo: Uint32Array;
  readonly strings: StringTable;
  readonly traceFunctionInfos: Float64Array;
  readonly traceTree: TraceTree | null;
  readonly locations: Uint32Array;
  readonly nodeTypeNames: string[];
  readonly edgeTypeNames: string[];
  readonly types: TypeCodes;
  /** Index of the root node (always 0 in V8 snapshots). */
  readonly rootIndex = 0;

  /** firstRetainer[i]..firstRetainer[i+1] index retainerEdge / retainerNode for node i. */
  firstRetainer!: Uint32Array;
  /** The edge index of each retaining reference, grouped by target node. */
  retainerEdge!: Uint32Array;
  /** The owning node of each retaining reference, parallel to retainerEdge. */
  retainerNode!: Uint32Array;

  constructor(raw: RawSnapshot) {
    this.file = raw.file;
    this.fileSize = raw.fileSize;
    this.header = raw.header;
    this.nodeCount = raw.nodeCount;
    this.edgeCount = raw.edgeCount;
    this.nodeType = raw.nodeType;
    this.nodeName = raw.nodeName;
    this.nodeId = raw.nodeId;
    this.nodeSelfSize = raw.nodeSelfSize;
    this.nodeTraceId = raw.nodeTraceId;
    this.nodeDetachedness = raw.nodeDetachedness;
    this.firstEdge = raw.firstEdge;
    this.edgeType = raw.edgeType;
    this.edgeName = raw.edgeName;
    this.edgeTo = raw.edgeTo;
    this.strings = raw.strings;
    this.traceFunctionInfos = raw.traceFunctionInfos;
    this.traceTree = raw.traceTree;
    this.locations = raw.locations;
    this.nodeTypeNames = typeList(raw.header.meta.node_types);
    this.edgeTypeNames = typeList(raw.header.meta.edge_types);
    const n = (name: string) => this.nodeTypeNames.indexOf(name);
    const e = (name: string) => this.edgeTypeNames.indexOf(name);
    this.types = {
      hidden: n('hidden'),
      array: n('array'),
      string: n('string'),
      object: n('object'),
      code: n('code'),
      closure: n('closure'),
      regexp: n('regexp'),
      number: n('number'),
      native: n('native'),
      synthetic: n('synthetic'),
      consString: n('concatenated string'),
      slicedString: n('sliced string'),
      symbol: n('symbol'),
      bigint: n('bigint'),
      objectShape: n('object shape'),
      edgeContext: e('context'),
      edgeElement: e('element'),
      edgeProperty: e('property'),
      edgeInternal: e('internal'),
      edgeHidden: e('hidden'),
      edgeShortcut: e('shortcut'),
      edgeWeak: e('weak'),
    };
    if (raw.retainers) {
      this.firstRetainer = raw.retainers.firstRetainer;
      this.retainerEdge = raw.retainers.retainerEdge;
      this.retainerNode = raw.retainers.retainerNode;
    } else this.buildRetainers();
  }

  /** Builds the reverse edge index (see retainers.ts). Memory 2 x 4 bytes per edge. */
  private buildRetainers(): void {
    const first = new Uint32Array(this.nodeCount + 1);
    countRetainers(this.edgeTo, first);
    this.retainerEdge = new Uint32Array(this.edgeCount);
    this.retainerNode = new Uint32Array(this.edgeCount);
    fillRetainers(this.firstEdge, this.edgeTo, first, this.retainerEdge, this.retainerNode);
    this.firstRetainer = first;
  }

  /** The node's raw name as in the string table. */
  name(node: number): string {
    return this.strings.get(this.nodeName[node]);
  }

  typeName(node: number): string {
    return this.nodeTypeNames[this.nodeType[node]] ?? `type#${this.nodeType[node]}`;
  }

  edgeTypeName(edge: number): string {
    return this.edgeTypeNames[this.edgeType[edge]] ?? `type#${this.edgeType[edge]}`;
  }

  /** True for edges whose name_or_index is a string index. */
  edgeHasStringName(edge: number): boolean {
    const t = this.edgeType[edge];
    return t !== this.types.edgeElement && t !== this.types.edgeHidden;
  }

  /** The edge's name as text: the property or variable name, or the element index as a string. */
  edgeNameText(edge: number): string {
    return this.edgeHasStringName(edge) ? this.strings.get(this.edgeName[edge]) : String(this.edgeName[edge]);
  }

  /** The node owning edge `edge` (binary search over first-edge offsets). */
  edgeOwner(edge: number): number {
    const fe = this.firstEdge;
    let lo = 0;
    let hi = this.nodeCount - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (fe[mid] <= edge) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The first outgoing edge of `node` with the given type and name, or -1. */
  findEdge(node: number, type: number, name: string): number {
    const end = this.firstEdge[node + 1];
    for (let e = this.firstEdge[node]; e < end; e++) {
      if (this.edgeType[e] === type && this.strings.get(this.edgeName[e]) === name) return e;
    }
    return -1;
  }

  /** Highest odd (JS object) id in this snapshot: objects with a larger id were allocated after it was taken. */
  maxJsObjectId(): number {
    let max = 0;
    const ids = this.nodeId;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id & 1 && id > max) max = id;
    }
    return max;
  }

  /** Approximate bytes held by this model's arrays (for benchmarks and memory limits). */
  byteSize(): number {
    const arrays = [
      this.nodeType,
      this.nodeName,
      this.nodeId,
      this.nodeSelfSize,
      this.nodeTraceId,
      this.nodeDetachedness,
      this.firstEdge,
      this.edgeType,
      this.edgeName,
      this.edgeTo,
      this.firstRetainer,
      this.retainerEdge,
      this.retainerNode,
    ];
    return arrays.reduce((s, a) => s + (a ? a.byteLength : 0), 0) + this.strings.byteSize;
  }
}

function typeList(t: (string[] | string)[] | undefined): string[] {
  const first = t && t[0];
  return Array.isArray(first) ? first : [];
}
