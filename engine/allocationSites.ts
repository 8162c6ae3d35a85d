/**
 * Where a report's objects and resources were made. With allocation tracking, from V8's allocation stacks (the
 * snapshot's trace tree): the innermost frame whose script is a file on disk, and in it the expression that makes the
 * class or the call that makes the resource. Without a usable stack, from the program's source: the expressions that
 * can make the class, the `new Promise(` or creating call near what holds or awaits a resource. Stacks are indexed
 * once per snapshot and report (O(trace nodes)); each group then looks at a bounded sample of its members, a few
 * frames each.
 */
import { HeapAnalysis } from './analysis';
import { LeakCluster } from './leaks';
import { TRACE_FUNCTION_INFO_FIELDS } from './rawSnapshot';
import { RuntimeLocation, ScriptIndex } from './scripts';
import { SourceResolver } from './source';
import type { AllocationSite, ResourceGroup, SourceLocation } from '../protocol/report';
import { acceptingServer, edgeTo, ResourceKind, ResourceNode } from './resources';

/** A file in a package folder (node_modules): a library's code, not the application's. */
export const LIBRARY_PATH = /[\\/]node_modules[\\/]/;

/** A frame of an allocation stack, innermost first. */
interface Frame {
  fn: string;
  runtime: RuntimeLocation;
  library: boolean;
}

/** Allocation stacks of one snapshot taken with allocation tracking: each object's trace node, and its frames. */
interface AllocationStacks {
  /** The trace node (an index into the trace tree) of an object, if V8 recorded one. */
  traceNode(node: number): number | undefined;
  parent(traceNode: number): number;
  /** The frame of a trace node when its script is a file on disk, else undefined (Node's internals). */
  frameOf(traceNode: number): Frame | undefined;
  /** True when a function of this name in this file allocated anything while tracking was on (it ran then). */
  ran(file: string, fn: string): boolean;
}

/** Built once per report: frames depend on the resolver (path maps), which belongs to one report. */
const stacksCache = new WeakMap<SourceResolver, WeakMap<HeapAnalysis, AllocationStacks | null>>();

function allocationStacks(a: HeapAnalysis, resolver: SourceResolver): AllocationStacks | undefined {
  let perResolver = stacksCache.get(resolver);
  if (!perResolver) stacksCache.set(resolver, (perResolver = new WeakMap()));
  const cache = perResolver;
  const cached = cache.get(a);
  if (cached !== undefined) return cached ?? undefined;
  const s = a.snapshot;
  const tree = s.traceTree;
  const traceIds = s.nodeTraceId;
  if (!tree || !traceIds || s.traceFunctionInfos.length === 0) {
    cache.set(a, null);
    return undefined;
  }
  const fields = s.header.meta.trace_function_info_fields ?? TRACE_FUNCTION_INFO_FIELDS;
  const stride = fields.length;
  const nameOff = fields.indexOf('name');
  const scriptOff = fields.indexOf('script_name');
  const lineOff = fields.indexOf('line');
  const colOff = fields.indexOf('column');
  const byId = new Map<number, number>();
  for (let i = 0; i < tree.count; i++) byId.set(tree.id[i], i);
  let ranSet: Set<string> | undefined;
  const stacks: AllocationStacks = {
    ran: (file, fn) => {
      if (!ranSet) {
        ranSet = new Set();
        for (let i = 0; i + stride <= s.traceFunctionInfos.length; i += stride) {
          const path = resolver.toPath(s.strings.get(s.traceFunctionInfos[i + scriptOff]) ?? '');
          if (path) ranSet.add(`${path}|${s.strings.get(s.traceFunctionInfos[i + nameOff]) ?? ''}`);
        }
      }
      return ranSet.has(`${file}|${fn.replace(/^.*\./, '')}`);
    },
    traceNode: (node) => byId.get(traceIds[node]),
    parent: (t) => tree.parent[t],
    frameOf: (t) => {
      const fi = tree.functionInfoIndex[t];
      const script = s.strings.get(s.traceFunctionInfos[fi * stride + scriptOff]);
      if (!script || !resolver.toPath(script)) return undefined;
      const line = s.traceFunctionInfos[fi * stride + lineOff];
      const column = s.traceFunctionInfos[fi * stride + colOff];
      return {
        // A script's own code (a module's top level) is the unnamed function that starts at its first character.
        fn:
          s.strings.get(s.traceFunctionInfos[fi * stride + nameOff]) ||
          (line === 1 && column === 1 ? '(top level)' : '(anonymous)'),
        runtime: { file: script, line, column },
        library: LIBRARY_PATH.test(script),
      };
    },
  };
  cache.set(a, stacks);
  return stacks;
}

