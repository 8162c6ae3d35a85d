/**
 * Leak groups across snapshots of one process.
 *
 * Objects allocated after the baseline (object id above the baseline's highest JS id) and still alive in the last
 * snapshot are candidates. Of those, the "leak roots" are the ones not held inside another new object's retained
 * set (looking through array stores, contexts and other internals), so a leaked Connection counts once, not once per
 * header object it holds. Leak roots are clustered by the shape of their retainer path up to their owner. A cluster is
 * reported as a leak only when objects from every round survive and its class count really grows; a bounded cache
 * (only the newest round survives, the count stays flat) and garbage cycles (collected before the snapshot) never are.
 * Time O(nodes) plus O(path length) per leak root.
 */
import { HeapAnalysis } from './analysis';
import { NO_DISTANCE } from './distances';
import { findOwner, isInternalNode, OwnerInfo, PathStep, retainerPath, stepSignature } from './paths';

export interface LeakOptions {
  /** Objects that must survive from each round for a group to count (default 1). */
  minPerRound?: number;
  /** How many groups to report at most (default 50). */
  maxGroups?: number;
}

/** A cluster of leaked objects in the last snapshot, before source locations are resolved. */
export interface LeakCluster {
  className: string;
  /** The leak roots of this cluster (node indices in the last snapshot). */
  members: number[];
  /** Members allocated in each round (between consecutive snapshots). */
  newPerRound: number[];
  /** The class's object count in each snapshot. */
  countSeries: number[];
  /** The class's shallow size in each snapshot. */
  sizeSeries: number[];
  retainedSize: number;
  shallowSize: number;
  /** A representative member with the shortest retainer path, and that path. */
  representative: number;
  path: PathStep[];
  owner: OwnerInfo | null;
  isLeak: boolean;
}

export interface ClassGrowth {
  className: string;
  counts: number[];
  sizes: number[];
}

export interface DuplicateModule {
  file: string;
  /** Live module instances of that file in each snapshot. */
  instances: number[];
  /** A Module object of the last snapshot (node index), for paths. */
  sample: number;
}

export interface LeakFindings {
  maxIds: number[];
  clusters: LeakCluster[];
  classGrowth: ClassGrowth[];
  duplicateModules: DuplicateModule[];
}

/** Class name for reports: DevTools' name, but closures are named after their function. */
export function leakClassName(a: HeapAnalysis, node: number): string {
  const s = a.snapshot;
  if (s.nodeType[node] === s.types.closure) return `${s.name(node) || 'anonymous'}()`;
  return a.className(node);
}

/** Count and shallow size per class name (across constructor locations) for one snapshot. */
function classTotals(a: HeapAnalysis, nameOf: (node: number) => string): Map<string, { count: number; size: number }> {
  const s = a.snapshot;
  const totals = new Map<string, { count: number; size: number }>();
  const perClass = new Map<number, { count: number; size: number }>();
  const closure = s.types.closure;
  for (let node = 0; node < s.nodeCount; node++) {
    if (a.distance[node] === NO_DISTANCE) continue;
    // Closures are told apart by function name; every other class by its class row.
    const key = s.nodeType[node] === closure ? -1 - s.nodeName[node] : a.classIndex.nodeClass[node];
    let t = perClass.get(key);
    if (!t) {
      t = { count: 0, size: 0 };
      perClass.set(key, t);
      const name = nameOf(node);
      const existing = totals.get(name);
      if (existing) {
        // Two class rows with one name (different constructors): merge through a shared record.
        perClass.set(key, existing);
        t = existing;
      } else totals.set(name, t);
    }
    t.count++;
    t.size += a.shallowSize[node];
  }
  return totals;
}

/** What the leak finder needs from an earlier snapshot, so that only the last one is kept whole in memory. */
export interface SnapshotDigest {
  maxJsObjectId: number;
  classTotals: Map<string, { count: number; size: number }>;
  modules: Map<string, { count: number; sample: number }>;
}

export function digestSnapshot(a: HeapAnalysis): SnapshotDigest {
  return { maxJsObjectId: a.snapshot.maxJsObjectId(), classTotals: classTotals(a, (node) => leakClassName(a, node)), modules: moduleInstances(a) };
}

