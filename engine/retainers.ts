/**
 * The retainer (reverse edge) index, by counting sort on edge targets: firstRetainer[i]..firstRetainer[i+1] index
 * retainerEdge / retainerNode for node i. Built in two passes (count, then fill) so that a parallel parse can count as
 * soon as the edges are read and fill once the nodes' first-edge offsets are known. The fill can be split into blocks
 * of targets that two threads claim from a shared counter (see claimRetainerBlocks). Time O(nodes + edges).
 */

/** Counting pass: turns `first` (length nodes + 1, zeroed) into the start offset of each node's retainers. */
export function countRetainers(edgeTo: Uint32Array, first: Uint32Array): void {
  const n = first.length - 1;
  for (let e = 0; e < edgeTo.length; e++) first[edgeTo[e] + 1]++;
  for (let i = 1; i <= n; i++) first[i] += first[i - 1];
}

/** Fill pass: records, for each edge, its index and owning node in the slot of its target. */
export function fillRetainers(
  firstEdge: Uint32Array,
  edgeTo: Uint32Array,
  first: Uint32Array,
  retainerEdge: Uint32Array,
  retainerNode: Uint32Array,
): void {
  const n = first.length - 1;
  const fill = first.slice(0, n);
  for (let node = 0; node < n; node++) {
    const end = firstEdge[node + 1];
    for (let e = firstEdge[node]; e < end; e++) {
      const slot = fill[edgeTo[e]]++;
      retainerEdge[slot] = e;
      retainerNode[slot] = node;
    }
  }
}

/** How many blocks of targets a shared fill is cut into: each block costs one sequential read of all edges. */
export const RETAINER_BLOCKS = 4;

/**
 * Fill pass for the targets in [lo, hi) only. Each target's retainers come out in the same order as from
 * fillRetainers (edge order), so the result does not depend on how the blocks were shared out.
 */
export function fillRetainerBlock(
  firstEdge: Uint32Array,
  edgeTo: Uint32Array,
  first: Uint32Array,
  retainerEdge: Uint32Array,
  retainerNode: Uint32Array,
  lo: number,
  hi: number,
): void {
  const n = first.length - 1;
  const span = hi - lo;
  if (span <= 0) return;
  const fill = first.slice(lo, hi);
  for (let node = 0; node < n; node++) {
    const end = firstEdge[node + 1];
    for (let e = firstEdge[node]; e < end; e++) {
      const k = edgeTo[e] - lo;
      if (k >>> 0 >= span) continue;
      const slot = fill[k]++;
      retainerEdge[slot] = e;
      retainerNode[slot] = node;
    }
  }
}

/**
 * Claims blocks from the shared counter `ctl[next]` and fills them until none is left, counting each one done in
 * `ctl[done]` (and waking whoever waits on it). Either thread of a parallel parse may call it, both at once.
 */
export function claimRetainerBlocks(
  ctl: Int32Array,
  next: number,
  done: number,
  firstEdge: Uint32Array,
  edgeTo: Uint32Array,
  first: Uint32Array,
  retainerEdge: Uint32Array,
  retainerNode: Uint32Array,
): void {
  const n = first.length - 1;
  const size = Math.ceil(n / RETAINER_BLOCKS);
  for (;;) {
    const b = Atomics.add(ctl, next, 1);
    if (b >= RETAINER_BLOCKS) return;
    fillRetainerBlock(firstEdge, edgeTo, first, retainerEdge, retainerNode, b * size, Math.min(n, (b + 1) * size));
    Atomics.add(ctl, done, 1);
    Atomics.notify(ctl, done);
  }
}