/**
 * Where a group's objects are allocated. With allocation tracking, from each object's allocation stack: the innermost
 * frame whose script is a file on disk (the library's own line for objects a library makes), the expression in it
 * that makes the class (through one inlined call), and for library frames the application's calling line. Without
 * a usable stack (no tracking, or V8 kept none for these objects), from the source: the expressions in the
 * program's files that can make the class, the owner's file first (`ownerFile`, the script where the group's owner
 * lives); a closure is made where its function is written.
 */
export function allocationSitesOf(
  a: HeapAnalysis,
  scripts: ScriptIndex,
  resolver: SourceResolver,
  c: LeakCluster,
  ownerFile: string | undefined,
): AllocationSite[] {
  return withLibraryCallers(a, scripts, resolver, sitesOf(a, scripts, resolver, c, ownerFile));
}

/**
 * For a site inside a library (node_modules) with no caller from an allocation stack: the application's line that
 * calls into the library towards it, from the source. The application's calls of the allocating function by name; if
 * it has none (a helper the library calls itself), of the library functions that call it, up to three levels out.
 * Generic names match unrelated calls, so more than three candidates name none; then the site says what to do.
 */
function withLibraryCallers(
  a: HeapAnalysis,
  scripts: ScriptIndex,
  resolver: SourceResolver,
  sites: AllocationSite[],
): AllocationSite[] {
  return sites.map((site) => {
    const file = site.location?.file;
    if (site.caller || !file || !LIBRARY_PATH.test(file)) return site;
    const caller = sourceCaller(scripts, resolver, site.function, packageRoot(file));
    if (caller) return { ...site, caller };
    const tracked = !!a.snapshot.traceTree && a.snapshot.traceTree.count > 0;
    return {
      ...site,
      callerNote: tracked
        ? "the application's line that calls into the library: not in V8's allocation stacks, and no unique call of it in the application's files"
        : "the application's line that calls into the library: no unique call of it in the application's files; run again with --track-allocations to record it",
    };
  });
}

/** Names no call can be told apart by: a module's top level, anonymous functions, and the most common method names. */
const VAGUE_NAMES = new Set([
  '(top level)',
  '(anonymous)',
  'anonymous',
  'constructor',
  'push',
  'set',
  'get',
  'add',
  'call',
  'apply',
  'then',
  'emit',
  'on',
]);

function sourceCaller(
  scripts: ScriptIndex,
  resolver: SourceResolver,
  fn: string,
  pkg: string | undefined,
): AllocationSite['caller'] | undefined {
  const appFiles = scripts.files().filter((f) => !LIBRARY_PATH.test(f));
  const libFiles = pkg ? scripts.files().filter((f) => f.startsWith(pkg)) : [];
  let names = [fn.replace(/^.*\./, '')].filter((n) => !VAGUE_NAMES.has(n));
  const seen = new Set(names);
  for (let level = 0; level < 3 && names.length > 0; level++) {
    const found = resolver.findCallsIn(appFiles, names, 4);
    if (found.length > 0 && found.length <= 3)
      return {
        function: found[0].function,
        location: found[0].location,
        fromSource: true,
        ...(found.length > 1 ? { candidates: found.length } : {}),
      };
    if (found.length > 3) return undefined;
    // One level out: the library's functions that call these.
    const outer = resolver
      .findCallsIn(libFiles, names, 16)
      .map((f) => f.function.replace(/^.*\./, ''))
      .filter((n) => n && !VAGUE_NAMES.has(n) && !seen.has(n));
    names = [...new Set(outer)];
    for (const n of names) seen.add(n);
  }
  return undefined;
}

