/**
 * The dominator tree as child lists (compressed: firstChild offsets plus one array of children), for walking subtrees.
 * Time O(nodes), memory 8 bytes per node.
 */
export interface DominatorTree {
  firstChild: Uint32Array;
  children: Uint32Array;
}

export function buildDominatorTree(dominator: Uint32Array, root: number): DominatorTree {
  const n = dominator.length;
  const firstChild = new Uint32Array(n + 1);
  for (let node = 0; node < n; node++) if (node !== root) firstChild[dominator[node] + 1]++;
  for (let i = 1; i <= n; i++) firstChild[i] += firstChild[i - 1];
  const fill = firstChild.slice(0, n);
  const children = new Uint32Array(Math.max(0, n - 1));
  for (let node = 0; node < n; node++) if (node !== root) children[fill[dominator[node]]++] = node;
  return { firstChild, children };
}
