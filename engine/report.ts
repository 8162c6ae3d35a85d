/**
 * Builds the leak report (its types are in protocol/report.ts): plain data (JSON) that the CLI prints, the language
 * server marks in the editor and the webview shows. Built from the snapshots of one process: earlier snapshots are reduced to digests as they are read, so only
 * the last one is held whole. Locations are resolved to files on disk and through source maps where possible.
 * Schema: schema/leak-report.schema.json.
 */
import { AnalyzeOptions, HeapAnalysis, loadAnalysis } from './analysis';
import { digestSnapshot, findLeaks, LeakCluster, SnapshotDigest } from './leaks';
import {
  exportingModule,
  findOwner,
  isInternalNode,
  markKeyedHolders,
  ownerAndPath,
  OwnerInfo,
  PathStep,
  retainerPath,
  stepSignature,
} from './paths';
import { oneLine } from './safeRead';
import { RuntimeLocation, ScriptIndex } from './scripts';
import { analyzeSampling } from './sampling';
import { readSidecarFile } from './sidecar';
import { SourceResolver } from './source';
import {
  REPORT_VERSION,
  type LeakGroup,
  type LeakOwner,
  type LeakReport,
  type ResourceGroup,
  type RetainerStep,
  type SnapshotInfo,
  type SourceLocation,
  type StageTimings,
} from '../protocol/report';
import type { SamplingProfile } from '../protocol/report';
import { acceptingServer, edgeTo, ResourceCluster, ResourceKind, ResourceNode, timerHolder } from './resources';
import {
  allocationSitesOf,
  backingStoreFrame,
  creatingSite,
  LIBRARY_PATH,
  noSiteReason,
  promiseWaiter,
} from './allocationSites';

