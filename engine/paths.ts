/**
 * Retainer paths and owners.
 *
 * A retainer path runs from a GC root to an object along the shortest route (by DevTools distance), never over weak
 * edges, and among equally short routes prefers edges a person wrote (properties, variables, elements) over internal
 * ones. The owner is the nearest step on that path that a person wrote and would recognise: a module or closure
 * variable, a static class property, an instance property, an emitter's listener list, or the timer list; collection
 * internals (array stores, Map/Set tables) between it and the object are looked through, and so are the keys of a
 * plain object used as a map (many properties, or several keys holding alike things) and the field of an anonymous
 * entry in a collection (`{ resolve, reject }` in a Map): the collection's holder owns what its entries hold.
 * Time per path O(length x retainers per step).
 */
import { HeapAnalysis } from './analysis';
import { NO_DISTANCE } from './distances';
import { TIMER_LIST_LINKS } from './resources';
import type { OwnerKind } from '../protocol/report';

/** One step of a retainer path: the edge from the previous node into `node`. */
export interface PathStep {
  node: number;
  /** Edge index into the snapshot, or -1 for the first step (a root). */
  edge: number;
}

/** How an owner holds what it owns. */

/** The holder a person would recognise, found on a retainer path. */
export interface OwnerInfo {
  /** In the words of the code: `_connections`, `TemplateCache.entries`, `bus` listeners for 'config-changed'. */
  name: string;
  kind: OwnerKind;
  /** The variable or property name alone (for finding its declaration in source). */
  identifier: string;
  /** Class or function that holds the property (static/property kinds) or emitter variable (listeners). */
  holder?: string;
  /** Index into the path of the step whose edge is the owner's reference. */
  stepIndex: number;
  /** The node that holds the reference (Context, object, constructor function, emitter). */
  holderNode: number;
  /** For variables: a closure that shares the variable's scope (gives the script and the enclosing function). */
  scopeClosure?: number;
}

const MAX_PATH = 100;

/** Objects with this many named properties are used as maps (keys come from data), not as records. */
const DICTIONARY_PROPERTIES = 32;
const dictionaryCache = new WeakMap<HeapAnalysis, Map<number, boolean>>();

/** The per-snapshot answers of {@link isDictionaryLike}, which {@link markKeyedHolders} also sets. */
function dictionaryAnswers(a: HeapAnalysis): Map<number, boolean> {
  let cache = dictionaryCache.get(a);
  if (!cache) {
    cache = new Map();
    dictionaryCache.set(a, cache);
  }
  return cache;
}

/** The global object: V8 names it `global / ` in a snapshot the inspector takes, `global` in one a program writes. */
function isGlobalObjectName(name: string): boolean {
  return name === 'global' || name.startsWith('global / ');
}

/** True for a plain object used as a map: its property names are data, so a key never names an owner. */
export function isDictionaryLike(a: HeapAnalysis, node: number): boolean {
  const cache = dictionaryAnswers(a);
  const hit = cache.get(node);
  if (hit !== undefined) return hit;
  const result = hasDictionaryShape(a, node);
  cache.set(node, result);
  return result;
}

/**
 * Plain objects that the retainer paths of one group reach through several property names: the members are alike (one
 * `key`, their class or kind) and so is what each name leads to (its class), so those names are data keys
 * (`openAudits[user]`), not a record's fields (a record's fields hold different things). Marks them dictionary-like,
 * so that a key neither names an owner nor splits a group by shape. Class instances are records by definition, and an
 * emitter's `_events` is keyed by event name on purpose: neither is marked. Time O(total path length).
 */
