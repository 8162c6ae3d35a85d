/**
 * The leak report: plain data (JSON) that the CLI prints, the language server marks in the editor and the webview
 * shows. Built from the snapshots of one process: earlier snapshots are reduced to digests as they are read, so only
 * the last one is held whole. Locations are resolved to files on disk and through source maps where possible.
 * Schema: schema/leak-report.schema.json.
 */
import * as fs from 'fs';
import { AnalyzeOptions, HeapAnalysis, loadAnalysis, StageTimings } from './analysis';
import { digestSnapshot, findLeaks, LeakCluster, SnapshotDigest } from './leaks';
import { isInternalNode, OwnerKind, PathStep } from './paths';
import { RuntimeLocation, ScriptIndex, SidecarScript } from './scripts';
import { SourceLocation, SourceResolver } from './source';

export const REPORT_VERSION = 1;

/** What the capture wrote beside a snapshot (the fields the engine reads). */
export interface SnapshotSidecar {
  pid?: number;
  sessionId?: string;
  time?: string;
  label?: string;
  allocationTracking?: boolean;
  memoryUsage?: { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
  scripts?: SidecarScript[];
  /** A debugger shared the inspector session and kept the Debugger domain on (see the capture's SnapshotMeta). */
  debuggerAttached?: boolean;
}

/** One step of a retainer path, from a GC root towards the leaked object. */
export interface RetainerStep {
  /** Edge name into this node: property or variable name, or `[index]`. Empty for the first step. */
  edge: string;
  edgeType: string;
  /** Class (or function) name of the node. */
  node: string;
  nodeType: string;
  nodeId: number;
  /** Where the node's constructor or function is, when known. */
  location?: SourceLocation;
  /** True for the step that is the owner's reference. */
  owner?: boolean;
}

export interface LeakOwner {
  name: string;
  kind: OwnerKind;
  /** The declaration of the holding variable or property, when found. */
  location?: SourceLocation;
}

export interface AllocationSite {
  function: string;
  location?: SourceLocation;
  count: number;
}

/** One leak group. */
export interface LeakGroup {
  id: string;
  className: string;
  count: number;
  growthPerRound: number;
  /** Objects of this group allocated in each round that are still alive. */
  newPerRound: number[];
  /** Object count of the class in each snapshot. */
  countSeries: number[];
  retainedSize: number;
  shallowSize: number;
  /** Bytes outside the JS heap (ArrayBuffer backing stores) among what this group retains. */
  nativeSize: number;
  owner: LeakOwner;
  retainerPath: RetainerStep[];
  /** What these objects keep alive, largest first. */
  retains: { className: string; count: number; size: number }[];
  /** Other classes leaking through the same owner. */
  alsoHeld: { className: string; count: number; growthPerRound: number; retainedSize: number }[];
  allocationSites: AllocationSite[];
  /** Where the leaked class is defined, when known. */
  classLocation?: SourceLocation;
  /** Object ids (in the last snapshot) of a few members, the first being the one the path leads to. */
  sampleIds: number[];
  /** The thread whose heap holds the group: `main`, or `worker <id> <name>` (set by `leak-lens run`). */
  thread?: string;
}

export interface SnapshotInfo {
  file: string;
  label?: string;
  time?: string;
  nodeCount: number;
  edgeCount: number;
  totalSize: number;
  maxJsObjectId: number;
  memoryUsage?: SnapshotSidecar['memoryUsage'];
}

export interface LeakReport {
  version: number;
  tool: 'leak-lens';
  verdict: 'leak' | 'clean';
  createdAt: string;
  pid?: number;
  rounds: number;
  snapshots: SnapshotInfo[];
  leaks: LeakGroup[];
  duplicateModules: { file: string; instances: number[]; location?: SourceLocation }[];
  classGrowth: { className: string; counts: number[]; sizes: number[] }[];
  warnings: string[];
  timings: StageTimings;
  /** Every thread analysed, main first, with its own snapshots (set by `leak-lens run`). */
  threads?: { name: string; snapshots: SnapshotInfo[] }[];
}

/** Reads the capture sidecar beside a snapshot, if there is one. */
export function readSidecar(file: string): SnapshotSidecar | undefined {
  try {
    return JSON.parse(fs.readFileSync(file + '.meta.json', 'utf8')) as SnapshotSidecar;
  } catch {
    return undefined;
  }
}

/** An input problem the user can fix, reported as one line with exit status 2. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

export interface ReportOptions extends AnalyzeOptions {
  pathMap?: Record<string, string>;
  minPerRound?: number;
  /** Loads a snapshot (to reuse a cache); `last` is true for the snapshot whose analysis is kept. */
  load?: (file: string, last: boolean) => HeapAnalysis;
}

