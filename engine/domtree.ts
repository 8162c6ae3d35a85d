/**
 * The dominator tree as child lists (compressed: firstChild offsets plus one array of children), for walking subtrees.
 * Time O(nodes), memory 8 bytes per node.
 */
export interface DominatorTree {
  firstChild: Uint32Array;
  children: Uint32Array;
}

/** `scratch`: three arrays of at least nodes + 1 entries (any contents) to build in instead of allocating. */
export function buildDominatorTree(dominator: Uint32Array, root: number, scratch?: Uint32Array[]): DominatorTree {
  const n = dominator.length;
  const reuse = scratch && scratch.length >= 3 && scratch.every((a) => a.length > n);
  const firstChild = reuse ? scratch[0].subarray(0, n + 1).fill(0) : new Uint32Array(n + 1);
  for (let node = 0; node < n; node++) if (node !== root) firstChild[dominator[node] + 1]++;
  for (let i = 1; i <= n; i++) firstChild[i] += firstChild[i - 1];
  const fill = reuse ? scratch[1].subarray(0, n) : new Uint32Array(n);
  fill.set(firstChild.subarray(0, n));
  const children = reuse ? scratch[2].subarray(0, Math.max(0, n - 1)) : new Uint32Array(Math.max(0, n - 1));
  for (let node = 0; node < n; node++) if (node !== root) children[fill[dominator[node]]++] = node;
  return { firstChild, children };
}
