/**
 * Distances from the roots as Chrome DevTools computes them: a breadth-first search from the user roots (the global
 * objects, distance 1), then from the root for everything else (system objects, distance from 100000000). Weak edges,
 * the native context's `sloppy_function_map`, and the first-seen edge of each WeakMap key/value pair are not followed
 * (so a WeakMap value is as far as the farther of its key and table). Unreached nodes get NO_DISTANCE.
 * Time O(nodes + edges), memory 8 bytes per node.
 */
import { EphemeronNames } from './essential';
import { HeapSnapshot } from './snapshot';

export const NO_DISTANCE = -5;
export const BASE_SYSTEM_DISTANCE = 100000000;

/** `scratch` (at least nodes + 1 entries, any contents) is used for the queue instead of a new array when given. */
export function computeDistances(s: HeapSnapshot, names: EphemeronNames, scratch?: Uint32Array): Int32Array {
  const n = s.nodeCount;
  const distance = new Int32Array(n).fill(NO_DISTANCE);
  const queue = scratch && scratch.length > n ? scratch : new Uint32Array(n + 1);
  const { firstEdge, edgeType, edgeTo, edgeName, nodeType } = s;
  const { synthetic, hidden, edgeWeak, edgeInternal } = s.types;
  const root = s.rootIndex;
  const pendingPairs = new Set<string>();
  const sloppyName = findString(s, 'sloppy_function_map');
  const nativeContextName = findString(s, 'system / NativeContext');

  const bfs = (head: number, tail: number) => {
    while (head < tail) {
      const node = queue[head++];
      const d = distance[node] + 1;
      const isNativeContext = nodeType[node] === hidden && s.nodeName[node] === nativeContextName;
      const end = firstEdge[node + 1];
      for (let e = firstEdge[node]; e < end; e++) {
        const type = edgeType[e];
        if (type === edgeWeak) continue;
        const t = edgeTo[e];
        if (distance[t] !== NO_DISTANCE) continue;
        if (isNativeContext && edgeName[e] === sloppyName) continue;
        if (type === edgeInternal) {
          const key = names.pairKey(edgeName[e]);
          if (key !== null && !pendingPairs.has(key)) {
            // The value of a WeakMap pair is reached only once both its key and its table are.
            pendingPairs.add(key);
            continue;
          }
        }
        distance[t] = d;
        queue[tail++] = t;
      }
    }
    return tail;
  };

  let tail = 0;
  for (let e = firstEdge[root]; e < firstEdge[root + 1]; e++) {
    const t = edgeTo[e];
    if (nodeType[t] !== synthetic && distance[t] === NO_DISTANCE) {
      distance[t] = 1;
      queue[tail++] = t;
    }
  }
  const hadUserRoots = tail > 0;
  tail = bfs(0, tail);
  distance[root] = hadUserRoots ? BASE_SYSTEM_DISTANCE : 0;
  queue[tail] = root;
  bfs(tail, tail + 1);
  return distance;
}

function findString(s: HeapSnapshot, text: string): number {
  for (let i = 0; i < s.strings.length; i++) {
    if (s.strings.rawLength(i) === text.length && s.strings.startsWith(i, text)) return i;
  }
  return -1;
}