/** Samples object ids and names of one snapshot, to tell later whether another snapshot is of the same process. */
function identitySample(a: HeapAnalysis): Map<number, number> {
  const s = a.snapshot;
  const sample = new Map<number, number>();
  const step = Math.max(1, Math.floor(s.nodeCount / 4000));
  for (let node = 1; node < s.nodeCount && sample.size < 4000; node += step) {
    if (s.nodeType[node] === s.types.object && s.nodeId[node] & 1) sample.set(s.nodeId[node], s.nodeName[node]);
  }
  return sample;
}

/** Fraction of sampled ids present in `b` that name the same kind of object (near 1 for one process). */
function identityMatch(prev: { sample: Map<number, number>; names: (i: number) => string }, b: HeapAnalysis): { present: number; same: number } {
  const s = b.snapshot;
  let present = 0;
  let same = 0;
  for (let node = 0; node < s.nodeCount; node++) {
    const idx = prev.sample.get(s.nodeId[node]);
    if (idx === undefined) continue;
    present++;
    if (prev.names(idx) === s.name(node)) same++;
  }
  return { present, same };
}

/** Parses the snapshots of one process in order and builds the leak report. */
export function buildLeakReport(files: string[], options: ReportOptions = {}): LeakReport {
  if (files.length < 2) throw new InputError('analyze needs at least two snapshots of the same process: a baseline and one or more taken after repeating the workload');
  const warnings: string[] = [];
  const sidecars = files.map(readSidecar);
  const sessions = new Set(sidecars.map((m) => m?.sessionId).filter(Boolean));
  const pids = new Set(sidecars.map((m) => m?.pid).filter((p) => p !== undefined));
  if (pids.size > 1) throw new InputError(`the snapshots come from different processes (pids ${[...pids].join(', ')}): object ids can only be compared within one process; capture all of them from one run`);
  if (sidecars.some((m) => m?.debuggerAttached)) {
    warnings.push('a debugger was attached while the snapshots were taken: V8 then links promises to what awaits them (async stack traces), so retained sizes can include requests, responses and sockets the program itself no longer holds; for exact figures, capture without a debugger (leak-lens run, or the leak-lens debug type)');
  }
  if (sessions.size > 1) warnings.push('the snapshots were taken in different inspector sessions of one process; V8 may have reset object ids in between, so growth figures can be off');

  const digests: SnapshotDigest[] = [];
  const infos: SnapshotInfo[] = [];
  const timings: StageTimings = {};
  let last: HeapAnalysis | undefined;
  let prevIdentity: { sample: Map<number, number>; names: (i: number) => string } | undefined;
  for (let i = 0; i < files.length; i++) {
    const isLast = i === files.length - 1;
    // Earlier snapshots are only counted: they need no dominator tree.
    const a = options.load ? options.load(files[i], isLast) : loadAnalysis(files[i], isLast ? options : { ...options, light: true });
    for (const [k, v] of Object.entries(a.timings)) timings[k] = (timings[k] ?? 0) + v;
    if (prevIdentity) {
      const m = identityMatch(prevIdentity, a);
      if (m.present >= 50 && m.same / m.present < 0.9) {
        throw new InputError(`${files[i]}: this snapshot is not of the same process as ${files[i - 1]} (object ids name different objects: ${Math.round((100 * m.same) / m.present)}% match); capture all snapshots from one run`);
      }
    }
    const strings = a.snapshot.strings;
    prevIdentity = { sample: identitySample(a), names: (idx) => strings.get(idx) };
    const sc = sidecars[i];
    infos.push({ file: files[i], label: sc?.label, time: sc?.time, nodeCount: a.snapshot.nodeCount, edgeCount: a.snapshot.edgeCount, totalSize: a.totalSize, maxJsObjectId: a.snapshot.maxJsObjectId(), memoryUsage: sc?.memoryUsage });
    if (i < files.length - 1) digests.push(digestSnapshot(a));
    else last = a;
  }
  for (let i = 1; i < infos.length; i++) {
    if (infos[i].maxJsObjectId < infos[i - 1].maxJsObjectId) {
      throw new InputError(`${files[i]} was taken before ${files[i - 1]} (its object ids are lower): pass the snapshots in the order they were taken`);
    }
  }
  const t = performance.now();
  const findings = findLeaks(digests, last!, { minPerRound: options.minPerRound });
  timings.leaks = Math.round(performance.now() - t);

  const t2 = performance.now();
  const scripts = new ScriptIndex(last!, sidecars[sidecars.length - 1]?.scripts ?? []);
  const resolver = new SourceResolver({ pathMap: options.pathMap, sourceMapURLs: scripts.sourceMapURLs, warn: (m) => warnings.push(m) });
  const groups = groupByOwner(findings.clusters.filter((c) => c.isLeak));
  const leaks = groups.map((g) => describeGroup(last!, scripts, resolver, g));
  const duplicateModules = findings.duplicateModules.map((d) => ({ file: resolver.toPath(d.file) ?? d.file, instances: d.instances, location: resolver.resolve({ file: d.file, line: 1, column: 1 }) }));
  timings.report = Math.round(performance.now() - t2);
  return {
    version: REPORT_VERSION,
    tool: 'leak-lens',
    verdict: leaks.length > 0 ? 'leak' : 'clean',
    createdAt: new Date().toISOString(),
    pid: sidecars.find((m) => m?.pid !== undefined)?.pid,
    rounds: files.length - 1,
    snapshots: infos,
    leaks,
    duplicateModules,
    classGrowth: findings.classGrowth.slice(0, 20),
    warnings,
    timings,
  };
}

