/**
 * Per-class summary (Chrome DevTools' Summary view): for each class the object count, shallow size and retained size.
 * A class's retained size counts each object not already inside the retained set of another counted object of the
 * same class (the DevTools rule), so nested instances are not counted twice. Objects of zero shallow size are left
 * out. Time O(nodes) over the dominator tree.
 */
import { HeapAnalysis } from './analysis';
import type { ClassSummary } from '../protocol/heap';

export function summarizeClasses(a: HeapAnalysis): ClassSummary[] {
  const s = a.snapshot;
  const { classes, nodeClass } = a.classIndex;
  const count = new Float64Array(classes.length);
  const shallow = new Float64Array(classes.length);
  const retained = new Float64Array(classes.length);
  const distance = new Int32Array(classes.length).fill(0x7fffffff);
  const size = a.shallowSize;
  for (let node = 0; node < s.nodeCount; node++) {
    if (size[node] === 0) continue;
    const c = nodeClass[node];
    count[c]++;
    shallow[c] += size[node];
    if (a.distance[node] >= 0 && a.distance[node] < distance[c]) distance[c] = a.distance[node];
  }
  // Walk the dominator tree depth-first, counting an object only when no dominating object of its class was counted.
  // No stack: a node's parent is its dominator, and its next sibling follows it in the parent's child list (which is
  // in ascending node order, so a binary search finds the position again on the way up). One bit per node remembers
  // which nodes were counted.
  const { firstChild, children } = a.dominatorTree;
  const dominator = a.dominator;
  const root = s.rootIndex;
  const open = new Uint32Array(classes.length);
  const counted = new Uint32Array((s.nodeCount >>> 5) + 1);
  let node = root;
  let next = firstChild[root];
  for (;;) {
    if (next < firstChild[node + 1]) {
      const child = children[next];
      const c = nodeClass[child];
      if (size[child] > 0 && open[c] === 0) {
        retained[c] += a.retainedSize[child];
        open[c]++;
        counted[child >>> 5] |= 1 << (child & 31);
      }
      node = child;
      next = firstChild[child];
      continue;
    }
    if (node === root) break;
    if (counted[node >>> 5] & (1 << (node & 31))) open[nodeClass[node]]--;
    const parent = dominator[node];
    let lo = firstChild[parent];
    let hi = firstChild[parent + 1] - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (children[mid] < node) lo = mid + 1;
      else hi = mid;
    }
    node = parent;
    next = lo + 1;
  }
  const rows: ClassSummary[] = [];
  for (let c = 0; c < classes.length; c++) {
    if (count[c] === 0) continue;
    const info = classes[c];
    const row: ClassSummary = {
      className: info.name,
      count: count[c],
      shallowSize: shallow[c],
      retainedSize: retained[c],
      distance: distance[c] === 0x7fffffff ? -5 : distance[c],
    };
    if (info.scriptId >= 0) {
      row.scriptId = info.scriptId;
      row.line = info.line;
      row.column = info.column;
    }
    rows.push(row);
  }
  rows.sort((x, y) => y.retainedSize - x.retainedSize || y.shallowSize - x.shallowSize);
  return rows;
}