function sitesOf(
  a: HeapAnalysis,
  scripts: ScriptIndex,
  resolver: SourceResolver,
  c: LeakCluster,
  ownerFile: string | undefined,
): AllocationSite[] {
  const tracked = trackedSites(a, resolver, c);
  if (tracked.some((site) => site.exact)) return tracked.map(({ exact: _exact, ...site }) => site);
  // A chain can alternate between elements the program makes and elements the runtime makes for it (a promise
  // resolved with another promise gets a derived promise from a microtask, with no JavaScript on the stack). Which
  // of the two the chain rule counts depends on how the dominator tree falls; the program's own elements are the
  // other objects of the class that the chain keeps alive, and their stacks say where the program makes them.
  if (c.kind === 'chain') {
    const kin = retainedOfClass(a, c.members, c.className);
    const viaKin = kin.length ? trackedSites(a, resolver, { ...c, members: kin }) : [];
    if (viaKin.some((site) => site.exact)) return viaKin.map(({ exact: _exact, ...site }) => site);
  }
  const s = a.snapshot;
  // (A group held through callbacks is named after what they hold: its representative is still the callback.)
  if (s.nodeType[c.representative] === s.types.closure && c.className.endsWith('()')) {
    const loc = scripts.nodeLocation(c.representative);
    const location = loc ? resolver.resolve(loc) : undefined;
    return location
      ? [
          {
            function: c.className.replace(/\(\)$/, '') || '(anonymous)',
            location,
            count: c.members.length,
            fromSource: true,
          },
        ]
      : tracked;
  }
  const files = scripts.files().filter((f) => !/[\\/]node_modules[\\/]/.test(f) || f === ownerFile);
  const classFile = scripts.nodeLocation(c.representative)?.file;
  const ordered = [...new Set([ownerFile, ...files, classFile].filter((f): f is string => !!f))];
  let found = resolver.findAllocationsIn(ordered, c.className);
  // A class of a library that the program never makes itself: the library makes it. Look in the library's own
  // loaded files (V8's tracker loses the stacks of many objects that optimized code makes).
  const pkg = found.length === 0 && classFile ? packageRoot(classFile) : undefined;
  if (pkg)
    found = resolver.findAllocationsIn(
      scripts.files().filter((f) => f.startsWith(pkg)),
      c.className,
    );
  if (found.length === 0) return tracked.map(({ exact: _exact, ...site }) => site);
  // Of several, those in functions that ran while allocations were tracked come first (a factory that ran only at
  // start-up, or an error path never taken, made none of the objects that grew).
  const stacks = allocationStacks(a, resolver);
  if (stacks && found.length > 1) {
    const ran = (f: (typeof found)[number]) => Number(stacks.ran(f.location.file, f.function));
    found = [...found].sort((x, y) => ran(y) - ran(x));
  }
  // Only a unique expression is an answer; several are listed, with the count unknown.
  return found.slice(0, 5).map((f) => ({
    function: f.function,
    location: f.location,
    count: found.length === 1 ? c.members.length : 0,
    fromSource: true,
  }));
}

/** Objects of a class in the dominator subtrees of `members`, other than the members themselves (bounded walk). */
function retainedOfClass(a: HeapAnalysis, members: number[], className: string): number[] {
  const s = a.snapshot;
  const { firstChild, children } = a.dominatorTree;
  const own = new Set(members);
  const seen = new Set<number>();
  const out: number[] = [];
  const stack = [...members];
  for (let budget = 2_000_000; stack.length && budget > 0; budget--) {
    const node = stack.pop()!;
    // The elements of a chain dominate one another: each subtree is walked once.
    if (seen.has(node)) continue;
    seen.add(node);
    if (!own.has(node) && s.nodeType[node] === s.types.object && a.className(node) === className) out.push(node);
    for (let i = firstChild[node]; i < firstChild[node + 1]; i++) stack.push(children[i]);
  }
  return out;
}

/** The folder of the package a file in node_modules belongs to (`.../node_modules/fastify/`, `.../node_modules/@scope/name/`). */
function packageRoot(file: string): string | undefined {
  const m = /^(.*[\\/]node_modules[\\/](?:@[^\\/]+[\\/])?[^\\/]+[\\/])/.exec(file);
  return m?.[1];
}