export function markKeyedHolders(a: HeapAnalysis, paths: { path: PathStep[]; key: string }[]): void {
  const s = a.snapshot;
  const ty = s.types;
  const names = new Map<string, { holder: number; names: Set<string> }>();
  for (const { path, key } of paths) {
    for (let i = path.length - 1; i >= 1; i--) {
      const edge = path[i].edge;
      if (s.edgeType[edge] !== ty.edgeProperty) continue;
      const holder = path[i - 1].node;
      if (s.nodeType[holder] !== ty.object || !isPlainObject(a, holder)) continue;
      if (i >= 2 && s.edgeHasStringName(path[i - 1].edge) && s.edgeNameText(path[i - 1].edge) === '_events') continue;
      if (path[i - 1].edge >= 0 && s.edgeType[path[i - 1].edge] === ty.edgeShortcut) continue;
      const name = s.edgeNameText(edge);
      if (INTERNAL_PROPERTY_NAMES.has(name) || name.startsWith('<symbol')) continue;
      const id = `${holder}|${key}|${a.className(path[i].node)}`;
      let e = names.get(id);
      if (!e) names.set(id, (e = { holder, names: new Set() }));
      e.names.add(name);
    }
  }
  const cache = dictionaryAnswers(a);
  for (const e of names.values())
    if (e.names.size >= 2 && !isGlobalObjectName(s.name(e.holder))) cache.set(e.holder, true);
}

/** The test behind {@link isDictionaryLike}, uncached: for passes over every node, where a cache per node would not do. */
export function hasDictionaryShape(a: HeapAnalysis, node: number): boolean {
  const s = a.snapshot;
  if (s.nodeType[node] !== s.types.object) return false;
  let props = 0;
  for (let e = s.firstEdge[node]; e < s.firstEdge[node + 1] && props <= DICTIONARY_PROPERTIES; e++)
    if (s.edgeType[e] === s.types.edgeProperty) props++;
  return props > DICTIONARY_PROPERTIES;
}

/** Edge preference among retainers at equal distance: higher is better. */
function edgeRank(a: HeapAnalysis, edge: number): number {
  const s = a.snapshot;
  const t = s.edgeType[edge];
  const ty = s.types;
  if (t === ty.edgeProperty) return 4;
  if (t === ty.edgeContext) return 4;
  if (t === ty.edgeElement) return 3;
  if (t === ty.edgeInternal) return 1;
  if (t === ty.edgeHidden) return 1;
  return 0;
}

/** Added to the distance of a WeakMap key's link to its value, so a path goes through the WeakMap when it can. */
const EPHEMERON_KEY_DETOUR = 1 << 20;

/**
 * True for the link V8 draws from a WeakMap key to its value (`part of key (Tenant @12) -> value (Array @34) pair in
 * WeakMap (table @56)`, from the key); the same link from the WeakMap's table is not one.
 */
