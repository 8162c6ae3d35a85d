/**
 * The retainer (reverse edge) index, by counting sort on edge targets: firstRetainer[i]..firstRetainer[i+1] index
 * retainerEdge / retainerNode for node i. Built in two passes (count, then fill) so that a parallel parse can count as
 * soon as the edges are read and fill once the nodes' first-edge offsets are known. Time O(nodes + edges).
 */

/** Counting pass: turns `first` (length nodes + 1, zeroed) into the start offset of each node's retainers. */
export function countRetainers(edgeTo: Uint32Array, first: Uint32Array): void {
  const n = first.length - 1;
  for (let e = 0; e < edgeTo.length; e++) first[edgeTo[e] + 1]++;
  for (let i = 1; i <= n; i++) first[i] += first[i - 1];
}

/** Fill pass: records, for each edge, its index and owning node in the slot of its target. */
export function fillRetainers(firstEdge: Uint32Array, edgeTo: Uint32Array, first: Uint32Array, retainerEdge: Uint32Array, retainerNode: Uint32Array): void {
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