function trackedSites(
  a: HeapAnalysis,
  resolver: SourceResolver,
  c: LeakCluster,
): (AllocationSite & { exact: boolean })[] {
  const stacks = allocationStacks(a, resolver);
  if (!stacks) return [];
  // Objects by their trace node; the stack is the same for all of them.
  const perTrace = new Map<number, number>();
  let withoutStack = 0;
  for (const m of c.members) {
    const t = stacks.traceNode(m);
    if (t !== undefined) perTrace.set(t, (perTrace.get(t) ?? 0) + 1);
    else withoutStack++;
  }
  const sites = new Map<string, AllocationSite & { exact: boolean }>();
  const total = c.members.length;
  for (const [traceNode, count] of perTrace) {
    const frames: Frame[] = [];
    for (let t = traceNode; t >= 0 && frames.length < 12; t = stacks.parent(t)) {
      const f = stacks.frameOf(t);
      if (f) frames.push(f);
    }
    if (frames.length === 0) {
      // Only Node's or V8's own frames: no stack of the program's.
      withoutStack += count;
      continue;
    }
    // The innermost frame that can make the class is where it is made (an inlined callee is looked into).
    let at = 0;
    let exact: SourceLocation | undefined;
    for (let i = 0; i < Math.min(frames.length, 4) && !exact; i++) {
      exact = resolver.findAllocationExpression(frames[i].runtime, c.className);
      if (exact) at = i;
    }
    if (!exact) {
      // No frame can make it: show the innermost application frame, as the allocation tracker saw it.
      at = Math.max(
        0,
        frames.findIndex((f) => !f.library),
      );
    }
    const frame = frames[at];
    // V8's allocation tracker can leave some objects with a stale stack after the GCs between rounds: a minority
    // stack whose function cannot make this class (no `new X`) is that noise, not a place to show.
    if (!exact && count < total / 4) continue;
    const location = exact ?? resolver.resolve(frame.runtime);
    const key = `${frame.fn}|${location?.file}:${location?.line}`;
    const site = sites.get(key);
    if (site) {
      site.count += count;
      continue;
    }
    const created: AllocationSite & { exact: boolean } = { function: frame.fn, location, count, exact: !!exact };
    if (frame.library) {
      // The application's line that called into the library: the first application frame outwards.
      const appAt = frames.findIndex((f, i) => i > at && !f.library);
      if (appAt > 0) {
        const callee = frames[appAt - 1].fn;
        created.caller = {
          function: frames[appAt].fn,
          location: resolver.findCall(frames[appAt].runtime, callee) ?? resolver.resolve(frames[appAt].runtime),
        };
      }
      created.stack = frames.slice(at, appAt > 0 ? appAt + 1 : Math.min(frames.length, at + 4)).map((f, i, all) => ({
        function: f.fn,
        location:
          i === 0
            ? location
            : i === all.length - 1 && created.caller
              ? created.caller.location
              : resolver.resolve(f.runtime),
        ...(f.library ? {} : { app: true }),
      }));
    }
    sites.set(key, created);
  }
  // V8's tracker keeps an address -> stack map that can go stale when memory is reused, so a library's allocation of
  // the same class nearby can claim some objects. An application line that makes the class and holds a fair share of
  // the objects is the better answer; a library line leads only when the application has none.
  const list = [...sites.values()].sort((x, y) => y.count - x.count);
  const top = list[0]?.count ?? 0;
  const isApp = (site: AllocationSite & { exact: boolean }) =>
    site.exact && !site.caller && !!site.location && !LIBRARY_PATH.test(site.location.file);
  const shown = list
    .sort(
      (x, y) => Number(isApp(y) && y.count >= top / 4) - Number(isApp(x) && x.count >= top / 4) || y.count - x.count,
    )
    .slice(0, 5);
  // A count short of the group says so: V8's tracker lost the stacks of the others (a whole round's, at times), or
  // gave them stale ones that name no place making the class. The count is what the stacks show, not the group.
  const placed = shown.reduce((n, site) => n + site.count, 0);
  if (placed < total) for (const site of shown) Object.assign(site, { of: total, withoutStack });
  return shown;
}

/** Why no allocation site could be named for a group, in words a user can act on. */
export function noSiteReason(a: HeapAnalysis, c: LeakCluster): string {
  const tracked = !!a.snapshot.traceTree && a.snapshot.traceTree.count > 0;
  if (c.kind === 'collection')
    return "no line in the owner's file adds to this collection by its name (it may be filled through another name or a library call)";
  if (!tracked)
    return "allocation tracking was off and no expression in the program's files makes this class: run again with --track-allocations (or Start Allocation Tracking) to record allocation stacks";
  return "allocation tracking was on, but V8 recorded no stack in the program's files for these objects (made by Node or V8 internals, or before tracking started) and no expression in the program's files makes this class";
}

/**
 * Where a collection's current backing store (hash table, elements or properties) was allocated, with allocation
 * tracking: the innermost frame with a file. A store is reallocated as the collection grows, inside the function
 * that adds to it, so that frame is where entries are added.
 */
export function backingStoreFrame(
  a: HeapAnalysis,
  resolver: SourceResolver,
  collection: number,
): RuntimeLocation | undefined {
  const stacks = allocationStacks(a, resolver);
  if (!stacks) return undefined;
  const s = a.snapshot;
  for (let e = s.firstEdge[collection]; e < s.firstEdge[collection + 1]; e++) {
    // V8's links to the store are internal edges; a property of the same name is the program's own.
    if (s.edgeType[e] !== s.types.edgeInternal || !s.edgeHasStringName(e)) continue;
    if (!['table', 'elements', 'properties'].includes(s.edgeNameText(e))) continue;
    const t = stacks.traceNode(s.edgeTo[e]);
    for (let u = t ?? -1; u >= 0; u = stacks.parent(u)) {
      const frame = stacks.frameOf(u);
      if (frame) return frame.runtime;
    }
  }
  return undefined;
}