function isEphemeronKeyEdge(a: HeapAnalysis, edge: number, from: number): boolean {
  const s = a.snapshot;
  if (s.edgeType[edge] !== s.types.edgeInternal || !s.edgeHasStringName(edge)) return false;
  const name = s.edgeNameText(edge);
  const at = name.indexOf('part of key (');
  if (at < 0) return false;
  const m = /^part of key \(.* @(\d+)\) -> value \(/.exec(name.slice(at));
  return m !== null && Number(m[1]) === s.nodeId[from];
}

/** The shortest retainer path to `node`, from the root's first step to `node` itself. */
export function retainerPath(a: HeapAnalysis, node: number): PathStep[] {
  const s = a.snapshot;
  const { firstRetainer, retainerEdge, retainerNode } = s;
  const dist = a.distance;
  const weak = s.types.edgeWeak;
  const steps: PathStep[] = [];
  let cur = node;
  const seen = new Set<number>();
  while (cur !== s.rootIndex && steps.length < MAX_PATH) {
    seen.add(cur);
    let best = -1;
    let bestDist = Infinity;
    let bestRank = -1;
    for (let r = firstRetainer[cur]; r < firstRetainer[cur + 1]; r++) {
      const e = retainerEdge[r];
      if (s.edgeType[e] === weak) continue;
      const from = retainerNode[r];
      if (seen.has(from)) continue;
      let d = from === s.rootIndex ? -1 : dist[from] === NO_DISTANCE ? Infinity : dist[from];
      // A WeakMap value is held by its key and by the WeakMap's table together; the table is what a person wrote
      // (`this.byTenant = new WeakMap()`), so the key's side is taken only when there is no other way.
      if (d !== Infinity && isEphemeronKeyEdge(a, e, from)) d += EPHEMERON_KEY_DETOUR;
      const rank = edgeRank(a, e);
      if (d < bestDist || (d === bestDist && rank > bestRank)) {
        best = r;
        bestDist = d;
        bestRank = rank;
      }
    }
    if (best < 0) break;
    steps.push({ node: cur, edge: retainerEdge[best] });
    cur = retainerNode[best];
  }
  steps.push({ node: cur, edge: -1 });
  return steps.reverse();
}

/** True for nodes that are machinery rather than something a person wrote (array stores, system objects, code). */
export function isInternalNode(a: HeapAnalysis, node: number): boolean {
  const s = a.snapshot;
  const t = s.nodeType[node];
  const ty = s.types;
  if (
    t === ty.hidden ||
    t === ty.array ||
    t === ty.code ||
    t === ty.objectShape ||
    t === ty.synthetic ||
    t === ty.native
  )
    return true;
  if (t === ty.object && s.strings.startsWith(s.nodeName[node], 'system / ')) return true;
  return false;
}

const COLLECTIONS = new Set(['Array', 'Map', 'Set', 'WeakMap', 'WeakSet', 'Object']);
// V8's own `map`, `elements`, `properties` and `table` links are internal edges, never property edges: a property edge
// with one of those names is the program's own (`this.table = {}`, `this.map = new Map()`) and can be the owner.
const INTERNAL_PROPERTY_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Finds the owner on a path: walks from the object toward the root, looking through collection internals, and stops at
 * the first variable or named property. Returns null when the path shows no such holder.
 */
export function findOwner(a: HeapAnalysis, path: PathStep[]): OwnerInfo | null {
  const s = a.snapshot;
  const ty = s.types;
  let entryField: OwnerInfo | undefined;
  for (let i = path.length - 1; i >= 1; i--) {
    const edge = path[i].edge;
    const from = path[i - 1].node;
    const to = path[i].node;
    const et = s.edgeType[edge];
    const edgeName = s.edgeNameText(edge);
    const fromName = s.name(from);
    // A Timeout on a timer list is held by the list: the owner is the timer itself.
    if (
      et === ty.edgeProperty &&
      TIMER_LIST_LINKS.has(edgeName) &&
      (s.name(to) === 'Timeout' || fromName === 'TimersList' || fromName === 'Timeout')
    ) {
      let timeout = to;
      for (let j = i; j < path.length; j++) if (s.name(path[j].node) === 'Timeout') timeout = path[j].node;
      const callback = findEdgeTarget(a, timeout, '_onTimeout');
      const fn = callback >= 0 ? s.name(callback) || '(anonymous)' : '(callback)';
      return {
        name: `timer (${fn === '(anonymous)' ? 'anonymous callback' : fn + '()'}), never cleared`,
        kind: 'timer',
        identifier: fn,
        stepIndex: i,
        holderNode: timeout,
        scopeClosure: callback >= 0 ? callback : undefined,
      };
    }
    if (et === ty.edgeContext) {
      if (s.nodeType[from] !== ty.object) continue;
      const closure = closureOfContext(a, from);
      return {
        name: edgeName,
        kind: 'variable',
        identifier: edgeName,
        stepIndex: i,
        holderNode: from,
        scopeClosure: closure >= 0 ? closure : undefined,
      };
    }
    if (et !== ty.edgeProperty) continue;
    if (INTERNAL_PROPERTY_NAMES.has(edgeName) || edgeName.startsWith('<symbol')) continue;
    // A property of the global object (which has so many properties that it looks like a dictionary).
    if ((path[i - 1].edge >= 0 && s.edgeType[path[i - 1].edge] === ty.edgeShortcut) || isGlobalObjectName(fromName)) {
      return { name: `globalThis.${edgeName}`, kind: 'global', identifier: edgeName, stepIndex: i, holderNode: from };
    }
    if (isInternalNode(a, from)) continue;
    if (isDictionaryLike(a, from)) continue;
    // An emitter's listener list: emitter --_events--> events object --<event name>--> listener(s).
    if (i >= 2 && s.edgeNameText(path[i - 1].edge) === '_events' && path[i - 1].edge >= 0) {
      const emitterOwner = findOwner(a, path.slice(0, i - 1));
      const emitter = emitterOwner ? emitterOwner.name : a.className(path[i - 2].node);
      return {
        name: `${emitter} listeners for '${edgeName}'`,
        kind: 'listeners',
        identifier: emitterOwner ? emitterOwner.identifier : edgeName,
        holder: emitter,
        stepIndex: i,
        holderNode: path[i - 2].node,
        scopeClosure: emitterOwner?.scopeClosure,
      };
    }
    if (edgeName === '_events') continue;
    if (s.nodeType[from] === ty.closure) {
      const holder = s.name(from) || '(anonymous)';
      return {
        name: `${holder}.${edgeName}`,
        kind: 'static-property',
        identifier: edgeName,
        holder,
        stepIndex: i,
        holderNode: from,
        scopeClosure: from,
      };
    }
    // A CommonJS module's exports (`exports.auditTrail = new Map()`, TypeScript's `export const auditTrail`): named
    // as the module's code names it, whichever variable (`journal_1`, a Module's `.exports`) the path came through.
    if (exportingModule(a, from) >= 0)
      return {
        name: `exports.${edgeName}`,
        kind: 'property',
        identifier: edgeName,
        holder: 'exports',
        stepIndex: i,
        holderNode: from,
      };
    const holder = a.className(from);
    if (COLLECTIONS.has(holder) && holder !== 'Object') continue;
    const property: OwnerInfo = {
      name: `${holder}.${edgeName}`,
      kind: 'property',
      identifier: edgeName,
      holder,
      stepIndex: i,
      holderNode: from,
    };
    // An anonymous entry of a collection (`pending.set(id, { resolve, reject, topic })`): its field is how the entry
    // holds the object, the collection is what keeps the entry. The collection's holder owns it, as it owns the
    // entries themselves; the field is the owner only when nothing on the path holds the collection.
    if (isCollectionEntry(a, path, i - 1)) {
      entryField ??= property;
      continue;
    }
    return property;
  }
  return entryField ?? null;
}

/** The CommonJS `Module` whose `exports` object `node` is, or -1. */
export function exportingModule(a: HeapAnalysis, node: number): number {
  const s = a.snapshot;
  if (s.nodeType[node] !== s.types.object) return -1;
  for (let r = s.firstRetainer[node]; r < s.firstRetainer[node + 1]; r++) {
    const e = s.retainerEdge[r];
    if (s.edgeType[e] !== s.types.edgeProperty || s.edgeNameText(e) !== 'exports') continue;
    const from = s.retainerNode[r];
    if (a.className(from) === 'Module' && a.distance[from] !== NO_DISTANCE) return from;
  }
  return -1;
}

/** A plain object (made by `{}` or a literal, not a class): `Object`, or `{a, b}` after its common shape. */
function isPlainObject(a: HeapAnalysis, node: number): boolean {
  const name = a.className(node);
  return name === 'Object' || name.startsWith('{');
}

/**
 * The owner of a path, as {@link findOwner} finds it, but when that owner is the field of an anonymous entry that a
 * collection holds while the path reaches the entry some other way (a timer's callback that captured its own entry),
 * the path through the collection instead: then the collection's holder owns it, whichever way V8's distances went.
 */
export function ownerAndPath(a: HeapAnalysis, path: PathStep[]): { path: PathStep[]; owner: OwnerInfo | null } {
  const owner = findOwner(a, path);
  if (!owner || owner.kind !== 'property' || owner.stepIndex < 1 || !isPlainObject(a, owner.holderNode))
    return { path, owner };
  const s = a.snapshot;
  const ty = s.types;
  const entry = owner.holderNode;
  // An array's element edge (or a dictionary's key) before its backing store's slot, so the path reads as others do.
  const held: { from: number; edge: number; rank: number }[] = [];
  for (let r = s.firstRetainer[entry]; r < s.firstRetainer[entry + 1]; r++) {
    const e = s.retainerEdge[r];
    const from = s.retainerNode[r];
    if (a.distance[from] === NO_DISTANCE || from === s.rootIndex) continue;
    const et = s.edgeType[e];
    if ((et === ty.edgeElement || et === ty.edgeHidden) && s.nodeType[from] === ty.object)
      held.push({ from, edge: e, rank: 2 });
    else if (et === ty.edgeProperty && isDictionaryLike(a, from)) held.push({ from, edge: e, rank: 2 });
    else if (et === ty.edgeInternal && s.nodeType[from] === ty.array) held.push({ from, edge: e, rank: 1 });
  }
  held.sort((x, y) => y.rank - x.rank);
  for (const { from, edge: e } of held.slice(0, 4)) {
    const rerouted = [...retainerPath(a, from), { node: entry, edge: e }, ...path.slice(owner.stepIndex)];
    if (rerouted.length > MAX_PATH) continue;
    const other = findOwner(a, rerouted);
    if (other && other.stepIndex < rerouted.length - (path.length - owner.stepIndex) - 1)
      return { path: rerouted, owner: other };
  }
  return { path, owner };
}

/**
 * True when step `j` of the path is an object literal (a plain object, `Object` or `{a, b}`) reached as an entry of a
 * collection: an array element, a slot of a Map's or Set's table, or a key of an object used as a dictionary.
 */
function isCollectionEntry(a: HeapAnalysis, path: PathStep[], j: number): boolean {
  const s = a.snapshot;
  const ty = s.types;
  if (j < 1 || s.nodeType[path[j].node] !== ty.object || !isPlainObject(a, path[j].node)) return false;
  const edge = path[j].edge;
  const et = s.edgeType[edge];
  const before = path[j - 1].node;
  if (et === ty.edgeElement || et === ty.edgeHidden) return true;
  if (et === ty.edgeInternal) return s.nodeType[before] === ty.array || s.nodeType[before] === ty.hidden;
  return et === ty.edgeProperty && isDictionaryLike(a, before);
}

/** The target of the first property/internal edge of `node` named `name`, or -1. */
export function findEdgeTarget(a: HeapAnalysis, node: number, name: string): number {
  const s = a.snapshot;
  for (let e = s.firstEdge[node]; e < s.firstEdge[node + 1]; e++) {
    if (s.edgeHasStringName(e) && s.strings.get(s.edgeName[e]) === name) return s.edgeTo[e];
  }
  return -1;
}

/** A closure whose context is `context` (or one nested inside it), or -1: it tells which function the scope is. */
export function closureOfContext(a: HeapAnalysis, context: number): number {
  const s = a.snapshot;
  const ty = s.types;
  let fallback = -1;
  for (let r = s.firstRetainer[context]; r < s.firstRetainer[context + 1]; r++) {
    const e = s.retainerEdge[r];
    const from = s.retainerNode[r];
    if (s.nodeType[from] === ty.closure && s.edgeNameText(e) === 'context') return from;
    // A nested scope points at this one through `previous`: use one of its closures.
    if (fallback < 0 && s.edgeNameText(e) === 'previous' && s.nodeType[from] === ty.object) {
      for (let r2 = s.firstRetainer[from]; r2 < s.firstRetainer[from + 1]; r2++) {
        const f2 = s.retainerNode[r2];
        if (s.nodeType[f2] === ty.closure && s.edgeNameText(s.retainerEdge[r2]) === 'context') {
          fallback = f2;
          break;
        }
      }
    }
  }
  return fallback;
}

/** A short, stable description of a path step for grouping: edge name (indices as []) and target class. */
export function stepSignature(a: HeapAnalysis, step: PathStep): string {
  const s = a.snapshot;
  if (step.edge < 0) return a.className(step.node);
  const et = s.edgeType[step.edge];
  const keyed =
    et === s.types.edgeElement ||
    et === s.types.edgeHidden ||
    (et === s.types.edgeProperty && isDictionaryLike(a, s.edgeOwner(step.edge)));
  let name = keyed ? '[]' : normalizeEdgeName(s.edgeNameText(step.edge));
  // A timer list is walked from either end: both directions are the same list.
  if (TIMER_LIST_LINKS.has(name)) name = '_idle';
  return `${s.edgeTypeName(step.edge)}:${name}>${a.className(step.node)}`;
}

function normalizeEdgeName(name: string): string {
  // WeakMap pair names and numbered internals carry ids and indices that differ per entry.
  if (/^\d+$/.test(name)) return '[]';
  return name.replace(/@\d+/g, '@').replace(/^\d+ \/ /, '# / ');
}
