/**
 * Which edges keep their target alive for the dominator tree, following Chrome DevTools' rules so that retained sizes
 * match its Memory panel:
 *  - weak edges, self edges and shortcut edges (other than from the root) do not retain;
 *  - the internal edge from a WeakMap's table to a value does not retain (the key does);
 *  - an edge from an object outside the user's object graph into it does not retain ("page-owned" marking: everything
 *    reachable from the user global objects, which are the root's shortcut targets).
 * Time O(nodes + edges); memory one bit per edge plus one byte per node.
 */
import { HeapSnapshot } from './snapshot';

/** Per-string cache: -2 unknown, -1 not a WeakMap pair name, otherwise the table object id named in it. */
export class EphemeronNames {
  private readonly cache: Float64Array;
  private static readonly PATTERN =
    /^\d+( \/ part of key \(.*? @\d+\) -> value \(.*? @\d+\) pair in WeakMap \(table @(\d+)\))$/;

  constructor(private readonly snapshot: HeapSnapshot) {
    this.cache = new Float64Array(snapshot.strings.length).fill(-2);
  }

  /** The table id named by an internal WeakMap edge name, or -1 when the name is not of that shape. */
  tableId(nameIndex: number): number {
    const c = nameIndex < this.cache.length ? this.cache[nameIndex] : -2;
    if (c !== -2) return c;
    const strings = this.snapshot.strings;
    let result = -1;
    // Cheap byte check before decoding: such names are long and start with a digit.
    if (strings.rawLength(nameIndex) > 40) {
      const text = strings.peek(nameIndex);
      const m = text.includes('pair in WeakMap') ? EphemeronNames.PATTERN.exec(text) : null;
      if (m) result = Number(m[2]);
    }
    if (nameIndex < this.cache.length) this.cache[nameIndex] = result;
    return result;
  }

  /** The part of the name after the leading index, shared by the key->value and table->value edges of one pair. */
  pairKey(nameIndex: number): string | null {
    if (this.tableId(nameIndex) < 0) return null;
    const text = this.snapshot.strings.peek(nameIndex);
    return text.slice(text.indexOf(' / '));
  }
}

/**
 * Marks objects reachable over non-weak edges from the user global objects (the root's shortcut targets).
 * Returns a byte per node (1 = page-owned); all zero when the root has no shortcut edges.
 */
export function markPageOwned(s: HeapSnapshot): Uint8Array {
  const owned = new Uint8Array(s.nodeCount);
  const stack = new Uint32Array(s.nodeCount);
  let top = 0;
  const { firstEdge, edgeType, edgeTo } = s;
  const shortcut = s.types.edgeShortcut;
  const weak = s.types.edgeWeak;
  for (let e = firstEdge[s.rootIndex]; e < firstEdge[s.rootIndex + 1]; e++) {
    const t = edgeTo[e];
    if (edgeType[e] === shortcut && !owned[t]) {
      owned[t] = 1;
      stack[top++] = t;
    }
  }
  while (top > 0) {
    const node = stack[--top];
    const end = firstEdge[node + 1];
    for (let e = firstEdge[node]; e < end; e++) {
      if (edgeType[e] === weak) continue;
      const t = edgeTo[e];
      if (!owned[t]) {
        owned[t] = 1;
        stack[top++] = t;
      }
    }
  }
  return owned;
}

/** A bit per edge: set when the edge counts for the dominator tree. */
export class EssentialEdges {
  readonly bits: Uint32Array;

  /** With `pageOwned` null, no edge is computed (an empty set, for analyses without a dominator tree). */
  constructor(s: HeapSnapshot, pageOwned: Uint8Array | null, names: EphemeronNames) {
    const m = s.edgeCount;
    const bits = new Uint32Array(pageOwned ? (m >>> 5) + 1 : 1);
    this.bits = bits;
    if (!pageOwned) return;
    const { firstEdge, edgeType, edgeTo, edgeName, nodeId } = s;
    const { edgeWeak, edgeShortcut, edgeInternal } = s.types;
    const root = s.rootIndex;
    for (let node = 0; node < s.nodeCount; node++) {
      const end = firstEdge[node + 1];
      const ownedFrom = pageOwned[node];
      for (let e = firstEdge[node]; e < end; e++) {
        const type = edgeType[e];
        const to = edgeTo[e];
        if (type === edgeWeak || to === node) continue;
        if (node !== root) {
          if (type === edgeShortcut) continue;
          if (!ownedFrom && pageOwned[to]) continue;
          if (type === edgeInternal && names.tableId(edgeName[e]) === nodeId[node]) continue;
        }
        bits[e >>> 5] |= 1 << (e & 31);
      }
    }
  }

  has(edge: number): boolean {
    return (this.bits[edge >>> 5] & (1 << (edge & 31))) !== 0;
  }
}
