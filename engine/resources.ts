/**
 * Leaks that are not growing object counts of a class: promises that never settle, active handles (sockets, servers,
 * timers, file handles, child processes) and native contexts (vm contexts), counted in each snapshot of a run.
 *
 * How each shows in a V8 snapshot (checked on Node 20 / V8 11.3 with programs that make them):
 * - A promise's `reactions_or_result` internal edge leads to a `system / PromiseReaction` while it is pending with
 *   callbacks waiting (an `await`, a `.then`), to its value once settled, and is absent while it is pending with
 *   nothing waiting. V8 leaves the edge out for values that are not heap objects too (undefined, null, booleans,
 *   small integers), so a promise fulfilled with one of those and still held looks like a pending one with nothing
 *   waiting and is counted as pending (a settled promise that is dropped is gone from the snapshot, and one that a
 *   program keeps in growing numbers is a leak either way).
 * - An open libuv handle is a JS wrapper object (`TCP`, `Pipe`, `Process`, ...) whose `javascript_to_native` edge
 *   leads to Node's embedder node (`Node / TCPSocketWrap`, `Node / TCPServerWrap`, `Node / ProcessWrap`), held by
 *   Node's list of handles; it points at its JS owner (a `Socket`, `Server`, `ChildProcess`) by `owner_symbol`. A
 *   closed handle has no native side left. An open `fs.promises` file handle is a `FileHandle` with a native
 *   `Node / FileHandle`.
 * - A timer is a `Timeout` on one of Node's timer lists (`_idlePrev` leads to a `TimersList` or another `Timeout`); a
 *   cleared or expired one is off the list, and its `_idlePrev` is null (an edge to a `system / Oddball`), which a
 *   program that keeps the timer's owner (a closed socket, a record) still holds.
 * - Each context (the main one and every `vm.createContext`) is a `system / NativeContext`.
 * Only objects reachable from the GC roots count: a reference cycle nothing holds is never a leak.
 * Time O(nodes + edges) per snapshot.
 */
import { HeapAnalysis } from './analysis';
import { NO_DISTANCE } from './distances';

import type { ResourceKind } from '../protocol/report';

export type { ResourceKind } from '../protocol/report';

export const RESOURCE_KINDS: ResourceKind[] = [
  'pending-promise',
  'socket',
  'server',
  'timer',
  'file-handle',
  'child-process',
  'handle',
  'vm-context',
];

/** One resource found in a snapshot: its kind, the node that is it, and the object a program sees of it. */
export interface ResourceNode {
  kind: ResourceKind;
  /** The node counted (the promise, the handle's wrapper, the Timeout, the NativeContext). */
  node: number;
  /** The object the program made or holds: the Socket of a TCP wrapper, the sandbox of a context; else `node`. */
  owner: number;
  /** Node's native class for handles (`TCPSocketWrap`), else empty. */
  native: string;
}

/** Node's native handle classes and the kind of each; other handle classes count as `handle`. */
const NATIVE_KINDS: Record<string, ResourceKind> = {
  TCPSocketWrap: 'socket',
  PipeWrap: 'socket',
  UDPWrap: 'socket',
  TCPServerWrap: 'server',
  ProcessWrap: 'child-process',
  FileHandle: 'file-handle',
  FSEventWrap: 'handle',
  StatWatcher: 'handle',
  SignalWrap: 'handle',
};

const NATIVE_NAME = /^(?:Detached )?Node \/ (\w+)$/;

