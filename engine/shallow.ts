/**
 * Shallow sizes as Chrome DevTools shows them: the size of an internal `hidden` or `array` node (an elements store,
 * a property backing store) that has exactly one owning object is moved onto that owner, recursively, so that an
 * Array's shallow size includes its elements. Ownership spreads along every non-weak edge; a node reached from two
 * owners keeps its own size. Nothing is moved onto the root or synthetic nodes, and nothing at all when the root has
 * no user roots. Mutates `selfSize` in place. Time O(nodes + edges), memory 4 bytes per node plus a work list.
 */
import { HeapSnapshot } from './snapshot';

const UNVISITED = 0xffffffff;
const MULTIPLE = 0xfffffffe;

export function transferShallowSizes(s: HeapSnapshot, selfSize: Float64Array): void {
  const { firstEdge, edgeType, edgeTo, nodeType } = s;
  const { hidden, array, synthetic, edgeWeak } = s.types;
  const root = s.rootIndex;
  let hasUserRoot = false;
  for (let e = firstEdge[root]; e < firstEdge[root + 1]; e++) {
    if (nodeType[edgeTo[e]] !== synthetic) hasUserRoot = true;
  }
  if (!hasUserRoot) return;
  const n = s.nodeCount;
  const owner = new Uint32Array(n).fill(UNVISITED);
  let work = new Uint32Array(Math.max(1024, n));
  let top = 0;
  const ownable = (node: number) => nodeType[node] === hidden || nodeType[node] === array;
  for (let node = 0; node < n; node++) {
    if (!ownable(node)) {
      owner[node] = node;
      work[top++] = node;
    }
  }
  while (top > 0) {
    const node = work[--top];
    const o = owner[node];
    const end = firstEdge[node + 1];
    for (let e = firstEdge[node]; e < end; e++) {
      if (edgeType[e] === edgeWeak) continue;
      const t = edgeTo[e];
      const current = owner[t];
      if (current === UNVISITED) {
        owner[t] = o;
      } else if (current === t || current === o || current === MULTIPLE) {
        continue;
      } else {
        owner[t] = MULTIPLE;
      }
      if (top === work.length) {
        const w = new Uint32Array(work.length * 2);
        w.set(work);
        work = w;
      }
      work[top++] = t;
    }
  }
  for (let node = 0; node < n; node++) {
    const o = owner[node];
    if (o === node || o === UNVISITED || o === MULTIPLE) continue;
    if (o === root || nodeType[o] === synthetic) continue;
    selfSize[o] += selfSize[node];
    selfSize[node] = 0;
  }
}