export function findLeaks(earlier: SnapshotDigest[], last: HeapAnalysis, options: LeakOptions = {}): LeakFindings {
  const lastDigest = digestSnapshot(last);
  const digests = [...earlier, lastDigest];
  const k = digests.length;
  if (k < 2) throw new Error('leak analysis needs at least two snapshots of one process');
  // One comparison cannot tell a one-off allocation from a trend, so two snapshots need more evidence than three.
  const minPerRound = options.minPerRound ?? (k === 2 ? 10 : 1);
  const maxIds = digests.map((d) => d.maxJsObjectId);
  const s = last.snapshot;
  const n = s.nodeCount;
  const baseMax = maxIds[0];
  const ids = s.nodeId;
  const isNew = (node: number) => (ids[node] & 1) === 1 && ids[node] > baseMax;
  const visible = new Uint8Array(n);
  for (let node = 0; node < n; node++) visible[node] = isInternalNode(last, node) ? 0 : 1;
  visible[s.rootIndex] = 1;

  // First visible dominator of each node, filled in dominator order so each is computed from its dominator's.
  const dominator = last.dominator;
  const firstVisible = new Uint32Array(n);
  const order = computeDomOrder(last);
  for (let i = 0; i < order.length; i++) {
    const node = order[i];
    const d = dominator[node];
    firstVisible[node] = node === s.rootIndex ? node : visible[d] ? d : firstVisible[d];
  }

  const roots: number[] = [];
  for (let node = 0; node < n; node++) {
    if (!visible[node] || !isNew(node) || node === s.rootIndex) continue;
    if (last.distance[node] === NO_DISTANCE) continue;
    const holder = firstVisible[node];
    if (holder === s.rootIndex || !isNew(holder)) roots.push(node);
  }

  // Cluster by class + the path shape from the owner down to the object.
  const clusters = new Map<string, { members: number[]; owner: OwnerInfo | null; path: PathStep[]; rep: number }>();
  for (const node of roots) {
    const path = retainerPath(last, node);
    const owner = findOwner(last, path);
    // Something shared by several leaked objects (so dominated by none of them) is still reached through them: when a
    // new object of another class stands between the owner and it, it is part of that object's leak. (Objects of its
    // own class on the way are a linked list, such as a timer list, not an enclosing leak.)
    const ownClass = last.classIndex.nodeClass[node];
    let inside = false;
    for (let i = owner ? Math.max(0, owner.stepIndex - 1) : Math.max(0, path.length - 4); i < path.length - 1 && !inside; i++) {
      const p = path[i].node;
      inside = p !== s.rootIndex && visible[p] === 1 && isNew(p) && last.classIndex.nodeClass[p] !== ownClass;
    }
    if (inside) continue;
    const from = owner ? owner.stepIndex : Math.max(0, path.length - 4);
    // Repeated steps (a linked list walked link by link) collapse to one, so list members share a shape.
    const steps = path.slice(from).map((st) => stepSignature(last, st));
    const shape = steps.filter((st, i) => i === 0 || st !== steps[i - 1]).join('/');
    const key = `${leakClassName(last, node)}|${owner ? owner.kind + ':' + owner.name : '?'}|${shape}`;
    let c = clusters.get(key);
    if (!c) {
      c = { members: [], owner, path, rep: node };
      clusters.set(key, c);
    } else if (path.length < c.path.length) {
      c.path = path;
      c.rep = node;
      c.owner = owner;
    }
    c.members.push(node);
  }

  const totals = digests.map((d) => d.classTotals);
  const round = (id: number) => {
    for (let j = 1; j < k; j++) if (id <= maxIds[j]) return j - 1;
    return k - 2;
  };
  const result: LeakCluster[] = [];
  for (const c of clusters.values()) {
    const className = leakClassName(last, c.rep);
    const newPerRound = new Array<number>(k - 1).fill(0);
    let retainedSize = 0;
    let shallowSize = 0;
    for (const m of c.members) {
      newPerRound[round(ids[m])]++;
      retainedSize += last.retainedSize[m];
      shallowSize += last.shallowSize[m];
    }
    const countSeries = totals.map((t) => t.get(className)?.count ?? 0);
    const sizeSeries = totals.map((t) => t.get(className)?.size ?? 0);
    const survivedEveryRound = newPerRound.every((x) => x >= minPerRound);
    const steady = Math.min(...newPerRound) >= 0.25 * Math.max(...newPerRound);
    const grew = countSeries[k - 1] - countSeries[0] >= 0.5 * newPerRound.reduce((x, y) => x + y, 0);
    const isLeak = survivedEveryRound && steady && grew;
    result.push({ className, members: c.members, newPerRound, countSeries, sizeSeries, retainedSize, shallowSize, representative: c.rep, path: c.path, owner: c.owner, isLeak });
  }
  result.sort((x, y) => Number(y.isLeak) - Number(x.isLeak) || y.retainedSize - x.retainedSize);

  const classGrowth: ClassGrowth[] = [];
  for (const className of totals[k - 1].keys()) {
    const counts = totals.map((tt) => tt.get(className)?.count ?? 0);
    const sizes = totals.map((tt) => tt.get(className)?.size ?? 0);
    if (counts[k - 1] > counts[0] || sizes[k - 1] > sizes[0]) classGrowth.push({ className, counts, sizes });
  }
  classGrowth.sort((x, y) => y.sizes[k - 1] - y.sizes[0] - (x.sizes[k - 1] - x.sizes[0]));

  return { maxIds, clusters: result.slice(0, options.maxGroups ?? 50), classGrowth: classGrowth.slice(0, 50), duplicateModules: findDuplicateModules(digests) };
}

