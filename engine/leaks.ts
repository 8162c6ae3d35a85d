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
import { fileURLToPath } from 'url';
import { HeapAnalysis } from './analysis';
import { NO_DISTANCE } from './distances';
import {
  findEdgeTarget,
  findOwner,
  hasDictionaryShape,
  isInternalNode,
  markKeyedHolders,
  ownerAndPath,
  OwnerInfo,
  PathStep,
  retainerPath,
  stepSignature,
} from './paths';
import type { LeakKind } from '../protocol/report';
import { closureScriptName } from './scripts';
import {
  countResources,
  findResources,
  growingResources,
  ResourceCluster,
  ResourceKind,
  ResourceNode,
} from './resources';

export interface LeakOptions {
  /** Objects that must survive from each round for a group to count (default 1). */
  minPerRound?: number;
  /** How many groups to report at most (default 50). */
  maxGroups?: number;
}

/** A cluster of leaked objects in the last snapshot, before source locations are resolved. */
export interface LeakCluster {
  kind: LeakKind;
  className: string;
  /** The leaked objects of this cluster (node indices in the last snapshot): leak roots, or all elements of chains. */
  members: number[];
  /** The leak roots: the members themselves, or the head of each chain. They retain the whole group. */
  heads: number[];
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
  /** For chains: the edges from one element to the previous one (property, context variable), in order. */
  chainLink?: string[];
  /** For chains: the head (the newest element, the one an old object holds) when it differs from the representative. */
  chainHead?: number;
  /** For objects held through callbacks (listeners, timers): the callback's class and one callback node. */
  via?: { className: string; node: number };
  /** For collections: the collection node, its entry count and storage bytes in each snapshot. */
  collection?: { node: number; entries: number[]; bytes: number[] };
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
  /** Resource kinds (pending promises, handles, contexts) that grow every round. */
  resources: ResourceCluster[];
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
  collections: CollectionSizes;
  /** Pending promises, open handles and contexts, by kind. */
  resources: Record<ResourceKind, number>;
}

export function digestSnapshot(a: HeapAnalysis, resources: ResourceNode[] = findResources(a)): SnapshotDigest {
  return {
    maxJsObjectId: a.snapshot.maxJsObjectId(),
    classTotals: classTotals(a, (node) => leakClassName(a, node)),
    modules: moduleInstances(a),
    collections: collectionSizes(a),
    resources: countResources(resources),
  };
}

/**
 * Entry counts and storage bytes of the collections of one snapshot (arrays, Maps, Sets and objects used as
 * dictionaries), by object id, sorted by id. Only collections of some size are kept, so a digest stays small.
 */
export interface CollectionSizes {
  ids: Float64Array;
  nodes: Uint32Array;
  entries: Uint32Array;
  bytes: Float64Array;
}

const COLLECTION_MIN_ENTRIES = 16;
const COLLECTION_MIN_BYTES = 1024;
const KEYED_COLLECTIONS = new Set(['Map', 'Set']);

/**
 * Entries of a collection: its elements and named properties, or the entries of a Map's or Set's hash table.
 *
 * A hash table's edges are named by slot index. A Map entry is three slots (key, value, chain) and a Set entry two
 * (key, chain); the chain slot is a small integer, which has no edge, and so is a key or value that is one. So two
 * edges at neighbouring slots are the key and the value of one Map entry (the value of one entry and the key of the
 * next are two slots apart), and each other edge is an entry of its own.
 */
export function collectionEntries(a: HeapAnalysis, node: number): number {
  const s = a.snapshot;
  const ty = s.types;
  let count = 0;
  if (KEYED_COLLECTIONS.has(s.name(node))) {
    for (let e = s.firstEdge[node]; e < s.firstEdge[node + 1]; e++) {
      if (s.edgeType[e] !== ty.edgeInternal || s.edgeNameText(e) !== 'table') continue;
      const table = s.edgeTo[e];
      let previousSlot = -2;
      for (let f = s.firstEdge[table]; f < s.firstEdge[table + 1]; f++) {
        const t = s.nodeType[s.edgeTo[f]];
        if (t === ty.objectShape || t === ty.hidden) continue;
        const slot = Number(s.edgeNameText(f));
        // A value right after its key is the same entry.
        if (!(Number.isInteger(slot) && slot === previousSlot + 1)) count++;
        previousSlot = Number.isInteger(slot) ? slot : -2;
      }
    }
    return count;
  }
  for (let e = s.firstEdge[node]; e < s.firstEdge[node + 1]; e++) {
    const t = s.edgeType[e];
    if (t === ty.edgeElement || (t === ty.edgeProperty && s.edgeNameText(e) !== '__proto__')) count++;
  }
  return count;
}