/** Every resource of a snapshot that is reachable from the GC roots. */
export function findResources(a: HeapAnalysis): ResourceNode[] {
  const s = a.snapshot;
  const ty = s.types;
  const out: ResourceNode[] = [];
  // Names are judged once per string index: a pass over every node does no string work for other classes.
  const PROMISE = 1;
  const TIMEOUT = 2;
  const CONTEXT = 3;
  const OTHER = 4;
  const nameKind = new Map<number, number>();
  for (let node = 0; node < s.nodeCount; node++) {
    const t = s.nodeType[node];
    if (t !== ty.object && t !== ty.hidden) continue;
    if (a.distance[node] === NO_DISTANCE) continue;
    const nameIndex = s.nodeName[node];
    let k = nameKind.get(nameIndex);
    if (k === undefined) {
      const name = s.strings.get(nameIndex);
      k =
        name === 'Promise'
          ? PROMISE
          : name === 'Timeout'
            ? TIMEOUT
            : name === 'system / NativeContext'
              ? CONTEXT
              : OTHER;
      nameKind.set(nameIndex, k);
    }
    if (t === ty.hidden) {
      if (k === CONTEXT) out.push({ kind: 'vm-context', node, owner: contextSandbox(a, node), native: '' });
      continue;
    }
    if (k === PROMISE) {
      if (isPending(a, node)) out.push({ kind: 'pending-promise', node, owner: node, native: '' });
      continue;
    }
    if (k === TIMEOUT) {
      if (isOnTimerList(a, node)) out.push({ kind: 'timer', node, owner: node, native: '' });
      continue;
    }
    // Any other object: a handle when its native side is one of Node's handle classes.
    const native = edgeTo(a, node, 'javascript_to_native');
    if (native < 0) continue;
    const m = NATIVE_NAME.exec(s.name(native));
    if (!m || !(m[1] in NATIVE_KINDS)) continue;
    const jsOwner = symbolEdgeTo(a, node, 'owner_symbol');
    const owner = jsOwner >= 0 ? jsOwner : node;
    let kind = NATIVE_KINDS[m[1]];
    // A pipe (a Unix socket) serves as well as connects: its owner says which.
    if (kind === 'socket' && a.className(owner) === 'Server') kind = 'server';
    out.push({ kind, node, owner, native: m[1] });
  }
  return out;
}

/** Resources of each kind in one snapshot (what the leak finder keeps of earlier snapshots). */
export function countResources(list: ResourceNode[]): Record<ResourceKind, number> {
  const counts = Object.fromEntries(RESOURCE_KINDS.map((k) => [k, 0])) as Record<ResourceKind, number>;
  for (const r of list) counts[r.kind]++;
  return counts;
}

/**
 * True for a promise instance that is pending: a `PromiseReaction` waits on it, or no value is recorded (see the top
 * of this file for what that can also be). Prototypes (which have `then`) are not promises; a recorded value is a
 * settled promise.
 */
export function isPending(a: HeapAnalysis, node: number): boolean {
  const s = a.snapshot;
  let value = -1;
  for (let e = s.firstEdge[node]; e < s.firstEdge[node + 1]; e++) {
    if (!s.edgeHasStringName(e)) continue;
    const name = s.edgeNameText(e);
    if (name === 'then') return false;
    if (name === 'reactions_or_result') value = s.edgeTo[e];
  }
  if (value >= 0) return s.name(value) === 'system / PromiseReaction';
  return true;
}

/**
 * The server that accepted a socket (Node sets `server` and `_server` on each connection a server accepts), or -1 for
 * a socket the program connected itself. An accepted socket is made by Node when a client connects: the line that
 * creates it is the server's, not a `net.connect(` of the program.
 */
export function acceptingServer(a: HeapAnalysis, socket: number): number {
  for (const name of ['_server', 'server']) {
    const server = edgeTo(a, socket, name);
    if (server >= 0 && a.className(server) === 'Server') return server;
  }
  return -1;
}

/** True for a `Timeout` on one of Node's timer lists: its `_idlePrev` is the list or the timer before it. */
function isOnTimerList(a: HeapAnalysis, timeout: number): boolean {
  const prev = edgeTo(a, timeout, '_idlePrev');
  if (prev < 0) return false;
  const name = a.snapshot.name(prev);
  return name === 'TimersList' || name === 'Timeout';
}

/** Node's timer-list links: a Timeout on a list is held by its neighbours and the list, never by the program. */
export const TIMER_LIST_LINKS = new Set(['_idleNext', '_idlePrev']);