/** The calls that make each kind of resource: the creating line inside the application function that ran one. */
const CREATING_CALLS: Record<ResourceKind, string[]> = {
  'pending-promise': [],
  socket: ['connect', 'createConnection', 'Socket', 'request', 'get', 'createSocket'],
  server: ['createServer', 'listen', 'Server'],
  timer: ['setInterval', 'setTimeout'],
  'file-handle': ['open'],
  'child-process': ['spawn', 'fork', 'exec', 'execFile'],
  handle: ['watch', 'watchFile'],
  'vm-context': ['createContext', 'runInNewContext', 'Context'],
};

/** Calls that surely make each kind, looked for in the program's files when no allocation stack names one. */
const SOURCE_CALLS: Record<ResourceKind, string[]> = {
  'pending-promise': [],
  socket: ['connect', 'createConnection'],
  server: ['createServer'],
  timer: [],
  'file-handle': ['open'],
  'child-process': ['spawn', 'fork', 'execFile'],
  handle: ['watch', 'watchFile'],
  'vm-context': ['createContext'],
};

/** A function that waits on promises (or whose own promise they are), where it is written. */
interface Waiter {
  function: string;
  runtime: RuntimeLocation;
}

/**
 * What waits on a group's pending promises: the callback of their reaction (`.then(fn)`), or for an `await` the async
 * function suspended there (the await's closures share a context whose extension is the async function's Generator).
 * A promise with nothing waiting that a suspended Generator holds is that async function's own promise. The most
 * common answer among a sample of the group.
 */
function promiseWaiters(
  a: HeapAnalysis,
  scripts: ScriptIndex,
  members: ResourceNode[],
): { waiter?: Waiter; own?: Waiter } {
  const s = a.snapshot;
  const generatorFunction = (gen: number): Waiter | undefined => {
    const fn = edgeTo(a, gen, 'function');
    const loc = fn >= 0 ? scripts.nodeLocation(fn) : undefined;
    return loc ? { function: s.name(fn) || '(anonymous)', runtime: loc } : undefined;
  };
  const waiters = new Map<string, { w: Waiter; n: number }>();
  const owns = new Map<string, { w: Waiter; n: number }>();
  const tally = (map: typeof waiters, w: Waiter | undefined) => {
    if (!w) return;
    const key = `${w.runtime.file}:${w.runtime.line}:${w.runtime.column}`;
    const e = map.get(key);
    if (e) e.n++;
    else map.set(key, { w, n: 1 });
  };
  for (const m of members.slice(0, 200)) {
    const reaction = edgeTo(a, m.node, 'reactions_or_result');
    if (reaction >= 0) {
      let found: Waiter | undefined;
      for (let e = s.firstEdge[reaction]; e < s.firstEdge[reaction + 1] && !found; e++) {
        const to = s.edgeTo[e];
        if (s.nodeType[to] !== s.types.closure) continue;
        const loc = scripts.nodeLocation(to);
        if (loc) found = { function: s.name(to) || '(anonymous)', runtime: loc };
        else {
          const context = edgeTo(a, to, 'context');
          const gen = context >= 0 ? edgeTo(a, context, 'extension') : -1;
          if (gen >= 0) found = generatorFunction(gen);
        }
      }
      tally(waiters, found);
    }
    for (let r = s.firstRetainer[m.node]; r < s.firstRetainer[m.node + 1]; r++) {
      const from = s.retainerNode[r];
      if (s.edgeType[s.retainerEdge[r]] === s.types.edgeHidden && s.name(from) === 'Generator')
        tally(owns, generatorFunction(from));
    }
  }
  const best = (map: typeof waiters) => [...map.values()].sort((x, y) => y.n - x.n)[0]?.w;
  return { waiter: best(waiters), own: best(owns) };
}

/** What waits on a group's pending promises (`promiseWaiters`), with its location in the source. */
export function promiseWaiter(
  a: HeapAnalysis,
  scripts: ScriptIndex,
  resolver: SourceResolver,
  members: ResourceNode[],
): ResourceGroup['awaitedBy'] {
  const w = promiseWaiters(a, scripts, members).waiter;
  return w ? { function: w.function, location: resolver.resolve(w.runtime) } : undefined;
}

/**
 * For derived promises: the `.then(`/`.catch(`/`.finally(` call that made them, found around the callback of the
 * reaction that holds them (the most common among a sample), or undefined when they are not derived.
 */