function collectionSizes(a: HeapAnalysis): CollectionSizes {
  const s = a.snapshot;
  const picked: number[] = [];
  const entries: number[] = [];
  // A pass over every node: names are judged once per string, and nothing is cached per node.
  const namedCollection = new Map<number, boolean>();
  for (let node = 0; node < s.nodeCount; node++) {
    if (s.nodeType[node] !== s.types.object || a.distance[node] === NO_DISTANCE) continue;
    const nameIndex = s.nodeName[node];
    let named = namedCollection.get(nameIndex);
    if (named === undefined) {
      const name = s.strings.get(nameIndex);
      named = name === 'Array' || KEYED_COLLECTIONS.has(name);
      namedCollection.set(nameIndex, named);
    }
    // Arrays, Maps, Sets, and objects with many properties hold data by key or index.
    if (!named && !hasDictionaryShape(a, node)) continue;
    const count = collectionEntries(a, node);
    if (count < COLLECTION_MIN_ENTRIES && a.shallowSize[node] < COLLECTION_MIN_BYTES) continue;
    picked.push(node);
    entries.push(count);
  }
  const order = picked.map((_, i) => i).sort((x, y) => s.nodeId[picked[x]] - s.nodeId[picked[y]]);
  return {
    ids: Float64Array.from(order, (i) => s.nodeId[picked[i]]),
    nodes: Uint32Array.from(order, (i) => picked[i]),
    entries: Uint32Array.from(order, (i) => entries[i]),
    bytes: Float64Array.from(order, (i) => a.shallowSize[picked[i]]),
  };
}

