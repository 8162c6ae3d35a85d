/**
 * Class names as Chrome DevTools' Summary view shows them, and the class of every node.
 *  - object / native: the constructor name (an HTML-like `<tag attr>` name is cut to `<tag>`);
 *  - plain `Object`s: named after their property set (`{a, b}`) when that shape is common enough;
 *  - closures: `Function`; regexps: `RegExp`; hidden: `(system)`; code: `(compiled code)`;
 *  - every other type: `(type)`, such as `(string)` or `(array)`.
 * Objects whose constructor location is known are told apart by it, so two classes with one name stay two rows.
 * Time O(nodes + edges of plain objects).
 */
import { HeapSnapshot } from './snapshot';

/** One row of the class table. */
export interface ClassInfo {
  name: string;
  /** Position of the constructor, when the snapshot's `locations` names one: script id and 0-based line/column. */
  scriptId: number;
  line: number;
  column: number;
}

export interface ClassIndex {
  classes: ClassInfo[];
  /** Class of each node, an index into `classes`. */
  nodeClass: Uint32Array;
}

const MAX_INTERFACE_NAME = 120;

/** The constructor's location per node, found by binary search over `locations` (sorted by node index). */
export class LocationIndex {
  /** Node index of each entry, ascending. */
  readonly nodesByEntry: Uint32Array;
  private readonly stride: number;
  private readonly scriptOff: number;
  private readonly lineOff: number;
  private readonly colOff: number;
  private readonly objOff: number;

  constructor(private readonly s: HeapSnapshot) {
    const fields = s.header.meta.location_fields ?? ['object_index', 'script_id', 'line', 'column'];
    this.stride = fields.length;
    this.objOff = Math.max(0, fields.indexOf('object_index'));
    this.scriptOff = fields.indexOf('script_id');
    this.lineOff = fields.indexOf('line');
    this.colOff = fields.indexOf('column');
    const count = Math.floor(s.locations.length / this.stride);
    const nodes = new Uint32Array(count);
    let sorted = true;
    for (let i = 0; i < count; i++) {
      nodes[i] = s.locations[i * this.stride + this.objOff];
      if (i > 0 && nodes[i] < nodes[i - 1]) sorted = false;
    }
    if (!sorted) {
      // V8 writes locations in node order; sort a copy if a producer did not.
      const idx = sortedOrder(nodes);
      const loc = new Uint32Array(s.locations.length);
      idx.forEach((from, to) =>
        loc.set(s.locations.subarray(from * this.stride, from * this.stride + this.stride), to * this.stride),
      );
      (s as { locations: Uint32Array }).locations = loc;
      idx.forEach((from, to) => (nodes[to] = loc[to * this.stride + this.objOff]));
    }
    this.nodesByEntry = nodes;
  }