function derivedCall(
  a: HeapAnalysis,
  scripts: ScriptIndex,
  resolver: SourceResolver,
  members: ResourceNode[],
): AllocationSite | undefined {
  const s = a.snapshot;
  const calls = new Map<string, AllocationSite>();
  let derived = 0;
  const sample = members.slice(0, 100);
  for (const m of sample) {
    for (let r = s.firstRetainer[m.node]; r < s.firstRetainer[m.node + 1]; r++) {
      const reaction = s.retainerNode[r];
      if (s.name(reaction) !== 'system / PromiseReaction') continue;
      derived++;
      for (let e = s.firstEdge[reaction]; e < s.firstEdge[reaction + 1]; e++) {
        const fn = s.edgeTo[e];
        if (s.nodeType[fn] !== s.types.closure) continue;
        const loc = scripts.nodeLocation(fn);
        const call = loc ? resolver.findEnclosingCall(loc, /^(then|catch|finally)$/) : undefined;
        if (!call) continue;
        const key = `${call.file}:${call.line}:${call.column}`;
        const site = calls.get(key);
        if (site) site.count++;
        else calls.set(key, { function: s.name(fn) || '(anonymous)', location: call, count: 1, fromSource: true });
        break;
      }
      break;
    }
  }
  if (derived < sample.length / 2) return undefined;
  return [...calls.values()].sort((x, y) => y.count - x.count)[0];
}

/** True for a promise that `.then(`/`.catch(`/`.finally(` derived from another: a reaction of that one holds it. */
function isDerivedPromise(a: HeapAnalysis, promise: number): boolean {
  const s = a.snapshot;
  for (let r = s.firstRetainer[promise]; r < s.firstRetainer[promise + 1]; r++)
    if (s.name(s.retainerNode[r]) === 'system / PromiseReaction') return true;
  return false;
}

/**
 * Where V8's allocation stack says one resource was made: the innermost application frame, and in it the line that
 * makes the kind (`exact`), else that frame's function. A derived promise is made by the `.then(`/`.catch(`/`.finally(`
 * of its frame; another promise by a `new Promise(` there or in a function inlined into it. Undefined without a stack.
 */
function memberSite(
  a: HeapAnalysis,
  resolver: SourceResolver,
  stacks: AllocationStacks,
  kind: ResourceKind,
  m: ResourceNode,
): { key: string; site: AllocationSite & { exact: boolean } } | undefined {
  const refine = (runtime: RuntimeLocation): SourceLocation | undefined => {
    if (kind === 'pending-promise') {
      const derived = () =>
        resolver.findCall(runtime, 'then') ??
        resolver.findCall(runtime, 'catch') ??
        resolver.findCall(runtime, 'finally');
      return isDerivedPromise(a, m.node) ? derived() : resolver.findAllocationExpression(runtime, 'Promise');
    }
    for (const callee of CREATING_CALLS[kind]) {
      const at = resolver.findCall(runtime, callee);
      if (at) return at;
    }
    return undefined;
  };
  const candidates = kind === 'pending-promise' || kind === 'timer' ? [m.node] : [m.owner, m.node];
  for (const n of candidates) {
    const t = stacks.traceNode(n);
    if (t === undefined) continue;
    const frames: Frame[] = [];
    for (let u = t; u >= 0 && frames.length < 12; u = stacks.parent(u)) {
      const f = stacks.frameOf(u);
      if (f) frames.push(f);
    }
    // The innermost of the first few frames that makes the kind (an inlined callee's caller is recorded), else the
    // innermost application frame as V8 saw it.
    let frame = frames.find((f) => !f.library) ?? frames[0];
    if (!frame) continue;
    let exact: SourceLocation | undefined;
    for (let i = 0; i < Math.min(frames.length, 4) && !exact; i++) {
      exact = refine(frames[i].runtime);
      if (exact) frame = frames[i];
    }
    const location = exact ?? resolver.resolve(frame.runtime);
    return {
      key: `${frame.fn}|${location?.file}:${location?.line}`,
      site: { function: frame.fn, location, count: 1, exact: !!exact },
    };
  }
  return undefined;
}

/** The one expression on the line `at` (in its file) that makes a resource of this kind, if there is exactly one. */
function creatingCallOn(
  resolver: SourceResolver,
  kind: ResourceKind,
  at: SourceLocation,
): { function: string; location: SourceLocation } | undefined {
  const found =
    kind === 'pending-promise'
      ? resolver.findAllocationsIn([at.file], 'Promise', 256)
      : resolver.findCallsIn([at.file], CREATING_CALLS[kind], 256);
  const here = found.filter((f) => f.location.file === at.file && f.location.line === at.line);
  return here.length === 1 ? here[0] : undefined;
}

/**
 * The call, in the program's files, that a listener of `object` (one of `events`, in its `_events`) was passed to:
 * its line and the function it is in. A listener is a function, or a list of them.
 */