/** A report from allocation samples taken at each round boundary, with no snapshot. */
export function buildSamplingReport(
  profiles: SamplingProfile[],
  interval: number,
  pid: number | undefined,
  sourceMapURLs?: Map<string, string>,
): LeakReport {
  const started = performance.now();
  const resolver = new SourceResolver({ sourceMapURLs });
  const sampling = analyzeSampling(profiles, interval, resolver);
  return {
    version: REPORT_VERSION,
    tool: 'leak-lens',
    verdict: sampling.growth.length > 0 ? 'leak' : 'clean',
    createdAt: new Date().toISOString(),
    ...(pid !== undefined ? { pid } : {}),
    rounds: sampling.rounds,
    snapshots: [],
    leaks: [],
    duplicateModules: [],
    classGrowth: [],
    warnings: [],
    timings: { sampling: Math.round(performance.now() - started) },
    sampling,
  };
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
function identityMatch(
  prev: { sample: Map<number, number>; names: (i: number) => string },
  b: HeapAnalysis,
): { present: number; same: number } {
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
  if (files.length < 2)
    throw new InputError(
      'analyze needs at least two snapshots of the same process: a baseline and one or more taken after repeating the workload',
    );
  const warnings: string[] = [];
  const sidecars = files.map((f) => readSidecarFile(f, (m) => warnings.push(m)));
  const sessions = new Set(sidecars.map((m) => m?.sessionId).filter(Boolean));
  const pids = new Set(sidecars.map((m) => m?.pid).filter((p) => p !== undefined));
  if (pids.size > 1) {
    const which = files.map((f, i) => `${oneLine(f, 80)} (pid ${sidecars[i]?.pid ?? '?'})`).join(', ');
    throw new InputError(
      oneLine(
        `the snapshots come from different processes: ${which}; object ids can only be compared within one process; capture all of them from one run`,
        400,
      ),
    );
  }
  if (sidecars.some((m) => m?.debuggerAttached)) {
    warnings.push(
      'a debugger was attached while the snapshots were taken: V8 then links promises to what awaits them (async stack traces), so retained sizes can include requests, responses and sockets the program itself no longer holds; for exact figures, capture without a debugger (leak-lens run, or the leak-lens debug type)',
    );
  }
  // Object ids tell objects apart within one process only, and two runs of one program hand out the same ids to the
  // same start-up objects, so the snapshots themselves cannot prove they come from one process: the capture sidecar
  // (pid and inspector session id, written beside each snapshot) can.
  const identified = sidecars.every((m) => m?.sessionId !== undefined && m.pid !== undefined);
  const identityVerified = identified && sessions.size === 1 && pids.size === 1;
  if (!identified) {
    warnings.push(
      'that these snapshots come from one process could not be verified (no capture sidecar with its pid and session beside each of them): they are compared as one process; snapshots of two runs of a program would show growth that is no leak',
    );
  }
  if (sessions.size > 1)
    warnings.push(
      'the snapshots were taken in different inspector sessions of one process; V8 may have reset object ids in between, so growth figures can be off',
    );

  const digests: SnapshotDigest[] = [];
  const infos: SnapshotInfo[] = [];
  const timings: StageTimings = {};
  let last: HeapAnalysis | undefined;
  let prevIdentity: { sample: Map<number, number>; names: (i: number) => string } | undefined;
  for (let i = 0; i < files.length; i++) {
    const isLast = i === files.length - 1;
    // Earlier snapshots are only counted: they need no dominator tree.
    const a = options.load
      ? options.load(files[i], isLast)
      : loadAnalysis(files[i], isLast ? options : { ...options, light: true });
    for (const [k, v] of Object.entries(a.timings)) timings[k] = (timings[k] ?? 0) + v;
    if (prevIdentity) {
      const m = identityMatch(prevIdentity, a);
      if (m.present >= 50 && m.same / m.present < 0.9) {
        throw new InputError(
          `${files[i]}: this snapshot is not of the same process as ${files[i - 1]} (object ids name different objects: ${Math.round((100 * m.same) / m.present)}% match); capture all snapshots from one run`,
        );
      }
    }
    const strings = a.snapshot.strings;
    prevIdentity = { sample: identitySample(a), names: (idx) => strings.get(idx) };
    const sc = sidecars[i];
    infos.push({
      file: files[i],
      label: sc?.label,
      time: sc?.time,
      nodeCount: a.snapshot.nodeCount,
      edgeCount: a.snapshot.edgeCount,
      totalSize: a.totalSize,
      maxJsObjectId: a.snapshot.maxJsObjectId(),
      memoryUsage: sc?.memoryUsage,
    });
    if (i < files.length - 1) digests.push(digestSnapshot(a));
    else last = a;
  }
  for (let i = 1; i < infos.length; i++) {
    if (infos[i].maxJsObjectId < infos[i - 1].maxJsObjectId) {
      throw new InputError(
        `${files[i]} was taken before ${files[i - 1]} (its object ids are lower): pass the snapshots in the order they were taken`,
      );
    }
  }
  const t = performance.now();
  const findings = findLeaks(digests, last!, { minPerRound: options.minPerRound });
  timings.leaks = Math.round(performance.now() - t);

  const t2 = performance.now();
  const scripts = new ScriptIndex(last!, sidecars[sidecars.length - 1]?.scripts ?? []);
  const resolver = new SourceResolver({
    pathMap: options.pathMap,
    sourceMapURLs: scripts.sourceMapURLs,
    warn: (m) => warnings.push(m),
  });
  const groups = groupByOwner(findings.clusters.filter((c) => c.isLeak));
  let leaks = groups.map((g) => describeGroup(last!, scripts, resolver, g));
  const duplicateModules = findings.duplicateModules.map((d) => ({
    file: resolver.toPath(d.file) ?? d.file,
    instances: d.instances,
    location: resolver.resolve({ file: d.file, line: 1, column: 1 }),
  }));
  if (duplicateModules.length > 0) {
    // Node's ES module loader caches an entry per URL it loads: when modules are loaded again under new URLs, those
    // caches grow with them. That is the duplicate module's cost, said with it, not a leak of its own to chase.
    // Their owner has no declaration in the program: its location, if any, is the allocation line put in its place.
    const site = (g: LeakGroup) => g.allocationSites[0]?.location;
    const undeclared = (g: LeakGroup) =>
      !g.owner.location || (g.owner.location.file === site(g)?.file && g.owner.location.line === site(g)?.line);
    const loader = leaks.filter((g) => /^ModuleLoader\./.test(g.owner.name) && undeclared(g));
    if (loader.length > 0) {
      leaks = leaks.filter((g) => !loader.includes(g));
      const size = loader.reduce((sum, g) => sum + g.retainedSize, 0);
      warnings.push(
        `Node's module loader caches grow with the modules loaded more than once (${loader.map((g) => `${g.owner.name} +${g.growthPerRound} per round`).join(', ')}; ${Math.round(size / 1024)} KB): they go away when the reloading does`,
      );
    }
  }
  const resources = findings.resources.flatMap((c) =>
    describeResources(last!, scripts, resolver, c, options.minPerRound ?? (files.length === 2 ? 10 : 1)),
  );
  timings.report = Math.round(performance.now() - t2);
  return {
    version: REPORT_VERSION,
    tool: 'leak-lens',
    verdict: leaks.length > 0 || resources.length > 0 ? 'leak' : 'clean',
    createdAt: new Date().toISOString(),
    pid: sidecars.find((m) => m?.pid !== undefined)?.pid,
    rounds: files.length - 1,
    snapshots: infos,
    leaks,
    duplicateModules,
    resources,
    classGrowth: findings.classGrowth.slice(0, 20),
    warnings,
    identityVerified,
    timings,
  };
}

/** Clusters that leak through one owner become one group, led by the cluster that retains most. */
function groupByOwner(clusters: LeakCluster[]): LeakCluster[][] {
  const byOwner = new Map<string, LeakCluster[]>();
  for (const c of clusters) {
    const key = c.owner
      ? `${c.owner.kind}|${c.owner.name}|${c.owner.holderNode}`
      : `?|${c.className}|${c.representative}`;
    const list = byOwner.get(key);
    if (list) list.push(c);
    else byOwner.set(key, [c]);
  }
  return [...byOwner.values()]
    .map((l) => l.sort((x, y) => y.retainedSize - x.retainedSize))
    .sort((x, y) => y[0].retainedSize - x[0].retainedSize);
}

function describeGroup(
  a: HeapAnalysis,
  scripts: ScriptIndex,
  resolver: SourceResolver,
  group: LeakCluster[],
): LeakGroup {
  const lead = group[0];
  const s = a.snapshot;
  const rounds = lead.newPerRound.length;
  const growthPerRound = Math.round(lead.newPerRound.reduce((x, y) => x + y, 0) / rounds);
  const ownerStep = lead.owner?.stepIndex ?? -1;
  const retainerPath: RetainerStep[] = lead.path.map((step, i) =>
    describeStep(a, scripts, resolver, step, i === ownerStep),
  );
  const owner: LeakOwner = lead.owner
    ? { name: lead.owner.name, kind: lead.owner.kind }
    : { name: describeHolder(a, lead.path), kind: 'internal' };
  if (lead.owner) owner.location = ownerLocation(a, scripts, resolver, lead);
  if (lead.owner?.kind === 'listeners') describeListeners(a, scripts, resolver, lead, owner);
  if (lead.owner && owner.location && LIBRARY_PATH.test(owner.location.file))
    applicationHolder(a, scripts, resolver, lead, owner);
  if (lead.owner && lead.owner.kind === 'property' && lead.owner.holder === 'Module') {
    // Node's own module record holds it (module.children, require.cache): name the module a person knows.
    const file = moduleFilename(a, lead.owner.holderNode);
    if (file) owner.name = `module.${lead.owner.identifier} of ${resolver.toPath(file) ?? file}`;
  }
  const retains = retainedBreakdown(a, lead.heads);
  const classLocation = lead.kind === 'collection' ? undefined : scripts.nodeLocation(lead.representative);
  const ownerFile = lead.owner ? ownerRuntimeFile(a, scripts, lead).file : undefined;
  let collection: LeakGroup['collection'];
  if (lead.collection) {
    const holder = lead.collection.node;
    const frame = backingStoreFrame(a, resolver, holder);
    const viaProperty =
      lead.owner?.kind === 'property' || lead.owner?.kind === 'static-property' || lead.owner?.kind === 'global';
    const addedAt =
      ownerFile && lead.owner
        ? (resolver.findCollectionAddition(ownerFile, lead.owner.identifier, frame, viaProperty) ??
          (frame ? resolver.findCollectionAddition(frame.file, lead.owner.identifier, frame, viaProperty) : undefined))
        : undefined;
    collection = {
      className: a.className(holder),
      entries: lead.collection.entries,
      bytes: lead.collection.bytes,
      addedAt,
    };
  }
  let allocationSites = lead.kind === 'collection' ? [] : allocationSitesOf(a, scripts, resolver, lead, ownerFile);
  // What leaks in a collection of data is an entry: the line that adds it is where it comes from.
  if (lead.kind === 'collection' && collection?.addedAt)
    allocationSites = [
      {
        function: collection.className + ' addition',
        location: collection.addedAt,
        count: lead.countSeries[lead.countSeries.length - 1],
      },
    ];
  // An owner inside Node or a library with no declaration in user code: point at where the objects are made.
  if (!owner.location && allocationSites[0]?.location) owner.location = allocationSites[0].location;
  return {
    id: `${lead.className}@${owner.name}`,
    kind: lead.kind,
    className: lead.className,
    count: lead.kind === 'collection' ? lead.countSeries[lead.countSeries.length - 1] : lead.members.length,
    growthPerRound,
    newPerRound: lead.newPerRound,
    countSeries: lead.countSeries,
    retainedSize: lead.retainedSize,
    shallowSize: lead.shallowSize,
    nativeSize: retains.nativeSize,
    owner,
    retainerPath,
    retains: retains.classes,
    alsoHeld: group.slice(1).map((c) => ({
      className: c.className,
      count: c.members.length,
      growthPerRound: Math.round(c.newPerRound.reduce((x, y) => x + y, 0) / rounds),
      retainedSize: c.retainedSize,
    })),
    allocationSites,
    ...(allocationSites.length === 0 ? { allocationNote: noSiteReason(a, lead) } : {}),
    classLocation: classLocation ? resolver.resolve(classLocation) : undefined,
    sampleIds: [lead.representative, ...lead.members.filter((m) => m !== lead.representative).slice(0, 9)].map(
      (m) => s.nodeId[m],
    ),
    ...(lead.kind === 'chain' ? { chain: { link: lead.chainLink ?? [] } } : {}),
    ...(lead.via
      ? { heldVia: { className: lead.via.className, location: locate(scripts, resolver, lead.via.node) } }
      : {}),
    ...(collection ? { collection } : {}),
  };
}

function locate(scripts: ScriptIndex, resolver: SourceResolver, node: number): SourceLocation | undefined {
  const loc = scripts.nodeLocation(node);
  return loc ? resolver.resolve(loc) : undefined;
}

function moduleFilename(a: HeapAnalysis, module: number): string | undefined {
  const s = a.snapshot;
  for (let e = s.firstEdge[module]; e < s.firstEdge[module + 1]; e++) {
    if (s.edgeType[e] === s.types.edgeProperty && s.strings.get(s.edgeName[e]) === 'filename')
      return s.name(s.edgeTo[e]);
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

/** One object of a snapshot: its class, its shortest retainer path from a GC root, and the owner found on that path. */
export interface ObjectRetainers {
  className: string;
  retainedSize: number;
  retainerPath: RetainerStep[];
  /** Undefined when the path shows no variable or named property that holds the object. */
  owner?: LeakOwner;
}

/**
 * The retainer path and owner (with the line that declares it) of the object with heap id `nodeId` in snapshot
 * `file`, found and named as a leak group's are; undefined when the snapshot has no object with that id. Time: one
 * analysis of the snapshot, then O(path length x retainers per step).
 */
export function describeObject(
  file: string,
  nodeId: number,
  options: AnalyzeOptions = {},
): ObjectRetainers | undefined {
  const a = loadAnalysis(file, options);
  const s = a.snapshot;
  let node = -1;
  for (let i = 0; i < s.nodeCount && node < 0; i++) if (s.nodeId[i] === nodeId) node = i;
  if (node < 0) return undefined;
  const scripts = new ScriptIndex(a, readSidecarFile(file)?.scripts ?? []);
  const resolver = new SourceResolver({ sourceMapURLs: scripts.sourceMapURLs });
  const path = retainerPath(a, node);
  const info = findOwner(a, path);
  const result: ObjectRetainers = {
    className: a.className(node),
    retainedSize: a.retainedSize[node] ?? 0,
    retainerPath: path.map((step, i) => describeStep(a, scripts, resolver, step, i === info?.stepIndex)),
  };
  if (info) {
    result.owner = { name: info.name, kind: info.kind };
    const location = ownerLocation(a, scripts, resolver, { owner: info, path });
    if (location) result.owner.location = location;
  }
  return result;
}

function describeStep(
  a: HeapAnalysis,
  scripts: ScriptIndex,
  resolver: SourceResolver,
  step: PathStep,
  isOwner: boolean,
): RetainerStep {
  const s = a.snapshot;
  const node = step.node;
  const isClosure = s.nodeType[node] === s.types.closure;
  const out: RetainerStep = {
    edge:
      step.edge < 0 ? '' : s.edgeHasStringName(step.edge) ? s.edgeNameText(step.edge) : `[${s.edgeName[step.edge]}]`,
    edgeType: step.edge < 0 ? '' : s.edgeTypeName(step.edge),
    node: isClosure
      ? `${s.name(node) || 'anonymous'}()`
      : s.nodeType[node] === s.types.synthetic
        ? s.name(node)
        : a.className(node),
    nodeType: s.typeName(node),
    nodeId: s.nodeId[node],
  };
  const loc = scripts.nodeLocation(node);
  if (loc) out.location = resolver.resolve(loc);
  if (isOwner) out.owner = true;
  return out;
}

function ownerLocation(
  a: HeapAnalysis,
  scripts: ScriptIndex,
  resolver: SourceResolver,
  c: Pick<LeakCluster, 'owner' | 'path'>,
): SourceLocation | undefined {
  const owner = c.owner!;
  const { file, near } = ownerRuntimeFile(a, scripts, c);
  if (!file) return owner.kind === 'global' ? globalAssignment(a, scripts, resolver, c) : undefined;
  const decl = resolver.findOwnerDeclaration(file, owner.kind, owner.identifier, owner.holder, near);
  if (decl) return decl;
  return near ? resolver.resolve(near) : undefined;
}

/**
 * A property of the global object that no function on the path locates: the program file that assigns it
 * (`globalThis.cache = ...`, `global.cache = ...`), the file of the held objects first. Library files are skipped.
 */
function globalAssignment(
  a: HeapAnalysis,
  scripts: ScriptIndex,
  resolver: SourceResolver,
  c: Pick<LeakCluster, 'owner' | 'path'>,
): SourceLocation | undefined {
  const identifier = c.owner!.identifier;
  const held = c.path.length ? scripts.nodeLocation(c.path[c.path.length - 1].node)?.file : undefined;
  const files = [held, ...scripts.files()].filter((f): f is string => !!f && !LIBRARY_PATH.test(f));
  for (const f of new Set(files))
    for (const holder of ['globalThis', 'global']) {
      const decl = resolver.findOwnerDeclaration(f, 'property', identifier, holder);
      if (decl) return decl;
    }
  return undefined;
}

/**
 * Listeners are named the way the code that adds them names the emitter (`bus listeners for 'config-changed'`, never
 * `Module.exports`), and located at the `.on(` call that adds them; the emitter's own declaration comes second.
 */
function describeListeners(
  a: HeapAnalysis,
  scripts: ScriptIndex,
  resolver: SourceResolver,
  c: LeakCluster,
  owner: LeakOwner,
): void {
  const s = a.snapshot;
  const info = c.owner!;
  const event = /listeners for '(.*)'$/.exec(info.name)?.[1];
  // The listener: the first function on the path below the emitter's event entry.
  let listener = -1;
  for (let i = info.stepIndex; i < c.path.length && listener < 0; i++)
    if (s.nodeType[c.path[i].node] === s.types.closure) listener = c.path[i].node;
  const start = listener >= 0 ? scripts.nodeLocation(listener) : undefined;
  const call = start ? resolver.findListenerCall(start) : undefined;
  if (!call) return;
  const emitterDecl = owner.location;
  owner.name = `${call.emitter} listeners for '${event ?? '?'}'`;
  owner.location = call.location;
  // The emitter itself: a module's export (found on the path as Module -> exports), or the variable found before.
  let declared: SourceLocation | undefined;
  for (let i = info.stepIndex - 1; i >= 1 && !declared; i--) {
    const from = c.path[i - 1].node;
    if (s.name(from) === 'Module' && c.path[i].edge >= 0 && s.edgeNameText(c.path[i].edge) === 'exports') {
      const file = moduleFilename(a, from);
      if (file) declared = resolver.findExportedEmitter(file, call.emitter.split('.').pop());
    }
  }
  declared ??= emitterDecl;
  if (declared && (declared.file !== call.location.file || declared.line !== call.location.line))
    owner.related = [{ label: 'emitter declared', location: declared }];
}

/**
 * For an owner inside a library: the variable or property in the application's own code that holds the library's
 * object (`const profileLoader = new DataLoader(...)`), which is where a person changes how the library is used.
 */
function applicationHolder(
  a: HeapAnalysis,
  scripts: ScriptIndex,
  resolver: SourceResolver,
  c: LeakCluster,
  owner: LeakOwner,
): void {
  let end = c.owner!.stepIndex;
  for (let tries = 0; tries < 6 && end > 1; tries++) {
    const outer = findOwner(a, c.path.slice(0, end));
    if (!outer) return;
    const location = ownerLocation(a, scripts, resolver, { ...c, owner: outer });
    if (location && !LIBRARY_PATH.test(location.file)) {
      owner.related = [...(owner.related ?? []), { label: `held in the application by ${outer.name}`, location }];
      return;
    }
    end = outer.stepIndex;
  }
}

/** The script (as the runtime named it) where the owner lives, and a position in the holding scope when known. */
function ownerRuntimeFile(
  a: HeapAnalysis,
  scripts: ScriptIndex,
  c: Pick<LeakCluster, 'owner' | 'path'>,
): { file?: string; near?: RuntimeLocation } {
  const owner = c.owner!;
  let near: RuntimeLocation | undefined;
  let file: string | undefined;
  if (owner.scopeClosure !== undefined) {
    near = scripts.nodeLocation(owner.scopeClosure);
    file = near?.file ?? scripts.closureScript(owner.scopeClosure);
  }
  if (!file && owner.kind === 'property' && owner.holder === 'exports') {
    // A module's exports: the module's own file (its Module's `filename`).
    const module = exportingModule(a, owner.holderNode);
    if (module >= 0) file = moduleFilename(a, module);
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
  return { file, near };
}

/**
 * Classes kept alive by a group's objects (their dominator subtrees), and the native bytes among them. Classes the
 * application defines (a constructor location is known) come first: they say more than strings and arrays.
 */
function retainedBreakdown(
  a: HeapAnalysis,
  members: number[],
): { classes: { className: string; count: number; size: number }[]; nativeSize: number } {
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
        } else
          counts.set(name, { count: 1, size: a.shallowSize[node], defined: !isClosure && a.locations.find(node) >= 0 });
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

/** What the program sees of each kind of resource, for the report's words. */
const RESOURCE_NAMES: Record<ResourceKind, string> = {
  'pending-promise': 'Promise',
  socket: 'Socket',
  server: 'Server',
  timer: 'Timeout',
  'file-handle': 'FileHandle',
  'child-process': 'ChildProcess',
  handle: 'handle',
  'vm-context': 'vm context',
};

/** Members whose retainer paths are computed to group them by holder; beyond that a kind stays one group. */
const RESOURCE_PATHS = 1000;

/**
 * The groups of one growing resource kind: its members split by the shape of their retainer path from the owner (as
 * leak groups are), each with its owner, creating line and, for promises, what waits on them. A group whose members
 * did not survive from every round is left out (requests in flight at a snapshot).
 */
function describeResources(
  a: HeapAnalysis,
  scripts: ScriptIndex,
  resolver: SourceResolver,
  c: ResourceCluster,
  minPerRound: number,
): ResourceGroup[] {
  const s = a.snapshot;
  const rounds = c.newPerRound.length;
  const target = (m: ResourceNode) =>
    c.kind === 'socket' || c.kind === 'server' || c.kind === 'child-process' || c.kind === 'file-handle'
      ? m.owner
      : m.node;
  const byShape = new Map<string, { members: ResourceCluster['members']; path: PathStep[]; owner: OwnerInfo | null }>();
  const split = c.members.length <= RESOURCE_PATHS;
  const picked = split ? c.members : c.members.slice(0, 1);
  const paths = picked.map((m) => resourcePath(a, c.kind, target(m)));
  // Resources of one kind under several keys of a plain object (`openAudits[user]`) are held by that object.
  markKeyedHolders(
    a,
    paths.map((path) => ({ path, key: c.kind })),
  );
  for (let i = 0; i < picked.length; i++) {
    const m = picked[i];
    const { path, owner } = ownerAndPath(a, paths[i]);
    const from = owner ? owner.stepIndex : Math.max(0, path.length - 4);
    const shape = split
      ? path
          .slice(from)
          .map((st, i) => (isResolvingFunction(a, scripts, path, from + i) ? 'resolving' : stepSignature(a, st)))
          .join('/') + madeBy(a, scripts, c.kind, m)
      : '*';
    const g = byShape.get(shape);
    if (g) g.members.push(m);
    else byShape.set(shape, { members: [m], path, owner });
  }
  if (!split) byShape.get('*')!.members = c.members;
  const out: ResourceGroup[] = [];
  const shapes = new Map<ResourceGroup, string>();
  for (const [shape, g] of byShape) {
    const newPerRound = new Array<number>(rounds).fill(0);
    for (const m of g.members) newPerRound[m.round]++;
    if (!newPerRound.every((x) => x >= minPerRound)) continue;
    const lead = g.members[0];
    const ownerStep = g.owner?.stepIndex ?? -1;
    const owner: LeakOwner = g.owner
      ? {
          name: g.owner.name,
          kind: g.owner.kind,
          location: ownerLocation(a, scripts, resolver, { owner: g.owner, path: g.path }),
        }
      : c.kind === 'pending-promise'
        ? { name: describeHolder(a, g.path), kind: 'internal' }
        : { name: "Node's list of open handles (until closed)", kind: 'internal' };
    const awaitedBy = c.kind === 'pending-promise' ? promiseWaiter(a, scripts, resolver, g.members) : undefined;
    // The line that adds them to their holder (`pending.set(id, new Promise(...))`), when the owner is a collection.
    const viaProperty =
      g.owner?.kind === 'property' || g.owner?.kind === 'static-property' || g.owner?.kind === 'global';
    const addedAt =
      g.owner && owner.location
        ? resolver.findCollectionAddition(owner.location.file, g.owner.identifier, undefined, viaProperty)
        : undefined;
    const created = creatingSite(a, scripts, resolver, c.kind, g.members, addedAt, heldDirectly(a, g.path, ownerStep));
    const name =
      c.kind === 'socket' || c.kind === 'server' || c.kind === 'child-process' || c.kind === 'file-handle'
        ? a.className(lead.owner)
        : RESOURCE_NAMES[c.kind];
    out.push({
      id: `${c.kind}@${owner.name}`,
      kind: c.kind,
      name: name && name !== 'Object' ? name : RESOURCE_NAMES[c.kind],
      ...(lead.native ? { native: lead.native } : {}),
      count: g.members.length,
      growthPerRound: Math.round(newPerRound.reduce((x, y) => x + y, 0) / rounds),
      newPerRound,
      countSeries: c.countSeries,
      owner,
      retainerPath: g.path.map((step, i) => describeStep(a, scripts, resolver, step, i === ownerStep)),
      ...(created.site ? { createdAt: created.site } : {}),
      ...(created.note ? { createdNote: created.note } : {}),
      ...(awaitedBy ? { awaitedBy } : {}),
      sampleIds: g.members.slice(0, 10).map((m) => s.nodeId[target(m)]),
    });
    shapes.set(out[out.length - 1], shape);
  }
  // (The callback's file in the key loses its folder: the same program checked out elsewhere keeps its ids.)
  distinctIds(out, (g) => (shapes.get(g) ?? '').replace(/\|[^|]*[\\/]/g, '|'));
  return out.sort((x, y) => y.count - x.count);
}

/**
 * Makes the ids of groups unique and stable: groups that would share an id (`timer@jobs` for two kinds of timer in one
 * list) each get `#` and a short hash of what sets them apart (`key`: the shape of their path from the owner and, for
 * timers, where their callback is written), which is the same in every run of the program, whatever the order or the
 * counts of the groups. A group whose id is its own keeps it as it was.
 */
export function distinctIds<T extends { id: string }>(groups: T[], key: (g: T) => string): void {
  const byId = new Map<string, T[]>();
  for (const g of groups) {
    const same = byId.get(g.id);
    if (same) same.push(g);
    else byId.set(g.id, [g]);
  }
  for (const [id, same] of byId) {
    if (same.length < 2) continue;
    const taken = new Set<string>();
    for (const g of [...same].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0))) {
      let candidate = `${id}#${fnv1a(key(g))}`;
      for (let n = 2; taken.has(candidate); n++) candidate = `${id}#${fnv1a(key(g))}-${n}`;
      taken.add(candidate);
      g.id = candidate;
    }
  }
}

/** FNV-1a of a string, as 8 hex digits: a short name that stays the same for the same text. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/**
 * A resource's retainer path. A timer is held by the program through its nearest holder other than Node's timer list
 * when it has one: the list's neighbours are other timers (often Node's own), not what keeps this one.
 */
function resourcePath(a: HeapAnalysis, kind: ResourceKind, node: number): PathStep[] {
  if (kind === 'timer') {
    const held = timerHolder(a, node);
    if (held) return [...retainerPath(a, held.from), { node, edge: held.edge }];
  }
  return retainerPath(a, node);
}

/**
 * True when step `i` of the path is one of a promise's resolving functions (`resolve` or `reject` of `new Promise`,
 * V8's builtins, with no source) on the way to that promise: a program that keeps both reaches the promise through
 * either, as V8's node order falls, so which one the path takes must not split a group.
 */
function isResolvingFunction(a: HeapAnalysis, scripts: ScriptIndex, path: PathStep[], i: number): boolean {
  const s = a.snapshot;
  if (i + 2 >= path.length || s.nodeType[path[i].node] !== s.types.closure) return false;
  const next = path[i + 1].edge;
  return (
    s.edgeHasStringName(next) &&
    s.edgeNameText(next) === 'context' &&
    s.name(path[i + 2].node) === 'Promise' &&
    scripts.nodeLocation(path[i].node) === undefined
  );
}

/**
 * What tells apart resources made in different places whose paths look alike: a timer's callback (where it is
 * written), and for a socket the server that accepted it (its connections are not the program's `net.connect(`).
 */
function madeBy(a: HeapAnalysis, scripts: ScriptIndex, kind: ResourceKind, m: ResourceNode): string {
  const s = a.snapshot;
  if (kind === 'timer') {
    const callback = edgeTo(a, m.node, '_onTimeout');
    const loc = callback >= 0 ? scripts.nodeLocation(callback) : undefined;
    return loc ? `|${loc.file}:${loc.line}:${loc.column}` : `|${callback >= 0 ? s.name(callback) : ''}`;
  }
  if (kind === 'socket') {
    const server = acceptingServer(a, m.owner);
    return server >= 0 ? `|accepted by @${s.nodeId[server]}` : '';
  }
  return '';
}

/**
 * Whether the holder's entry on the path (the first thing past its own storage) is what was added to it, so that the
 * line adding to it names the members' creating call: not when that entry is a function (`owed.push(resolve)` holds
 * a promise only through its resolve function's context).
 */
function heldDirectly(a: HeapAnalysis, path: PathStep[], ownerStep: number): boolean {
  const s = a.snapshot;
  if (ownerStep < 0) return false;
  for (let i = ownerStep + 1; i < path.length; i++) {
    const t = s.nodeType[path[i].node];
    if (t === s.types.array || t === s.types.hidden) continue;
    return t !== s.types.closure;
  }
  return true;
}