function findCollection(c: CollectionSizes, id: number): number {
  let lo = 0;
  let hi = c.ids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (c.ids[mid] === id) return mid;
    if (c.ids[mid] < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** A collection that existed at the baseline and grew in every round, with its size in each snapshot. */
interface GrowingCollection {
  node: number;
  entries: number[];
  bytes: number[];
}

/** Minimum growth per round for a collection to count: entries, or bytes when its entries are not heap objects. */
const COLLECTION_MIN_ENTRIES_PER_ROUND = 5;
const COLLECTION_MIN_BYTES_GROWTH = 2048;

/**
 * Collections that only grow: present in every snapshot (same object id) and larger in each one than in the one
 * before. Entries that are small integers are not heap objects and have no edges, so for those the storage size
 * (which grows in steps as the backing store doubles) has to show it: it never shrinks and grows by half or more.
 */
function growingCollections(digests: SnapshotDigest[]): GrowingCollection[] {
  const lastC = digests[digests.length - 1].collections;
  const out: GrowingCollection[] = [];
  for (let i = 0; i < lastC.ids.length; i++) {
    const id = lastC.ids[i];
    const entries: number[] = [];
    const bytes: number[] = [];
    for (const d of digests) {
      const j = findCollection(d.collections, id);
      if (j < 0) break;
      entries.push(d.collections.entries[j]);
      bytes.push(d.collections.bytes[j]);
    }
    if (entries.length !== digests.length) continue;
    let byEntries = true;
    let byBytes = true;
    for (let r = 1; r < entries.length; r++) {
      if (entries[r] - entries[r - 1] < COLLECTION_MIN_ENTRIES_PER_ROUND) byEntries = false;
      if (bytes[r] < bytes[r - 1]) byBytes = false;
    }
    const flatEntries = entries.every((e) => e === entries[0]);
    byBytes =
      byBytes &&
      flatEntries &&
      bytes[bytes.length - 1] >= 1.5 * bytes[0] &&
      bytes[bytes.length - 1] - bytes[0] >= COLLECTION_MIN_BYTES_GROWTH * (entries.length - 1);
    if (byEntries || byBytes) out.push({ node: lastC.nodes[i], entries, bytes });
  }
  return out;
}

/** Leak roots whose paths are looked at for plain objects used as maps (see {@link markKeyedHolders}). */
const KEYED_HOLDER_PATHS = 20_000;

/** Classes whose objects exist to hold something else: callbacks' timers and promises' values. */
const HOLDING_CLASSES = new Set(['Timeout', 'Promise']);

/** Class names of values that are data, not objects: a leak of them is the collection that holds them. */
const PRIMITIVE_CLASSES = new Set([
  '(string)',
  '(concatenated string)',
  '(sliced string)',
  '(number)',
  '(bigint)',
  '(symbol)',
  '(heap number)',
]);

/** V8's roots for what it holds of its own accord rather than for the program (names as heap snapshots give them). */
const MACHINERY_ROOTS = new Set([
  '(Stack roots)',
  '(Internalized strings)',
  '(External strings)',
  '(Compilation cache)',
  '(Handle scope)',
  '(Startup object cache)',
  '(Read-only roots)',
  '(Builtins)',
  '(Code flusher)',
]);

/**
 * The nodes reached from the root by strong edges without passing through compiled code or one of MACHINERY_ROOTS.
 * Time O(nodes + edges), memory 5 bytes per node.
 */
function reachedWithoutMachinery(a: HeapAnalysis): Uint8Array {
  const s = a.snapshot;
  const { firstEdge, edgeType, edgeTo, nodeType } = s;
  const { code, synthetic, edgeWeak } = s.types;
  const machineryNames = new Set<number>();
  for (let node = 0; node < s.nodeCount; node++)
    if (nodeType[node] === synthetic && MACHINERY_ROOTS.has(s.strings.get(s.nodeName[node])))
      machineryNames.add(s.nodeName[node]);
  const reached = new Uint8Array(s.nodeCount);
  const queue = new Uint32Array(s.nodeCount);
  let tail = 0;
  reached[s.rootIndex] = 1;
  queue[tail++] = s.rootIndex;
  for (let head = 0; head < tail; head++) {
    const node = queue[head];
    for (let e = firstEdge[node], end = firstEdge[node + 1]; e < end; e++) {
      if (edgeType[e] === edgeWeak) continue;
      const t = edgeTo[e];
      if (reached[t]) continue;
      const type = nodeType[t];
      if (type === code || (type === synthetic && machineryNames.has(s.nodeName[t]))) continue;
      reached[t] = 1;
      queue[tail++] = t;
    }
  }
  return reached;
}

export function findLeaks(earlier: SnapshotDigest[], last: HeapAnalysis, options: LeakOptions = {}): LeakFindings {
  const lastResources = findResources(last);
  const lastDigest = digestSnapshot(last, lastResources);
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

  // The holder of each node: its nearest dominator that is visible, or that is an old JS object even if internal (a
  // module's scope, say), filled in dominator order so each is computed from its dominator's. Stopping at old
  // internals matters: when the only path to an old scope runs through something new (a pending promise of the
  // program's main loop), the scope's variables are still what holds their objects, not that new object.
  const dominator = last.dominator;
  const firstVisible = new Uint32Array(n);
  const order = computeDomOrder(last);
  const isOld = (node: number) => (ids[node] & 1) === 1 && ids[node] <= baseMax;
  for (let i = 0; i < order.length; i++) {
    const node = order[i];
    const d = dominator[node];
    firstVisible[node] = node === s.rootIndex ? node : visible[d] || isOld(d) ? d : firstVisible[d];
  }

  // What V8 itself holds for a moment or for its code is not the program's data: an object that can be reached only
  // through compiled code (the constants of a function compiled for its first call), the stack or handles of the
  // moment the snapshot was taken, the string table or the compilation cache. New such objects come with code being
  // compiled and with the work of the moment, and would read as a leak of a few strings per round.
  const programReach = reachedWithoutMachinery(last);
  const roots: number[] = [];
  for (let node = 0; node < n; node++) {
    if (!visible[node] || !isNew(node) || node === s.rootIndex) continue;
    if (last.distance[node] === NO_DISTANCE) continue;
    const holder = firstVisible[node];
    if ((holder === s.rootIndex || !isNew(holder)) && programReach[node]) roots.push(node);
  }

  const round = (id: number) => {
    for (let j = 1; j < k; j++) if (id <= maxIds[j]) return j - 1;
    return k - 2;
  };
  const chains = findChains(last, roots, isNew, visible, round);

  // Cluster by class + the path shape from the owner down to the object.
  const clusters = new Map<
    string,
    {
      kind: LeakKind;
      members: number[];
      heads: number[];
      owner: OwnerInfo | null;
      path: PathStep[];
      rep: number;
      link?: string[];
      collection?: GrowingCollection;
    }
  >();
  // Plain objects used as small maps (`openAudits[user]`) are told from records by the paths first: objects of one
  // class reached through several of their keys. Then no key names an owner or splits a group. The paths of the
  // first roots are kept for the clustering below; a leak with more roots than that shows its keys among them.
  const keptPaths: PathStep[][] = [];
  const keyed: { path: PathStep[]; key: string }[] = [];
  for (const node of roots.slice(0, KEYED_HOLDER_PATHS)) {
    const path = retainerPath(last, node);
    keptPaths.push(path);
    const chain = chains.get(node);
    keyed.push({ path, key: leakClassName(last, chain ? chain.members[0] : node) });
  }
  markKeyedHolders(last, keyed);
  for (let r = 0; r < roots.length; r++) {
    const node = roots[r];
    // Node's lists of pending timers (one per timeout duration) come and go with the timers in them; a timer that is
    // never cleared is reported as its Timeout, not as the list that happens to hold it.
    if (s.name(node) === 'TimersList') continue;
    const { path, owner } = ownerAndPath(last, r < keptPaths.length ? keptPaths[r] : retainerPath(last, node));
    // Something shared by several leaked objects (so dominated by none of them) is still reached through them: when a
    // new object of another class stands between the owner and it, it is part of that object's leak. (Objects of its
    // own class on the way are a linked list, such as a timer list, not an enclosing leak.)
    const ownClass = last.classIndex.nodeClass[node];
    let inside = false;
    for (
      let i = owner ? Math.max(0, owner.stepIndex - 1) : Math.max(0, path.length - 4);
      i < path.length - 1 && !inside;
      i++
    ) {
      const p = path[i].node;
      inside = p !== s.rootIndex && visible[p] === 1 && isNew(p) && last.classIndex.nodeClass[p] !== ownClass;
    }
    if (inside) continue;
    const from = owner ? owner.stepIndex : Math.max(0, path.length - 4);
    // Repeated steps (a linked list walked link by link) collapse to one, so list members share a shape.
    const steps = path.slice(from).map((st) => stepSignature(last, st));
    const shape = steps.filter((st, i) => i === 0 || st !== steps[i - 1]).join('/');
    const chain = chains.get(node);
    const kind: LeakKind = chain ? 'chain' : 'objects';
    const members = chain ? chain.members : [node];
    const key = `${kind}|${chain ? leakClassName(last, chain.members[0]) : leakClassName(last, node)}|${owner ? owner.kind + ':' + owner.name : '?'}|${shape}`;
    let c = clusters.get(key);
    if (!c) {
      c = { kind, members: [], heads: [], owner, path, rep: node, link: chain?.link };
      clusters.set(key, c);
    } else if (path.length < c.path.length) {
      c.path = path;
      c.rep = node;
      c.owner = owner;
    }
    for (const m of members) c.members.push(m);
    c.heads.push(node);
  }
  mergeHeldElsewhere(last, clusters);

  // Collections that grow every round. One that holds a group's objects is that group's container; one whose new
  // entries are strings or numbers, or old objects, is itself the leak: its entries are data, not objects to chase.
  const growing = new Map(growingCollections(digests).map((g) => [g.node, g]));
  const used = new Set<number>();
  const collectionClusters: LeakCluster[] = [];
  const holdsObjects = new Set<number>();
  for (const c of clusters.values()) {
    let holder: GrowingCollection | undefined;
    for (let i = c.path.length - 2; i >= 0 && !holder; i--) holder = growing.get(c.path[i].node);
    if (!holder) continue;
    used.add(holder.node);
    c.collection = holder;
    if (!PRIMITIVE_CLASSES.has(leakClassName(last, c.rep))) holdsObjects.add(holder.node);
  }
  const byShape = new Map<string, { nodes: GrowingCollection[]; path: PathStep[]; owner: OwnerInfo | null }>();
  for (const g of growing.values()) {
    if (used.has(g.node)) continue;
    const path = retainerPath(last, g.node);
    const owner = findOwner(last, path);
    const from = owner ? owner.stepIndex : Math.max(0, path.length - 4);
    const shape = path
      .slice(from)
      .map((st) => stepSignature(last, st))
      .join('/');
    const key = `${last.className(g.node)}|${owner ? owner.kind + ':' + owner.name : '?'}|${shape}`;
    const e = byShape.get(key);
    if (!e) byShape.set(key, { nodes: [g], path, owner });
    else e.nodes.push(g);
  }
  for (const e of byShape.values())
    collectionClusters.push(collectionCluster(last, e.nodes, e.path, e.owner, minPerRound));

  const totals = digests.map((d) => d.classTotals);
  const result: LeakCluster[] = [...collectionClusters];
  // Strings in one collection can fall into several clusters (flat, concatenated, sliced strings): one group still.
  const primitiveCollections = new Set<number>();
  for (const c of clusters.values()) {
    // Keys of a map whose values are leaked objects are part of that objects' group, not a leak of their own.
    if (c.collection && PRIMITIVE_CLASSES.has(leakClassName(last, c.rep)) && !holdsObjects.has(c.collection.node)) {
      if (primitiveCollections.has(c.collection.node)) continue;
      primitiveCollections.add(c.collection.node);
      result.push(
        collectionCluster(
          last,
          [c.collection],
          c.path.slice(0, c.path.findIndex((st) => st.node === c.collection!.node) + 1),
          c.owner,
          minPerRound,
        ),
      );
      continue;
    }
    // A chain is named after its elements, which need not be the class of its head.
    let className = leakClassName(last, c.kind === 'chain' ? c.members[c.members.length - 1] : c.rep);
    // A listener or a timer callback is how the program keeps what it meant to keep for a while: the objects it
    // captures, one per callback, are what leaks (the callback is the way they are held). A settled promise in a
    // cache holds its value the same way.
    let via: { className: string; node: number } | undefined;
    if (
      c.kind === 'objects' &&
      (last.snapshot.nodeType[c.rep] === last.snapshot.types.closure || HOLDING_CLASSES.has(className))
    ) {
      const captured = capturedObjects(last, c.heads, isNew);
      if (captured) {
        via = { className, node: c.rep };
        className = leakClassName(last, captured[0]);
        c.path = [...c.path, ...edgePath(last, c.rep, new Set(captured))];
        c.members = captured;
      }
    }
    const newPerRound = new Array<number>(k - 1).fill(0);
    let retainedSize = 0;
    let shallowSize = 0;
    for (const m of c.members) {
      newPerRound[round(ids[m])]++;
      shallowSize += last.shallowSize[m];
    }
    // The elements of a chain dominate one another: what the chain keeps alive is what its heads retain.
    for (const h of c.heads) retainedSize += last.retainedSize[h];
    const countSeries = totals.map((t) => t.get(className)?.count ?? 0);
    const sizeSeries = totals.map((t) => t.get(className)?.size ?? 0);
    const survivedEveryRound = newPerRound.every((x) => x >= minPerRound);
    const steady = Math.min(...newPerRound) >= 0.25 * Math.max(...newPerRound);
    const grew = countSeries[k - 1] - countSeries[0] >= 0.5 * newPerRound.reduce((x, y) => x + y, 0);
    const isLeak = survivedEveryRound && steady && grew;
    result.push({
      kind: c.kind,
      className,
      members: c.members,
      heads: c.heads,
      newPerRound,
      countSeries,
      sizeSeries,
      retainedSize,
      shallowSize,
      representative: c.rep,
      path: c.path,
      owner: c.owner,
      isLeak,
      chainLink: c.link,
      collection: c.collection,
      via,
    });
  }
  result.sort((x, y) => Number(y.isLeak) - Number(x.isLeak) || y.retainedSize - x.retainedSize);

  const classGrowth: ClassGrowth[] = [];
  for (const className of totals[k - 1].keys()) {
    const counts = totals.map((tt) => tt.get(className)?.count ?? 0);
    const sizes = totals.map((tt) => tt.get(className)?.size ?? 0);
    if (counts[k - 1] > counts[0] || sizes[k - 1] > sizes[0]) classGrowth.push({ className, counts, sizes });
  }
  classGrowth.sort((x, y) => y.sizes[k - 1] - y.sizes[0] - (x.sizes[k - 1] - x.sizes[0]));

  const resources = growingResources(
    digests.map((d) => d.resources),
    lastResources,
    last,
    baseMax,
    k - 1,
    round,
    minPerRound,
  );
  return {
    maxIds,
    clusters: result.slice(0, options.maxGroups ?? 50),
    classGrowth: classGrowth.slice(0, 50),
    duplicateModules: findDuplicateModules(digests),
    resources,
  };
}

/** A leak group made of growing collections of one shape: its figures are entries, not objects. */
function collectionCluster(
  a: HeapAnalysis,
  nodes: GrowingCollection[],
  path: PathStep[],
  owner: OwnerInfo | null,
  minPerRound: number,
): LeakCluster {
  const k = nodes[0].entries.length;
  const countSeries = new Array<number>(k).fill(0);
  const sizeSeries = new Array<number>(k).fill(0);
  for (const g of nodes) {
    for (let i = 0; i < k; i++) {
      countSeries[i] += g.entries[i];
      sizeSeries[i] += g.bytes[i];
    }
  }
  const newPerRound = countSeries.slice(1).map((c, i) => c - countSeries[i]);
  const byBytes = newPerRound.every((x) => x === 0);
  const isLeak = byBytes
    ? sizeSeries[k - 1] > sizeSeries[0]
    : newPerRound.every((x) => x >= Math.max(minPerRound, COLLECTION_MIN_ENTRIES_PER_ROUND));
  const rep = nodes[0].node;
  let retainedSize = 0;
  let shallowSize = 0;
  for (const g of nodes) {
    retainedSize += a.retainedSize[g.node];
    shallowSize += a.shallowSize[g.node];
  }
  // The path ends at the collection itself; the owner is what holds it.
  const p = path[path.length - 1]?.node === rep ? path : retainerPath(a, rep);
  return {
    kind: 'collection',
    className: a.className(rep),
    members: nodes.map((g) => g.node),
    heads: nodes.map((g) => g.node),
    newPerRound,
    countSeries,
    sizeSeries,
    retainedSize,
    shallowSize,
    representative: rep,
    path: p,
    owner: owner ?? findOwner(a, p),
    isLeak,
    collection: { node: rep, entries: countSeries, bytes: sizeSeries },
  };
}

/** A group of objects while the leak finder builds it. */
interface DraftCluster {
  kind: LeakKind;
  members: number[];
  heads: number[];
  rep: number;
}

/**
 * Objects of one leak whose shortest path from the roots runs past their group's holder: a subscriber kept in
 * `subscribers` whose interval's callback captures it is reached through Node's timer list when that way is shorter,
 * and its owner then reads as the callback's variable, so the group came out a few objects short and those few made a
 * group of their own. Such an object is still an element of the group's holder: an object of a group's class that a
 * holder of at least two of the group's objects (an Array's elements, a Map's table) also holds joins that group.
 * O(retainers of the members).
 */
function mergeHeldElsewhere(a: HeapAnalysis, clusters: Map<string, DraftCluster>): void {
  const s = a.snapshot;
  const byClass = new Map<string, DraftCluster[]>();
  for (const c of clusters.values()) {
    if (c.kind !== 'objects') continue;
    const name = leakClassName(a, c.rep);
    const list = byClass.get(name);
    if (list) list.push(c);
    else byClass.set(name, [c]);
  }
  const holders = (node: number, visit: (holder: number) => boolean | void): void => {
    for (let r = s.firstRetainer[node]; r < s.firstRetainer[node + 1]; r++)
      if (s.edgeType[s.retainerEdge[r]] !== s.types.edgeWeak && visit(s.retainerNode[r])) return;
  };
  const emptied = new Set<DraftCluster>();
  for (const list of byClass.values()) {
    if (list.length < 2) continue;
    list.sort((x, y) => y.members.length - x.members.length);
    for (let i = 0; i < list.length; i++) {
      const big = list[i];
      if (emptied.has(big) || big.members.length < 2) continue;
      const seen = new Map<number, number>();
      for (const m of big.members) holders(m, (h) => void seen.set(h, (seen.get(h) ?? 0) + 1));
      const shared = new Set([...seen].filter(([, n]) => n >= 2).map(([h]) => h));
      if (shared.size === 0) continue;
      for (let j = i + 1; j < list.length; j++) {
        const small = list[j];
        if (emptied.has(small)) continue;
        const stays: number[] = [];
        for (const m of small.members) {
          let held = false;
          holders(m, (h) => (held = shared.has(h)));
          if (!held) {
            stays.push(m);
            continue;
          }
          big.members.push(m);
          big.heads.push(m);
        }
        if (stays.length === small.members.length) continue;
        small.members = stays;
        const kept = new Set(stays);
        small.heads = small.heads.filter((h) => kept.has(h));
        if (stays.length === 0) emptied.add(small);
      }
    }
  }
  for (const [key, c] of clusters) if (emptied.has(c)) clusters.delete(key);
}

/**
 * The objects of one application class that a group of callbacks captures, about one per callback (new objects in
 * the callbacks' dominator subtrees whose constructor is known), or undefined when there is no such class.
 */
function capturedObjects(a: HeapAnalysis, heads: number[], isNew: (node: number) => boolean): number[] | undefined {
  const s = a.snapshot;
  const { firstChild, children } = a.dominatorTree;
  const byKey = new Map<number, number[]>();
  const stack: number[] = [];
  for (const head of heads.slice(0, 5000)) {
    let budget = 2000;
    stack.length = 0;
    stack.push(head);
    while (stack.length && budget-- > 0) {
      const node = stack.pop()!;
      for (let c = firstChild[node]; c < firstChild[node + 1]; c++) stack.push(children[c]);
      if (node === head || s.nodeType[node] !== s.types.object || !isNew(node) || isInternalNode(a, node)) continue;
      if (a.locations.find(node) < 0) continue;
      const key = a.classIndex.nodeClass[node];
      let list = byKey.get(key);
      if (!list) byKey.set(key, (list = []));
      list.push(node);
    }
  }
  const n = Math.min(heads.length, 5000);
  let best: number[] | undefined;
  let bestOwn = false;
  for (const list of byKey.values()) {
    if (list.length < 0.8 * n || list.length > 4 * n) continue;
    // What the program made itself (its `RequestContext`) says more than Node's objects the callback also keeps
    // (the `ServerResponse` a closure captured): the largest of the program's classes, else the largest of all.
    const own = !madeByNode(a, list[0]);
    if (!best || (own && !bestOwn)) {
      best = list;
      bestOwn = own;
    } else if (own === bestOwn && a.retainedSize[list[0]] * list.length > a.retainedSize[best[0]] * best.length)
      best = list;
  }
  if (best && best.length < n) best = alsoReachable(a, heads.slice(0, 5000), best, isNew);
  return best;
}

/**
 * The captured objects of one class, with those the callbacks reach but do not dominate: a request's store that its
 * callback keeps is also reachable from the connection that served the request, and is still kept by the callback.
 * A bounded walk over strong edges from each head (a few steps, a few hundred nodes). Time O(heads x 300).
 */
function alsoReachable(a: HeapAnalysis, heads: number[], found: number[], isNew: (node: number) => boolean): number[] {
  const s = a.snapshot;
  const key = a.classIndex.nodeClass[found[0]];
  const members = new Set(found);
  const seen = new Set<number>();
  for (const head of heads) {
    seen.clear();
    seen.add(head);
    let frontier = [head];
    let budget = 300;
    for (let depth = 0; depth < 6 && frontier.length && budget > 0; depth++) {
      const next: number[] = [];
      for (const node of frontier) {
        for (let e = s.firstEdge[node]; e < s.firstEdge[node + 1] && budget > 0; e++) {
          if (s.edgeType[e] === s.types.edgeWeak) continue;
          const to = s.edgeTo[e];
          if (seen.has(to)) continue;
          seen.add(to);
          budget--;
          if (!isNew(to)) continue;
          if (a.classIndex.nodeClass[to] === key) members.add(to);
          else next.push(to);
        }
      }
      frontier = next;
    }
  }
  return [...members];
}

/** True for an instance of a class Node defines (its constructor's script is `node:...`, such as `ServerResponse`). */
function madeByNode(a: HeapAnalysis, node: number): boolean {
  const proto = findEdgeTarget(a, node, '__proto__');
  const ctor = proto < 0 ? -1 : findEdgeTarget(a, proto, 'constructor');
  if (ctor < 0 || a.snapshot.nodeType[ctor] !== a.snapshot.types.closure) return false;
  return closureScriptName(a, ctor)?.startsWith('node:') === true;
}

/** Path steps from `from` (excluded) to the nearest node in `targets`, over non-weak edges, breadth first. */
function edgePath(a: HeapAnalysis, from: number, targets: Set<number>): PathStep[] {
  const s = a.snapshot;
  const prev = new Map<number, number>([[from, -1]]);
  let frontier = [from];
  for (let depth = 0; depth < 6 && frontier.length; depth++) {
    const next: number[] = [];
    for (const node of frontier) {
      for (let e = s.firstEdge[node]; e < s.firstEdge[node + 1]; e++) {
        if (s.edgeType[e] === s.types.edgeWeak) continue;
        const to = s.edgeTo[e];
        if (prev.has(to)) continue;
        prev.set(to, e);
        if (targets.has(to)) {
          const steps: PathStep[] = [];
          for (let cur = to; cur !== from; cur = s.edgeOwner(prev.get(cur)!))
            steps.push({ node: cur, edge: prev.get(cur)! });
          return steps.reverse();
        }
        if (next.length < 10_000) next.push(to);
      }
    }
    frontier = next;
  }
  return [];
}

/** A chain found under one leak root: its elements (oldest last) and the edges from one element to the previous. */
interface Chain {
  members: number[];
  link: string[];
}

/** Class identity for chains: closures by function name, everything else by class row. */
function classKey(a: HeapAnalysis, node: number): number {
  const s = a.snapshot;
  return s.nodeType[node] === s.types.closure ? -1 - s.nodeName[node] : a.classIndex.nodeClass[node];
}

const CHAIN_WALK_BUDGET = 5_000_000;

/**
 * Chains: a leak root whose dominator subtree holds new objects from earlier rounds than its own. That is a list, a
 * history or a closure chain where each element keeps the previous one alive and only the newest is held by an old
 * object, so the leak-root rule alone sees one object. The elements are the root's own class when the subtree holds
 * more of it from other rounds; otherwise (a new wrapper around the chain) the most common class of objects or
 * closures in the subtree that spans rounds. Time O(size of the roots' dominator subtrees), with a budget.
 */
function findChains(
  a: HeapAnalysis,
  roots: number[],
  isNew: (node: number) => boolean,
  visible: Uint8Array,
  round: (id: number) => number,
): Map<number, Chain> {
  const s = a.snapshot;
  const { firstChild, children } = a.dominatorTree;
  const ids = s.nodeId;
  const out = new Map<number, Chain>();
  const isRoot = new Uint8Array(s.nodeCount);
  for (const r of roots) isRoot[r] = 1;
  let budget = CHAIN_WALK_BUDGET;
  const stack: number[] = [];
  for (const root of roots) {
    if (budget <= 0) break;
    const rootRound = round(ids[root]);
    const byKey = new Map<number, { nodes: number[]; rounds: Set<number> }>();
    let earlier = false;
    stack.length = 0;
    for (let c = firstChild[root]; c < firstChild[root + 1]; c++) stack.push(children[c]);
    while (stack.length && budget-- > 0) {
      const node = stack.pop()!;
      // Another leak root, or an old object, below this one is not part of its chain: the chain is made of new things.
      if (isRoot[node] || ((ids[node] & 1) === 1 && !isNew(node))) continue;
      for (let c = firstChild[node]; c < firstChild[node + 1]; c++) stack.push(children[c]);
      if (!visible[node] || !isNew(node)) continue;
      const t = s.nodeType[node];
      if (t !== s.types.object && t !== s.types.closure) continue;
      // A function with no source (a promise's resolve or reject function, a bound builtin) is plumbing of what
      // links the elements, never an element: unnamed, it would pass for the program's anonymous closures.
      if (t === s.types.closure && a.locations.find(node) < 0) continue;
      const r = round(ids[node]);
      if (r < rootRound) earlier = true;
      const key = classKey(a, node);
      let e = byKey.get(key);
      if (!e) byKey.set(key, (e = { nodes: [], rounds: new Set() }));
      e.nodes.push(node);
      e.rounds.add(r);
    }
    if (!earlier) continue;
    const rootIsPlumbing = s.nodeType[root] === s.types.closure && a.locations.find(root) < 0;
    const own = rootIsPlumbing ? undefined : byKey.get(classKey(a, root));
    let members: number[] | undefined;
    if (own && new Set([...own.rounds, rootRound]).size >= 2) members = [root, ...own.nodes];
    else {
      let best: { nodes: number[]; rounds: Set<number> } | undefined;
      for (const e of byKey.values()) if (e.rounds.size >= 2 && (!best || e.nodes.length > best.nodes.length)) best = e;
      if (best) members = best.nodes;
    }
    if (!members || members.length < 2) continue;
    // Elements of a chain hold one another; objects of one class that only share a holder are not a chain.
    const link = chainLink(a, members);
    if (link.length === 0) continue;
    out.set(root, { members, link });
  }
  return out;
}

/** The edges from a chain element to the nearest other element of its chain (breadth first, a few steps deep). */
function chainLink(a: HeapAnalysis, members: number[]): string[] {
  const s = a.snapshot;
  const key = classKey(a, members[members.length > 1 ? 1 : 0]);
  // Start from an element that has a previous one: the head of a chain of its own class, or the newest element.
  const start = members.find((m) => classKey(a, m) === key) ?? members[0];
  const others = new Set(members.filter((m) => m !== start && classKey(a, m) === key));
  return edgePath(a, start, others).map((st) =>
    s.edgeHasStringName(st.edge) ? s.edgeNameText(st.edge) : `[${s.edgeName[st.edge]}]`,
  );
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

/** The properties every CommonJS `Module` of node:module has, whatever the Node version. */
const MODULE_PROPERTIES = ['id', 'exports', 'filename', 'loaded', 'children'];

/**
 * The file of a CommonJS module that was loaded from a file: an object of node:module's `Module` shape whose `filename`
 * is a string. Other objects named `Module` are not modules, and a `Module` whose `filename` is still null was never
 * loaded from a file: Node's parent of `--require` preloads (`internal/preload`, there under every debugger that
 * preloads a bootloader, as VS Code's js-debug does) and `[eval]` are such, and their `filename` is the null oddball.
 */
function loadedModuleFile(s: HeapAnalysis['snapshot'], node: number): string | undefined {
  let file: string | undefined;
  let found = 0;
  for (let e = s.firstEdge[node]; e < s.firstEdge[node + 1]; e++) {
    if (s.edgeType[e] !== s.types.edgeProperty) continue;
    const name = s.strings.get(s.edgeName[e]);
    if (!MODULE_PROPERTIES.includes(name)) continue;
    found++;
    if (name !== 'filename') continue;
    const to = s.edgeTo[e];
    const type = s.nodeType[to];
    if (type !== s.types.string && type !== s.types.consString && type !== s.types.slicedString) return undefined;
    file = s.name(to);
  }
  return found === MODULE_PROPERTIES.length && file ? file : undefined;
}

/** Live CommonJS `Module` objects per `filename` in one snapshot (only modules loaded from a file). */
function moduleInstances(a: HeapAnalysis): Map<string, { count: number; sample: number }> {
  const s = a.snapshot;
  const counts = new Map<string, { count: number; sample: number }>();
  for (let node = 0; node < s.nodeCount; node++) {
    if (s.nodeType[node] !== s.types.object || s.strings.rawLength(s.nodeName[node]) !== 6 || s.name(node) !== 'Module')
      continue;
    if (a.distance[node] === NO_DISTANCE) continue;
    const file = loadedModuleFile(s, node);
    if (file === undefined) continue;
    const c = counts.get(file);
    if (c) c.count++;
    else counts.set(file, { count: 1, sample: node });
  }
  // ES modules have no Module object: a module imported again under another URL (`./db.mjs?v=3`, as reloaders and
  // plugin systems do to bust the module cache) is another live Script with that URL. Count the live copies of each
  // file imported under such URLs.
  const esm = new Map<string, { count: number; sample: number }>();
  for (let node = 0; node < s.nodeCount; node++) {
    if (s.nodeType[node] !== s.types.code || !s.strings.startsWith(s.nodeName[node], 'file://')) continue;
    const url = s.name(node);
    const cut = url.search(/[?#]/);
    if (cut < 0) continue;
    let file: string;
    try {
      file = fileURLToPath(url.slice(0, cut));
    } catch {
      continue;
    }
    const c = esm.get(file);
    if (c) c.count++;
    else esm.set(file, { count: 1, sample: node });
  }
  for (const [file, c] of esm) if (!counts.has(file)) counts.set(file, c);
  return counts;
}

/**
 * Modules alive more than once, more copies from snapshot to snapshot: several live `Module` objects with one
 * `filename` (or ES module Scripts of one file under several URLs), their number growing. That is what code that is
 * re-required on reload looks like when something (a timer, a listener, a connection) keeps each old copy alive. A
 * number that does not grow (a file loaded twice at startup, by two copies of a package) is not a leak: not reported.
 */
export function findDuplicateModules(digests: SnapshotDigest[]): DuplicateModule[] {
  const lastCounts = digests[digests.length - 1].modules;
  const firstCounts = digests[0].modules;
  const out: DuplicateModule[] = [];
  for (const [file, c] of lastCounts) {
    if (c.count < 2 || c.count <= (firstCounts.get(file)?.count ?? 0)) continue;
    out.push({ file, instances: digests.map((d) => d.modules.get(file)?.count ?? 0), sample: c.sample });
  }
  return out.sort((x, y) => y.instances[y.instances.length - 1] - x.instances[x.instances.length - 1]);
}