/** Clusters that leak through one owner become one group, led by the cluster that retains most. */
function groupByOwner(clusters: LeakCluster[]): LeakCluster[][] {
  const byOwner = new Map<string, LeakCluster[]>();
  for (const c of clusters) {
    const key = c.owner ? `${c.owner.kind}|${c.owner.name}|${c.owner.holderNode}` : `?|${c.className}|${c.representative}`;
    const list = byOwner.get(key);
    if (list) list.push(c);
    else byOwner.set(key, [c]);
  }
  return [...byOwner.values()].map((l) => l.sort((x, y) => y.retainedSize - x.retainedSize)).sort((x, y) => y[0].retainedSize - x[0].retainedSize);
}

function describeGroup(a: HeapAnalysis, scripts: ScriptIndex, resolver: SourceResolver, group: LeakCluster[]): LeakGroup {
  const lead = group[0];
  const s = a.snapshot;
  const rounds = lead.newPerRound.length;
  const growthPerRound = Math.round(lead.newPerRound.reduce((x, y) => x + y, 0) / rounds);
  const ownerStep = lead.owner?.stepIndex ?? -1;
  const retainerPath: RetainerStep[] = lead.path.map((step, i) => describeStep(a, scripts, resolver, step, i === ownerStep));
  const owner: LeakOwner = lead.owner ? { name: lead.owner.name, kind: lead.owner.kind } : { name: describeHolder(a, lead.path), kind: 'internal' };
  if (lead.owner) owner.location = ownerLocation(a, scripts, resolver, lead);
  if (lead.owner && lead.owner.kind === 'property' && lead.owner.holder === 'Module') {
    // Node's own module record holds it (module.children, require.cache): name the module a person knows.
    const file = moduleFilename(a, lead.owner.holderNode);
    if (file) owner.name = `module.${lead.owner.identifier} of ${resolver.toPath(file) ?? file}`;
  }
  const retains = retainedBreakdown(a, lead.members);
  const classLocation = scripts.nodeLocation(lead.representative);
  const allocationSites = allocationSitesOf(a, resolver, lead);
  // An owner inside Node or a library with no declaration in user code: point at where the objects are made.
  if (!owner.location && allocationSites[0]?.location) owner.location = allocationSites[0].location;
  return {
    id: `${lead.className}@${owner.name}`,
    className: lead.className,
    count: lead.members.length,
    growthPerRound,
    newPerRound: lead.newPerRound,
    countSeries: lead.countSeries,
    retainedSize: lead.retainedSize,
    shallowSize: lead.shallowSize,
    nativeSize: retains.nativeSize,
    owner,
    retainerPath,
    retains: retains.classes,
    alsoHeld: group.slice(1).map((c) => ({ className: c.className, count: c.members.length, growthPerRound: Math.round(c.newPerRound.reduce((x, y) => x + y, 0) / rounds), retainedSize: c.retainedSize })),
    allocationSites,
    classLocation: classLocation ? resolver.resolve(classLocation) : undefined,
    sampleIds: [lead.representative, ...lead.members.filter((m) => m !== lead.representative).slice(0, 9)].map((m) => s.nodeId[m]),
  };
}