/**
 * The retainer the program holds a timer by: its nearest retainer other than Node's timer list (a property, a
 * variable, an array entry), with the edge from it; undefined when only the list holds the timer.
 */
export function timerHolder(a: HeapAnalysis, timer: number): { from: number; edge: number } | undefined {
  const s = a.snapshot;
  let best: { from: number; edge: number } | undefined;
  let bestDist = Infinity;
  for (let r = s.firstRetainer[timer]; r < s.firstRetainer[timer + 1]; r++) {
    const e = s.retainerEdge[r];
    const from = s.retainerNode[r];
    if (s.edgeType[e] === s.types.edgeWeak || a.distance[from] === NO_DISTANCE) continue;
    if (s.edgeHasStringName(e) && TIMER_LIST_LINKS.has(s.edgeNameText(e))) continue;
    const name = s.name(from);
    if (name === 'TimersList' || name === 'Timeout') continue;
    if (a.distance[from] < bestDist) {
      best = { from, edge: e };
      bestDist = a.distance[from];
    }
  }
  return best;
}

/** The object a context was made from (`vm.createContext(sandbox)`): its global proxy's sandbox, or the context. */
function contextSandbox(a: HeapAnalysis, context: number): number {
  const proxy = edgeTo(a, context, 'global_proxy_object');
  return proxy >= 0 ? proxy : context;
}

/** The target of the first edge of `node` with this name, or -1. */
export function edgeTo(a: HeapAnalysis, node: number, name: string): number {
  const s = a.snapshot;
  for (let e = s.firstEdge[node]; e < s.firstEdge[node + 1]; e++) {
    if (s.edgeHasStringName(e) && s.edgeNameText(e) === name) return s.edgeTo[e];
  }
  return -1;
}

/** The target of a property keyed by a symbol with this description (`<symbol owner_symbol>`), or -1. */
function symbolEdgeTo(a: HeapAnalysis, node: number, description: string): number {
  return edgeTo(a, node, `<symbol ${description}>`);
}

/** A resource kind that grew: its members in the last snapshot, grouped by what holds them, with counts per snapshot. */
export interface ResourceCluster {
  kind: ResourceKind;
  /** Members in the last snapshot made after the baseline, with the round (0-based) that made each. */
  members: (ResourceNode & { round: number })[];
  /** Members made in each round that are still there. */
  newPerRound: number[];
  /** Resources of the kind in each snapshot. */
  countSeries: number[];
}

/**
 * The kinds that grow every round, with the same strictness as object groups: the count rises from each snapshot to
 * the next, and resources made in every round (ids above the earlier snapshot's highest) are still there, in steady
 * numbers. Resources of the warm-up (before the baseline) are never new. `round(id)` gives the round of an object id.
 */
export function growingResources(
  series: Record<ResourceKind, number>[],
  last: ResourceNode[],
  a: HeapAnalysis,
  baseMax: number,
  rounds: number,
  round: (id: number) => number,
  minPerRound: number,
): ResourceCluster[] {
  const s = a.snapshot;
  const out: ResourceCluster[] = [];
  for (const kind of RESOURCE_KINDS) {
    const countSeries = series.map((c) => c[kind]);
    let rising = true;
    for (let r = 1; r < countSeries.length; r++) if (countSeries[r] - countSeries[r - 1] < minPerRound) rising = false;
    if (!rising) continue;
    const newPerRound = new Array<number>(rounds).fill(0);
    const members: ResourceCluster['members'] = [];
    for (const m of last) {
      if (m.kind !== kind) continue;
      const id = s.nodeId[m.node];
      if ((id & 1) !== 1 || id <= baseMax) continue;
      const r = round(id);
      newPerRound[r]++;
      members.push({ ...m, round: r });
    }
    const survivedEveryRound = newPerRound.every((x) => x >= minPerRound);
    const steady = Math.min(...newPerRound) >= 0.25 * Math.max(...newPerRound);
    if (survivedEveryRound && steady) out.push({ kind, members, newPerRound, countSeries });
  }
  return out;
}