/** Nodes in an order where every node comes after its dominator (DFS preorder of the dominator tree). */
function computeDomOrder(a: HeapAnalysis): Uint32Array {
  const { firstChild, children } = a.dominatorTree;
  const n = a.snapshot.nodeCount;
  const out = new Uint32Array(n);
  const stack = new Uint32Array(n);
  let top = 0;
  let len = 0;
  stack[top++] = a.snapshot.rootIndex;
  while (top > 0) {
    const node = stack[--top];
    out[len++] = node;
    for (let c = firstChild[node]; c < firstChild[node + 1]; c++) stack[top++] = children[c];
  }
  return out.subarray(0, len);
}

/** Live CommonJS `Module` objects per `filename` in one snapshot. */
function moduleInstances(a: HeapAnalysis): Map<string, { count: number; sample: number }> {
  const s = a.snapshot;
  const counts = new Map<string, { count: number; sample: number }>();
  for (let node = 0; node < s.nodeCount; node++) {
    if (s.nodeType[node] !== s.types.object || s.strings.rawLength(s.nodeName[node]) !== 6 || s.name(node) !== 'Module') continue;
    if (a.distance[node] === NO_DISTANCE) continue;
    let file = '';
    for (let e = s.firstEdge[node]; e < s.firstEdge[node + 1]; e++) {
      if (s.edgeType[e] === s.types.edgeProperty && s.strings.get(s.edgeName[e]) === 'filename') {
        file = s.name(s.edgeTo[e]);
        break;
      }
    }
    if (!file) continue;
    const c = counts.get(file);
    if (c) c.count++;
    else counts.set(file, { count: 1, sample: node });
  }
  return counts;
}

/**
 * CommonJS modules alive more than once: several live `Module` objects with one `filename`. That is what code that is
 * re-required on reload looks like when something (a timer, a listener, a connection) keeps each old copy alive.
 */
export function findDuplicateModules(digests: SnapshotDigest[]): DuplicateModule[] {
  const lastCounts = digests[digests.length - 1].modules;
  const out: DuplicateModule[] = [];
  for (const [file, c] of lastCounts) {
    if (c.count < 2) continue;
    out.push({ file, instances: digests.map((d) => d.modules.get(file)?.count ?? 0), sample: c.sample });
  }
  return out.sort((x, y) => y.instances[y.instances.length - 1] - x.instances[x.instances.length - 1]);
}