function moduleFilename(a: HeapAnalysis, module: number): string | undefined {
  const s = a.snapshot;
  for (let e = s.firstEdge[module]; e < s.firstEdge[module + 1]; e++) {
    if (s.edgeType[e] === s.types.edgeProperty && s.strings.get(s.edgeName[e]) === 'filename') return s.name(s.edgeTo[e]);
  }
  return undefined;
}

function describeHolder(a: HeapAnalysis, path: PathStep[]): string {
  for (let i = path.length - 2; i >= 0; i--) if (!isInternalNode(a, path[i].node)) return a.className(path[i].node);
  return '(internal)';
}

/** A retainer path as report steps, with locations resolved from the snapshot alone. */
export function describePath(a: HeapAnalysis, path: PathStep[]): RetainerStep[] {
  const scripts = new ScriptIndex(a);
  const resolver = new SourceResolver();
  return path.map((step) => describeStep(a, scripts, resolver, step, false));
}

function describeStep(a: HeapAnalysis, scripts: ScriptIndex, resolver: SourceResolver, step: PathStep, isOwner: boolean): RetainerStep {
  const s = a.snapshot;
  const node = step.node;
  const isClosure = s.nodeType[node] === s.types.closure;
  const out: RetainerStep = {
    edge: step.edge < 0 ? '' : s.edgeHasStringName(step.edge) ? s.edgeNameText(step.edge) : `[${s.edgeName[step.edge]}]`,
    edgeType: step.edge < 0 ? '' : s.edgeTypeName(step.edge),
    node: isClosure ? `${s.name(node) || 'anonymous'}()` : s.nodeType[node] === s.types.synthetic ? s.name(node) : a.className(node),
    nodeType: s.typeName(node),
    nodeId: s.nodeId[node],
  };
  const loc = scripts.nodeLocation(node);
  if (loc) out.location = resolver.resolve(loc);
  if (isOwner) out.owner = true;
  return out;
}

function ownerLocation(a: HeapAnalysis, scripts: ScriptIndex, resolver: SourceResolver, c: LeakCluster): SourceLocation | undefined {
  const owner = c.owner!;
  let near: RuntimeLocation | undefined;
  let file: string | undefined;
  if (owner.scopeClosure !== undefined) {
    near = scripts.nodeLocation(owner.scopeClosure);
    file = near?.file ?? scripts.closureScript(owner.scopeClosure);
  }
  if (!file && (owner.kind === 'property' || owner.kind === 'static-property')) {
    const loc = scripts.nodeLocation(owner.holderNode);
    file = loc?.file;
    near = loc;
  }
  if (!file) {
    // Fall back to any step of the path with a known script, nearest to the owner first.
    for (let i = owner.stepIndex; i >= 0 && !file; i--) {
      const loc = scripts.nodeLocation(c.path[i].node);
      if (loc) file = loc.file;
    }
  }
  if (!file) return undefined;
  const decl = resolver.findOwnerDeclaration(file, owner.kind, owner.identifier, owner.holder, near);
  if (decl) return decl;
  return near ? resolver.resolve(near) : undefined;
}

/**
 * Classes kept alive by a group's objects (their dominator subtrees), and the native bytes among them. Classes the
 * application defines (a constructor location is known) come first: they say more than strings and arrays.
 */