function listenerCall(
  a: HeapAnalysis,
  scripts: ScriptIndex,
  resolver: SourceResolver,
  object: number,
  events: string[],
  callee: RegExp,
): { function: string; location: SourceLocation } | undefined {
  const s = a.snapshot;
  const listeners = edgeTo(a, object, '_events');
  if (listeners < 0) return undefined;
  const closures = (n: number, depth: number): number[] => {
    if (s.nodeType[n] === s.types.closure) return [n];
    if (depth === 0) return [];
    const out: number[] = [];
    for (let e = s.firstEdge[n]; e < s.firstEdge[n + 1] && out.length < 4; e++) {
      const t = s.edgeType[e];
      if (t === s.types.edgeElement || (t === s.types.edgeInternal && s.edgeNameText(e) === 'elements'))
        out.push(...closures(s.edgeTo[e], depth - 1));
    }
    return out;
  };
  for (const event of events) {
    const value = edgeTo(a, listeners, event);
    if (value < 0) continue;
    for (const fn of closures(value, 2)) {
      const loc = scripts.nodeLocation(fn);
      if (!loc || LIBRARY_PATH.test(loc.file)) continue;
      const call = resolver.findEnclosingCall(loc, callee);
      if (call) return { function: resolver.enclosingFunctionName(loc) || '(anonymous)', location: call };
    }
  }
  return undefined;
}

/**
 * The `setInterval(`/`setTimeout(` written around a timer's callback (`call`), with the function that sets it as a
 * stack would name it; without such a call, the callback itself. Undefined when the callback has no source location.
 */
function timerCallAroundCallback(
  a: HeapAnalysis,
  scripts: ScriptIndex,
  resolver: SourceResolver,
  m: ResourceNode,
): { site: AllocationSite; call: boolean } | undefined {
  const s = a.snapshot;
  const callback = edgeTo(a, m.node, '_onTimeout');
  const loc = callback >= 0 ? scripts.nodeLocation(callback) : undefined;
  if (!loc) return undefined;
  const call = resolver.findOwnerDeclaration(loc.file, 'timer', s.name(callback), undefined, loc);
  return {
    call: !!call,
    site: {
      function: (call && resolver.enclosingFunctionName(loc)) || s.name(callback) || '(anonymous)',
      location: call ?? resolver.resolve(loc),
      count: 0,
      fromSource: true,
    },
  };
}

/**
 * The line that creates a group's resources, from the surest evidence down: an async function's own promise is made
 * where the function starts; the one call that makes the kind on the line that adds them to their holder; an
 * allocation stack whose innermost application frames hold the `new Promise(` or the call that makes the kind
 * (`net.connect(`, `setInterval(`, `vm.createContext(`), the most common answer winning; for promises, the `.then(`
 * of a derived one, the `new Promise(` whose executor stores their resolving function in the holder, or the `new Promise(`
 * in the function that awaits them; for timers, the `setInterval(` around their
 * callback; for servers, the `createServer(` around their listener; then a frame most of the group shares; last, the one call of the kind in the program's files.
 */
