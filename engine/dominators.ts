/**
 * Dominator tree and retained sizes: Lengauer-Tarjan semidominators (link-eval with path compression), then immediate
 * dominators by the SNCA step (Georgiadis), which needs no buckets; iterative throughout so deep graphs cannot overflow
 * the stack. Only essential edges count (see essential.ts). Nodes not reachable from the root, and objects retained
 * only by such nodes, are hung under the root as DevTools does, so every node has a dominator and the root's retained
 * size is the total. Time O(edges * log nodes); temporary memory about 20 bytes per node.
 */
import { EssentialEdges } from './essential';
import { HeapSnapshot } from './snapshot';

export interface DominatorResult {
  /** Immediate dominator of each node (the root dominates itself). */
  dominator: Uint32Array;
  /** Retained size of each node. */
  retainedSize: Float64Array;
  /**
   * The work arrays (nodes + 1 entries each) this pass no longer needs, for the next stages to reuse instead of
   * allocating their own while these still wait for the garbage collector (contents undefined).
   */
  scratch: Uint32Array[];
}

export function computeDominators(s: HeapSnapshot, essential: EssentialEdges, selfSize: Float64Array): DominatorResult {
  const n = s.nodeCount;
  const root = s.rootIndex;
  const { firstEdge, edgeTo, firstRetainer, retainerEdge, retainerNode } = s;
  const bits = essential.bits;
  // DFS numbers start at 1; 0 means "not visited". Arrays below are indexed by DFS number.
  const num = new Uint32Array(n);
  const vertex = new Uint32Array(n + 1);
  const parent = new Uint32Array(n + 1);
  let count = 0;

  // Iterative DFS with an explicit stack of (node, next edge) pairs.
  const stackNode = new Uint32Array(n + 1);
  const stackEdge = new Uint32Array(n + 1);
  const dfs = (start: number, parentNum: number, descend: boolean) => {
    num[start] = ++count;
    vertex[count] = start;
    parent[count] = parentNum;
    if (!descend) return;
    let top = 0;
    stackNode[0] = start;
    stackEdge[0] = firstEdge[start];
    while (top >= 0) {
      const node = stackNode[top];
      const e = stackEdge[top];
      if (e >= firstEdge[node + 1]) {
        top--;
        continue;
      }
      stackEdge[top] = e + 1;
      if ((bits[e >>> 5] & (1 << (e & 31))) === 0) continue;
      const t = edgeTo[e];
      if (num[t] !== 0) continue;
      num[t] = ++count;
      vertex[count] = t;
      parent[count] = num[node];
      top++;
      stackNode[top] = t;
      stackEdge[top] = firstEdge[t];
    }
  };
  dfs(root, 0, true);
  if (count < n) {
    // Objects with no essential retainer at all start their own trees under the root.
    for (let node = 0; node < n; node++) {
      if (num[node] !== 0) continue;
      let retained = false;
      for (let r = firstRetainer[node]; r < firstRetainer[node + 1]; r++) {
        const e = retainerEdge[r];
        if ((bits[e >>> 5] & (1 << (e & 31))) !== 0) {
          retained = true;
          break;
        }
      }
      if (!retained) dfs(node, 1, true);
    }
    // Whatever is left is kept only by other unreachable objects (cycles among garbage): hang it under the root.
    for (let node = 0; node < n; node++) if (num[node] === 0) dfs(node, 1, false);
  }

  // The DFS stacks are free now: reuse them for labels and semidominators.
  const label = stackNode;
  const semi = stackEdge;
  const ancestor = new Uint32Array(n + 1);
  for (let i = 1; i <= count; i++) {
    semi[i] = i;
    label[i] = i;
  }
  let path = new Uint32Array(1024);
  // eval with iterative path compression: returns the vertex with the smallest semi on the compressed path.
  const evaluate = (v: number): number => {
    if (ancestor[v] === 0) return v;
    let len = 0;
    let x = v;
    while (ancestor[ancestor[x]] !== 0) {
      if (len === path.length) {
        const grown = new Uint32Array(path.length * 2);
        grown.set(path);
        path = grown;
      }
      path[len++] = x;
      x = ancestor[x];
    }
    while (len > 0) {
      const y = path[--len];
      const a = ancestor[y];
      if (semi[label[a]] < semi[label[y]]) label[y] = label[a];
      ancestor[y] = ancestor[a];
    }
    return label[v];
  };

  // Semidominators in reverse preorder (Lengauer-Tarjan), linking each vertex to its DFS parent once done.
  for (let i = count; i >= 2; i--) {
    const node = vertex[i];
    let s_ = semi[i];
    const rEnd = firstRetainer[node + 1];
    for (let r = firstRetainer[node]; r < rEnd; r++) {
      const e = retainerEdge[r];
      if ((bits[e >>> 5] & (1 << (e & 31))) === 0) continue;
      const v = num[retainerNode[r]];
      if (v === 0) continue;
      const u = v <= i ? v : evaluate(v);
      if (semi[u] < s_) s_ = semi[u];
    }
    // Nodes hung under the root (its children, and the tops of unreachable parts) have the root as a real or
    // virtual predecessor, so the root is their semidominator.
    if (parent[i] === 1) s_ = 1;
    semi[i] = s_;
    ancestor[i] = parent[i];
  }
  // Immediate dominators (the SNCA step): the nearest common ancestor of the DFS parent and the semidominator in the
  // dominator tree built so far, in preorder.
  const dom = ancestor;
  dom[1] = 1;
  for (let i = 2; i <= count; i++) {
    let d = parent[i];
    const sd = semi[i];
    while (d > sd) d = dom[d];
    dom[i] = d;
  }

  // DFS numbers are no longer needed: their array becomes the result (one array of 4 bytes per node less at the peak).
  const dominator = num;
  const retainedSize = Float64Array.from(selfSize);
  for (let i = 1; i <= count; i++) dominator[vertex[i]] = vertex[dom[i]];
  // Children come after their dominator in DFS order, so one backwards pass sums every subtree.
  for (let i = count; i >= 2; i--) {
    const node = vertex[i];
    retainedSize[vertex[dom[i]]] += retainedSize[node];
  }
  return { dominator, retainedSize, scratch: [vertex, parent, ancestor, stackNode, stackEdge] };
}
