/**
 * Embedder (native) objects carry an attached/detached state; Chrome DevTools spreads it from each native object with a
 * known state to native objects below it (attached wins over detached) and renames detached ones "Detached <name>".
 * Doing the same keeps class names and rows identical to DevTools. Stops at non-native objects.
 * Time O(nodes + edges of native objects).
 */
import { HeapSnapshot } from './snapshot';

const ATTACHED = 1;
const DETACHED = 2;

export function propagateDetachedness(s: HeapSnapshot): void {
  const state = s.nodeDetachedness;
  if (!state) return;
  const n = s.nodeCount;
  const visited = new Uint8Array(n);
  const attached: number[] = [];
  const detached: number[] = [];
  const renamed = new Map<number, number>();
  const { nodeType, nodeName, firstEdge, edgeType, edgeTo } = s;
  const native = s.types.native;
  const skipEdge = (t: number) => t === s.types.edgeHidden || t === s.types.edgeWeak;
  const visit = (node: number, newState: number) => {
    if (visited[node]) return;
    visited[node] = 1;
    if (nodeType[node] !== native) return;
    state[node] = newState;
    if (newState === ATTACHED) attached.push(node);
    else if (newState === DETACHED) {
      let name = renamed.get(nodeName[node]);
      if (name === undefined) {
        name = s.strings.appendText('Detached ' + s.strings.get(nodeName[node]));
        renamed.set(nodeName[node], name);
      }
      nodeName[node] = name;
      detached.push(node);
    }
  };
  const spread = (node: number, newState: number) => {
    for (let e = firstEdge[node]; e < firstEdge[node + 1]; e++) if (!skipEdge(edgeType[e])) visit(edgeTo[e], newState);
  };
  for (let node = 0; node < n; node++) if (state[node] !== 0) visit(node, state[node]);
  while (attached.length) spread(attached.pop()!, ATTACHED);
  while (detached.length) {
    const node = detached.pop()!;
    if (state[node] !== ATTACHED) spread(node, DETACHED);
  }
}
