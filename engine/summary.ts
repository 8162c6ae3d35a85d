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
  const { firstChild, children } = a.dominatorTree;
  const open = new Uint32Array(classes.length);
  const stackNode = new Uint32Array(s.nodeCount);
  const stackNext = new Uint32Array(s.nodeCount);
  const stackCounted = new Uint8Array(s.nodeCount);
  let top = 0;
  stackNode[0] = s.rootIndex;
  stackNext[0] = firstChild[s.rootIndex];
  stackCounted[0] = 0;
  while (top >= 0) {
    const node = stackNode[top];
    const next = stackNext[top];
    if (next >= firstChild[node + 1]) {
      if (stackCounted[top]) open[nodeClass[node]]--;
      top--;
      continue;
    }
    stackNext[top] = next + 1;
    const child = children[next];
    const c = nodeClass[child];
    let counted = 0;
    if (size[child] > 0 && open[c] === 0) {
      retained[c] += a.retainedSize[child];
      open[c]++;
      counted = 1;
    }
    top++;
    stackNode[top] = child;
    stackNext[top] = firstChild[child];
    stackCounted[top] = counted;
  }
  const rows: ClassSummary[] = [];
  for (let c = 0; c < classes.length; c++) {
    if (count[c] === 0) continue;
    const info = classes[c];
    const row: ClassSummary = { className: info.name, count: count[c], shallowSize: shallow[c], retainedSize: retained[c], distance: distance[c] === 0x7fffffff ? -5 : distance[c] };
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