function retainedBreakdown(a: HeapAnalysis, members: number[]): { classes: { className: string; count: number; size: number }[]; nativeSize: number } {
  const s = a.snapshot;
  const { firstChild, children } = a.dominatorTree;
  const counts = new Map<string, { count: number; size: number; defined: boolean }>();
  let nativeSize = 0;
  let visited = 0;
  const budget = 2_000_000;
  const sample = members.length > 2000 ? members.filter((_, i) => i % Math.ceil(members.length / 2000) === 0) : members;
  const scale = members.length / sample.length;
  const stack: number[] = [];
  for (const m of sample) {
    stack.push(m);
    while (stack.length && visited < budget) {
      const node = stack.pop()!;
      visited++;
      if (s.nodeType[node] === s.types.native) nativeSize += a.shallowSize[node];
      if (a.shallowSize[node] > 0 && !isInternalNode(a, node)) {
        const isClosure = s.nodeType[node] === s.types.closure;
        const name = isClosure ? `${s.name(node) || 'anonymous'}()` : a.className(node);
        const c = counts.get(name);
        if (c) {
          c.count++;
          c.size += a.shallowSize[node];
        } else counts.set(name, { count: 1, size: a.shallowSize[node], defined: !isClosure && a.locations.find(node) >= 0 });
      }
      for (let i = firstChild[node]; i < firstChild[node + 1]; i++) stack.push(children[i]);
    }
  }
  const classes = [...counts.entries()]
    .sort((x, y) => Number(y[1].defined) - Number(x[1].defined) || y[1].size - x[1].size)
    .slice(0, 8)
    .map(([className, c]) => ({ className, count: Math.round(c.count * scale), size: Math.round(c.size * scale) }));
  return { classes, nativeSize: Math.round(nativeSize * scale) };
}

/** Allocation stacks of a group's objects (snapshots taken with allocation tracking): the first frame in user code. */
function allocationSitesOf(a: HeapAnalysis, resolver: SourceResolver, c: LeakCluster): AllocationSite[] {
  const s = a.snapshot;
  const tree = s.traceTree;
  const traceIds = s.nodeTraceId;
  if (!tree || !traceIds || s.traceFunctionInfos.length === 0) return [];
  const fields = s.header.meta.trace_function_info_fields ?? ['function_id', 'name', 'script_name', 'script_id', 'line', 'column'];
  const stride = fields.length;
  const nameOff = fields.indexOf('name');
  const scriptOff = fields.indexOf('script_name');
  const lineOff = fields.indexOf('line');
  const colOff = fields.indexOf('column');
  const byId = new Map<number, number>();
  for (let i = 0; i < tree.count; i++) byId.set(tree.id[i], i);
  const frameKey = new Map<number, number>();
  const counts = new Map<number, number>();
  const userFrame = (traceNode: number): number => {
    const cached = frameKey.get(traceNode);
    if (cached !== undefined) return cached;
    // The innermost frame in the application's own code; a library frame only when no application frame exists.
    let t = traceNode;
    let found = -1;
    let library = -1;
    while (t >= 0) {
      const fi = tree.functionInfoIndex[t];
      const script = s.strings.get(s.traceFunctionInfos[fi * stride + scriptOff]);
      if (script && resolver.toPath(script)) {
        if (!/[\\/]node_modules[\\/]/.test(script)) {
          found = fi;
          break;
        }
        if (library < 0) library = fi;
      }
      t = tree.parent[t];
    }
    if (found < 0) found = library;
    frameKey.set(traceNode, found);
    return found;
  };
  for (const m of c.members) {
    const t = byId.get(traceIds[m]);
    if (t === undefined) continue;
    const fi = userFrame(t);
    if (fi >= 0) counts.set(fi, (counts.get(fi) ?? 0) + 1);
  }
  // One function in several loaded copies of a script (re-required modules) is one site.
  const sites = new Map<string, AllocationSite>();
  const total = c.members.length;
  for (const [fi, count] of counts) {
    const fn = s.strings.get(s.traceFunctionInfos[fi * stride + nameOff]) || '(anonymous)';
    const frame: RuntimeLocation = { file: s.strings.get(s.traceFunctionInfos[fi * stride + scriptOff]), line: s.traceFunctionInfos[fi * stride + lineOff], column: s.traceFunctionInfos[fi * stride + colOff] };
    const exact = resolver.findAllocationExpression(frame, c.className);
    // V8's allocation tracker can leave some objects with a stale stack after the GCs between rounds: a minority
    // stack whose function cannot make this class (no `new X`) is that noise, not a place to show.
    if (!exact && count < total / 4) continue;
    const location = exact ?? resolver.resolve(frame);
    const key = `${fn}|${location?.file}:${location?.line}`;
    const site = sites.get(key);
    if (site) site.count += count;
    else sites.set(key, { function: fn, location, count });
  }
  return [...sites.values()].sort((x, y) => y.count - x.count).slice(0, 5);
}