  /** Entry index for `node`, or -1. */
  find(node: number): number {
    const nodes = this.nodesByEntry;
    let lo = 0;
    let hi = nodes.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = nodes[mid];
      if (v === node) return mid;
      if (v < node) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  scriptId(entry: number): number {
    return this.s.locations[entry * this.stride + this.scriptOff];
  }
  line(entry: number): number {
    return this.s.locations[entry * this.stride + this.lineOff];
  }
  column(entry: number): number {
    return this.s.locations[entry * this.stride + this.colOff];
  }
}

/**
 * Entry indices ordered by node, entries of one node in their original order (what a stable sort by node gives). A
 * native sort of `node * count + entry` keys does it without a comparator call per step, while the keys stay exact.
 */
function sortedOrder(nodes: Uint32Array): number[] {
  const count = nodes.length;
  let max = 0;
  for (let i = 0; i < count; i++) if (nodes[i] > max) max = nodes[i];
  if ((max + 1) * count > Number.MAX_SAFE_INTEGER)
    return Array.from({ length: count }, (_, i) => i).sort((a, b) => nodes[a] - nodes[b]);
  const keys = new Float64Array(count);
  for (let i = 0; i < count; i++) keys[i] = nodes[i] * count + i;
  keys.sort();
  const order = new Array<number>(count);
  for (let i = 0; i < count; i++) order[i] = keys[i] % count;
  return order;
}

/** The DevTools class name of a node, without the plain-object shape naming. */
export function baseClassName(s: HeapSnapshot, node: number): string {
  const t = s.nodeType[node];
  const ty = s.types;
  if (t === ty.object || t === ty.native) {
    const name = s.name(node);
    if (name.startsWith('<')) {
      const space = name.indexOf(' ');
      return space > 0 ? name.slice(0, space) + '>' : name;
    }
    return name;
  }
  if (t === ty.hidden) return '(system)';
  if (t === ty.code) return '(compiled code)';
  if (t === ty.closure) return 'Function';
  if (t === ty.regexp) return 'RegExp';
  return `(${s.typeName(node)})`;
}

function quoteProperty(name: string): string {
  return /[,'"{}]/.test(name) ? JSON.stringify(name) : name;
}

/** The property names of a plain object, in edge order, without `__proto__`. */
function propertyNames(s: HeapSnapshot, node: number): string[] {
  const names: string[] = [];
  const prop = s.types.edgeProperty;
  for (let e = s.firstEdge[node]; e < s.firstEdge[node + 1]; e++) {
    if (s.edgeType[e] !== prop) continue;
    const name = s.strings.get(s.edgeName[e]);
    if (name !== '__proto__') names.push(name);
  }
  return names;
}

/** Builds the `{a, b}` interface definitions from the plain objects of one snapshot, most common first. */
export function inferInterfaces(s: HeapSnapshot): string[][] {
  const objectName = s.types.object;
  const counts = new Map<string, { count: number; props: string[] }>();
  let plain = 0;
  for (let node = 0; node < s.nodeCount; node++) {
    if (s.nodeType[node] !== objectName || s.strings.rawLength(s.nodeName[node]) !== 6 || s.name(node) !== 'Object')
      continue;
    plain++;
    const props = propertyNames(s, node);
    if (props.length === 0) continue;
    // Same length rule as DevTools: stop before a property that would make the name longer than the limit.
    let name = '{';
    const used: string[] = [];
    for (const prop of props) {
      const formatted = quoteProperty(prop);
      if (name.length > 1 && name.length + formatted.length > MAX_INTERFACE_NAME) break;
      if (name.length !== 1) name += ', ';
      name += formatted;
      used.push(prop);
    }
    name += '}';
    const entry = counts.get(name);
    if (entry) entry.count++;
    else counts.set(name, { count: 1, props: used });
  }
  const min = Math.max(2, plain / 1000);
  return [...counts.values()]
    .filter((c) => c.count >= min)
    .sort((a, b) => b.count - a.count)
    .map((c) => c.props);
}

/** Chooses, for one plain object, the largest definition whose properties it all has; null when none fits. */
function matchInterface(props: Set<string>, definitions: string[][]): string[] | null {
  let best: string[] | null = null;
  for (const def of definitions) {
    if (best && def.length <= best.length) continue;
    if (def.every((p) => props.has(p))) best = def;
  }
  return best;
}

/**
 * Assigns a class to every node. `interfaces` defaults to those inferred from this snapshot; pass another snapshot's
 * definitions to classify a baseline the same way as the snapshot it is compared with.
 */
export function classifyNodes(s: HeapSnapshot, locations: LocationIndex, interfaces = inferInterfaces(s)): ClassIndex {
  const classes: ClassInfo[] = [];
  const keyToClass = new Map<string, number>();
  const nodeClass = new Uint32Array(s.nodeCount);
  const objectType = s.types.object;
  const interfaceNames = interfaces.map((d) => '{' + d.map(quoteProperty).join(', ') + '}');
  const classFor = (name: string, scriptId: number, line: number, column: number) => {
    const key = scriptId >= 0 ? `${scriptId},${line},${column},${name}` : ',' + name;
    let c = keyToClass.get(key);
    if (c === undefined) {
      c = classes.length;
      classes.push({ name, scriptId, line, column });
      keyToClass.set(key, c);
    }
    return c;
  };
  // Most nodes have no location: their class depends on the type alone, or for objects and native objects on the
  // name, so look those up in arrays indexed by type and by name string.
  const byType = new Int32Array(64).fill(-1);
  const byObjectName = new Int32Array(s.strings.length).fill(-1);
  const byNativeName = new Int32Array(s.strings.length).fill(-1);
  const nativeType = s.types.native;
  // Plain objects with one property set get one interface: cache by an order-independent hash of the property names
  // (string indices are unique per text). A hidden class would not do: dictionary-mode objects share theirs.
  const bySet = new Map<string, number>();
  const property = s.types.edgeProperty;
  // The hash of the last setKey(), and a direct-mapped memo of bySet in front of the Map, so that the common case (a
  // property set seen before) builds no key string. A hit holds exactly what bySet holds for that key.
  let hash1 = 0;
  let hash2 = 0;
  let hashCount = 0;
  const setKey = (node: number) => {
    let h1 = 0;
    let h2 = 0;
    let count = 0;
    for (let e = s.firstEdge[node]; e < s.firstEdge[node + 1]; e++) {
      if (s.edgeType[e] !== property) continue;
      const x = s.edgeName[e];
      h1 = (h1 + Math.imul(x ^ 0x9e3779b9, 0x85ebca6b)) | 0;
      h2 = (h2 ^ Math.imul(x + 0x7f4a7c15, 0xc2b2ae35)) | 0;
      count++;
    }
    hash1 = h1;
    hash2 = h2;
    hashCount = count;
  };
  const MEMO = 1024;
  const setMemo = {
    h1: new Int32Array(MEMO),
    h2: new Int32Array(MEMO),
    count: new Int32Array(MEMO).fill(-1),
    cls: new Uint32Array(MEMO),
  };
  const setSlot = () => (hash1 ^ Math.imul(hash2, 0x27d4eb2d) ^ hashCount) & (MEMO - 1);
  // Objects with a constructor location: their class follows from (name string, script, line, column), so the same
  // kind of memo keyed by those numbers saves building the class key and the name for each one.
  const locMemo = {
    name: new Float64Array(MEMO).fill(-1),
    script: new Float64Array(MEMO),
    line: new Float64Array(MEMO),
    column: new Float64Array(MEMO),
    cls: new Uint32Array(MEMO),
  };
  let objectName = -1;
  for (let i = 0; i < s.strings.length && objectName < 0; i++)
    if (s.strings.rawLength(i) === 6 && s.strings.startsWith(i, 'Object')) objectName = i;
  const locNodes = locations.nodesByEntry;
  let cursor = 0;
  for (let node = 0; node < s.nodeCount; node++) {
    const type = s.nodeType[node];
    // Locations are sorted by node: advance a cursor instead of searching.
    while (cursor < locNodes.length && locNodes[cursor] < node) cursor++;
    const loc = cursor < locNodes.length && locNodes[cursor] === node ? cursor : -1;
    if (type === objectType) {
      let name: string | undefined;
      let c: number | undefined;
      if (s.nodeName[node] === objectName && interfaces.length) {
        let key = '';
        let slot = -1;
        if (loc < 0) {
          setKey(node);
          slot = setSlot();
          if (setMemo.count[slot] === hashCount && setMemo.h1[slot] === hash1 && setMemo.h2[slot] === hash2) {
            nodeClass[node] = setMemo.cls[slot];
            continue;
          }
          key = `${hashCount}:${hash1}:${hash2}`;
        }
        const cached = loc < 0 ? bySet.get(key) : undefined;
        if (cached === undefined) {
          const def = matchInterface(new Set(propertyNames(s, node)), interfaces);
          name = def ? interfaceNames[interfaces.indexOf(def)] : 'Object';
        }
        if (loc < 0) {
          c = cached ?? classFor(name!, -1, 0, 0);
          if (cached === undefined) bySet.set(key, c);
          setMemo.count[slot] = hashCount;
          setMemo.h1[slot] = hash1;
          setMemo.h2[slot] = hash2;
          setMemo.cls[slot] = c;
          nodeClass[node] = c;
          continue;
        }
      }
      if (loc >= 0) {
        const script = locations.scriptId(loc),
          line = locations.line(loc),
          column = locations.column(loc);
        if (name !== undefined) {
          nodeClass[node] = classFor(name, script, line, column);
          continue;
        }
        const nameIndex = s.nodeName[node];
        const slot =
          (nameIndex ^ Math.imul(script, 0x9e3779b1) ^ Math.imul(line, 0x85ebca6b) ^ Math.imul(column, 0xc2b2ae35)) &
          (MEMO - 1);
        if (
          locMemo.name[slot] === nameIndex &&
          locMemo.script[slot] === script &&
          locMemo.line[slot] === line &&
          locMemo.column[slot] === column
        ) {
          nodeClass[node] = locMemo.cls[slot];
          continue;
        }
        c = classFor(baseClassName(s, node), script, line, column);
        locMemo.name[slot] = nameIndex;
        locMemo.script[slot] = script;
        locMemo.line[slot] = line;
        locMemo.column[slot] = column;
        locMemo.cls[slot] = c;
        nodeClass[node] = c;
        continue;
      }
      if (name !== undefined) {
        nodeClass[node] = classFor(name, -1, 0, 0);
        continue;
      }
    }
    const table = type === objectType ? byObjectName : type === nativeType ? byNativeName : byType;
    const slot = table === byType ? type : s.nodeName[node];
    let c = table[slot];
    if (c < 0) {
      c = classFor(baseClassName(s, node), -1, 0, 0);
      table[slot] = c;
    }
    nodeClass[node] = c;
  }
  return { classes, nodeClass };
}