export function creatingSite(
  a: HeapAnalysis,
  scripts: ScriptIndex,
  resolver: SourceResolver,
  kind: ResourceKind,
  members: ResourceNode[],
  addedAt?: SourceLocation,
  addsMember = true,
): { site?: AllocationSite; note?: string } {
  const stacks = allocationStacks(a, resolver);
  // An async function's own promise is made as it starts: its creating line is the function's.
  const waiters = kind === 'pending-promise' ? promiseWaiters(a, scripts, members) : undefined;
  if (waiters?.own)
    return {
      site: {
        function: waiters.own.function,
        location: resolver.resolve(waiters.own.runtime),
        count: 0,
        fromSource: true,
      },
    };
  // The one call that makes the kind on the line that adds them to their holder (`pending.set(id, new Promise(...))`,
  // `intervals.push(setInterval(...))`): what is added is what that call made. This comes before the stacks: V8's
  // tracker can give an object the stale stack of one that lived at its address before (it depends on when the
  // optimiser ran), and the source says it the same way every run.
  // A timer whose callback is written inside its `setInterval(`/`setTimeout(` call is made by that call, which the
  // source names surely; a list that gets several kinds of timer (`jobs.push(setInterval(...))`, then
  // `jobs.push(setTimeout(...))` on the next line) has more than one line that adds to it.
  const aroundCallback = kind === 'timer' ? timerCallAroundCallback(a, scripts, resolver, members[0]) : undefined;
  if (aroundCallback?.call) return { site: aroundCallback.site };
  const onAddLine = addedAt && addsMember ? creatingCallOn(resolver, kind, addedAt) : undefined;
  if (onAddLine) return { site: { ...onAddLine, count: 0, fromSource: true } };
  // A socket a server accepted is made by Node when a client connects, where no application frame runs (its stack, if
  // any, is stale): it is made by the server, at the `createServer(` around the server's listener.
  const server = kind === 'socket' ? acceptingServer(a, members[0].owner) : -1;
  if (server >= 0) {
    const at = listenerCall(a, scripts, resolver, server, ['connection', 'request'], /^(createServer|Server)$/);
    return at
      ? { site: { ...at, count: 0, fromSource: true }, note: 'connections accepted by this server' }
      : { note: "connections accepted by a server whose `createServer(` is not in the program's files" };
  }
  // From the stacks: a frame with the call that makes the kind wins at once. A frame without one is only a guess: V8's
  // tracker can leave a stale stack on objects made where no JavaScript ran (after an await, in Node's C++), so it
  // counts only when most of the group has it, and only after what the source says for sure of promises and timers.
  let guess: AllocationSite | undefined;
  if (stacks) {
    const sites = new Map<string, AllocationSite & { exact: boolean }>();
    const sampled = Math.min(members.length, 200);
    for (const m of members.slice(0, 200)) {
      const found = memberSite(a, resolver, stacks, kind, m);
      if (!found) continue;
      const site = sites.get(found.key);
      if (site) site.count++;
      else sites.set(found.key, { ...found.site, count: 1 });
    }
    const ranked = [...sites.values()].sort((x, y) => y.count - x.count);
    const exact = ranked.find((x) => x.exact);
    const likely = ranked.find((x) => !x.exact && x.count >= sampled / 2);
    const strip = ({ exact: _exact, ...site }: AllocationSite & { exact: boolean }): AllocationSite => site;
    if (exact) return { site: strip(exact) };
    if (likely) guess = strip(likely);
  }
  if (kind === 'pending-promise') {
    // A derived promise is made by the `.then(`/`.catch(` whose callback its parent's reaction holds.
    const derivedAt = derivedCall(a, scripts, resolver, members);
    if (derivedAt) return { site: derivedAt };
    // The line that stores a promise's resolving function (`pending.set(id, { resolve, reject })`,
    // `owed.push(resolve)`) runs in the executor of the `new Promise(` that made it.
    const executorOf = addedAt ? resolver.findEnclosingCall(addedAt, /^Promise$/, true) : undefined;
    if (executorOf)
      return {
        site: {
          function: resolver.enclosingFunctionName(addedAt!) ?? '(anonymous)',
          location: executorOf,
          count: 0,
          fromSource: true,
        },
      };
    const w = waiters?.waiter;
    const exact = w ? resolver.findAllocationExpression(w.runtime, 'Promise') : undefined;
    if (w && exact) return { site: { function: w.function, location: exact, count: 0, fromSource: true } };
    if (guess) return { site: guess };
    // The one `new Promise(` of the program's files, when there is only one.
    const found = resolver.findAllocationsIn(
      scripts.files().filter((f) => !LIBRARY_PATH.test(f)),
      'Promise',
      2,
    );
    if (found.length === 1)
      return { site: { function: found[0].function, location: found[0].location, count: 0, fromSource: true } };
    if (w)
      return {
        site: { function: w.function, location: resolver.resolve(w.runtime), count: 0, fromSource: true },
        note: 'the function that awaits them: no allocation stack or unique `new Promise(` names the line that creates them',
      };
  }
  // The timer's callback, where no `setInterval(` is written around it (a function passed by name).
  if (aroundCallback && !guess) return { site: aroundCallback.site };
  if (kind === 'server') {
    // The `createServer(` around the listener the server was made with (`net.createServer((socket) => ...)`).
    const at = listenerCall(
      a,
      scripts,
      resolver,
      members[0].owner,
      ['request', 'connection'],
      /^(createServer|Server)$/,
    );
    if (at) return { site: { ...at, count: 0, fromSource: true } };
  }
  if (guess) return { site: guess };
  // The one call in the program's files that makes this kind (`spawn(`, `net.connect(`), when there is only one.
  const calls = SOURCE_CALLS[kind];
  if (calls.length) {
    const found = resolver.findCallsIn(
      scripts.files().filter((f) => !LIBRARY_PATH.test(f)),
      calls,
      2,
    );
    if (found.length === 1)
      return { site: { function: found[0].function, location: found[0].location, count: 0, fromSource: true } };
  }
  return {
    note: stacks
      ? "V8 recorded no allocation stack in the program's files for them"
      : 'allocation tracking was off: run again with --track-allocations to record the line that creates them',
  };
}
