/**
 * From runtime locations to the code a person wrote.
 *  - A runtime file name (absolute path, `file://` URL, or a path from another machine through a path map) becomes a
 *    file on disk.
 *  - A generated position goes through the script's source map (inline `data:` URL, `sourceMappingURL` file, or the
 *    URL the debugger reported) to the original source, such as a `.ts` file.
 *  - An owner's declaration (`const _connections = []`, `static entries = new Map()`, `this.sessions = ...`) and an
 *    allocation's `new X(...)` expression are found by parsing the source with the TypeScript compiler (JS and TS).
 * Files, parses and source maps are cached per resolver. Missing files or maps fall back to what the snapshot knows.
 */
import * as path from 'path';
import { fileURLToPath, pathToFileURL } from 'url';
import type * as TS from 'typescript';
import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';
import { formatBytes } from '../protocol/units';
import { oneLine, readRegularFile } from './safeRead';
import type { RuntimeLocation } from './scripts';
import type { OwnerKind } from '../protocol/report';
import type { SourceLocation } from '../protocol/report';

// The compiler is large: load it on the first source lookup, not with the engine.
let tsModule: typeof TS | undefined;
function tsApi(): typeof TS {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  tsModule ??= require('typescript') as typeof TS;
  return tsModule;
}

/**
 * The most read of one source file or source map. Their paths come from the snapshot or its sidecar (anyone can edit
 * them), and parsing costs many times the file's size, so a larger file, or anything not a regular file (a FIFO, a
 * device, a folder), is skipped with one warning and its locations are shown as the snapshot recorded them.
 */
export const MAX_SOURCE_BYTES = 4 << 20;
export const MAX_SOURCE_MAP_BYTES = 8 << 20;

export interface SourceResolverOptions {
  /** Prefix rewrites for paths from another machine or container: { '/app': '/home/me/project' }. */
  pathMap?: Record<string, string>;
  /** Source map URLs by runtime file name (from the capture sidecar). */
  sourceMapURLs?: Map<string, string>;
  /** Receives one line per thing that could not be resolved (missing file, broken map). */
  warn?: (message: string) => void;
}

interface ParsedFile {
  text: string;
  sf: TS.SourceFile;
}

export class SourceResolver {
  private readonly files = new Map<string, ParsedFile | null>();
  private readonly maps = new Map<string, TraceMap | null>();
  private readonly warned = new Set<string>();

  constructor(private readonly options: SourceResolverOptions = {}) {}

  private warnOnce(text: string): void {
    // File names and error texts come from the snapshot: each warning is one line of bounded length.
    const message = oneLine(text, 400);
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.options.warn?.(message);
  }

  /** The absolute path on disk for a runtime file name, or undefined for internal or non-file scripts. */
  toPath(runtimeFile: string): string | undefined {
    let p = runtimeFile;
    if (!p || p.startsWith('node:') || p.startsWith('internal/') || p.startsWith('evalmachine')) return undefined;
    if (p.startsWith('file://')) {
      try {
        p = fileURLToPath(p);
      } catch {
        return undefined;
      }
    } else if (/^[a-z]+:\/\//i.test(p)) return undefined;
    for (const [from, to] of Object.entries(this.options.pathMap ?? {})) {
      if (p === from || p.startsWith(from.endsWith('/') ? from : from + '/')) {
        p = path.join(to, p.slice(from.length));
        break;
      }
    }
    return path.isAbsolute(p) ? path.normalize(p) : undefined;
  }

  private parse(file: string): ParsedFile | null {
    if (this.files.has(file)) return this.files.get(file)!;
    let result: ParsedFile | null = null;
    const read = readRegularFile(file, MAX_SOURCE_BYTES);
    if (read.ok) {
      const text = read.text;
      const kind = /\.tsx?$|\.mts$|\.cts$/.test(file) ? tsApi().ScriptKind.TS : tsApi().ScriptKind.JS;
      result = { text, sf: tsApi().createSourceFile(file, text, tsApi().ScriptTarget.Latest, true, kind) };
    } else if (read.code === 'ENOENT') {
      this.warnOnce(`source not found: ${file} (locations in it are shown as the snapshot recorded them)`);
    } else {
      this.warnOnce(
        `source ${file} skipped: ${read.reason.startsWith('is ') ? 'it ' : ''}${read.reason} (locations in it are shown as the snapshot recorded them)`,
      );
    }
    this.files.set(file, result);
    return result;
  }

  /** The source map of a generated file, or null when it has none or it cannot be read. */
  private sourceMap(file: string, runtimeFile: string): TraceMap | null {
    if (this.maps.has(file)) return this.maps.get(file)!;
    let map: TraceMap | null = null;
    const parsed = this.parse(file);
    // The debugger names CommonJS scripts by file:// URL, the snapshot by path: accept either.
    const urls = this.options.sourceMapURLs;
    let url = urls?.get(runtimeFile) ?? urls?.get(file) ?? urls?.get(pathToFileURL(file).href);
    if (!url && parsed) {
      const m = /\/\/[#@] sourceMappingURL=(\S+)\s*$/m.exec(parsed.text.slice(-4096));
      if (m) url = m[1];
    }
    if (url) {
      try {
        let raw: string;
        if (url.startsWith('data:')) {
          if (url.length > (MAX_SOURCE_MAP_BYTES * 4) / 3 + 100)
            throw new Error(`the inline map is larger than ${formatBytes(MAX_SOURCE_MAP_BYTES)}`);
          const comma = url.indexOf(',');
          const body = url.slice(comma + 1);
          raw = url.slice(0, comma).endsWith(';base64')
            ? Buffer.from(body, 'base64').toString('utf8')
            : decodeURIComponent(body);
          map = new TraceMap(raw, file);
        } else {
          const mapFile = url.startsWith('file://') ? fileURLToPath(url) : path.resolve(path.dirname(file), url);
          const read = readRegularFile(mapFile, MAX_SOURCE_MAP_BYTES);
          if (!read.ok) throw new Error(`${mapFile}${read.reason.startsWith('is ') ? ' ' : ': '}${read.reason}`);
          map = new TraceMap(read.text, mapFile);
        }
      } catch (e) {
        this.warnOnce(
          `source map of ${file} could not be read (${oneLine((e as Error).message, 160)}); showing the generated file`,
        );
        map = null;
      }
    }
    this.maps.set(file, map);
    return map;
  }

  /** Maps a runtime position (1-based) to the original source where a source map says so. */
  resolve(loc: RuntimeLocation): SourceLocation | undefined {
    const file = this.toPath(loc.file);
    if (!file) return undefined;
    const map = this.sourceMap(file, loc.file);
    if (map) {
      const orig = originalPositionFor(map, { line: loc.line, column: Math.max(0, loc.column - 1) });
      if (orig.source && orig.line != null) {
        const source = orig.source.startsWith('file://') ? fileURLToPath(orig.source) : path.resolve(orig.source);
        return {
          file: source,
          line: orig.line,
          column: (orig.column ?? 0) + 1,
          generated: { file, line: loc.line, column: loc.column },
        };
      }
    }
    return { file, line: loc.line, column: loc.column };
  }

  /**
   * Finds where an owner is declared, in the generated file the runtime ran, then maps it to the original source.
   * `near` is a runtime position inside the scope that holds the variable (a closure of that scope), if known.
   */
  findOwnerDeclaration(
    runtimeFile: string,
    kind: OwnerKind,
    identifier: string,
    holder: string | undefined,
    near?: RuntimeLocation,
  ): SourceLocation | undefined {
    const file = this.toPath(runtimeFile);
    if (!file) return undefined;
    const parsed = this.parse(file);
    if (!parsed) return undefined;
    let node: TS.Node | undefined;
    const nearPos = near ? positionOf(parsed.sf, near.line, near.column) : undefined;
    if (kind === 'variable' || kind === 'listeners' || kind === 'global')
      node = findVariable(parsed.sf, identifier, nearPos);
    if (kind === 'static-property' || kind === 'property')
      node = findProperty(parsed.sf, holder, identifier, kind === 'static-property');
    if (kind === 'global' && !node) node = findProperty(parsed.sf, undefined, identifier, false);
    // `module.exports = { auditTrail }`: the export is the module's variable of that name.
    if (kind === 'property' && holder === 'exports' && !node) node = findVariable(parsed.sf, identifier);
    if (kind === 'timer' && nearPos !== undefined)
      node = enclosingCall(parsed.sf, nearPos, /^(setInterval|setTimeout|setImmediate)$/);
    if (!node) return undefined;
    return this.resolve(this.runtimeLocationOf(runtimeFile, parsed.sf, node));
  }

  /**
   * Refines an allocation frame (the start of the allocating function) to the `new ClassName(...)` expression, or the
   * call that made it, inside that function.
   */
  findAllocation(frame: RuntimeLocation, className: string): SourceLocation | undefined {
    return this.findAllocationExpression(frame, className) ?? this.resolve(frame);
  }

  /** Like findAllocation, but undefined when the function holds no expression that allocates `className`. */
  findAllocationExpression(frame: RuntimeLocation, className: string, inlined = true): SourceLocation | undefined {
    const file = this.toPath(frame.file);
    if (!file) return undefined;
    const parsed = this.parse(file);
    if (!parsed) return undefined;
    const pos = positionOf(parsed.sf, frame.line, frame.column);
    const fn = functionAt(parsed.sf, pos);
    let found = findAllocatingNode(fn ?? parsed.sf, className, !!fn);
    // V8 records the optimised frame: when the allocating function was inlined into its caller, the recorded function
    // holds no allocation of the class but calls one (in this file) that does. That callee is where it happens.
    if (!found && fn && inlined) found = allocationInCallee(parsed.sf, fn, className);
    if (!found) return undefined;
    return this.resolve(this.runtimeLocationOf(frame.file, parsed.sf, found));
  }

  /**
   * The innermost call whose callee's name matches `callee` around a position (the `.then(` a callback is passed to);
   * with `orNew`, a `new X(` counts too (the `new Promise(` whose executor holds the position).
   */
  findEnclosingCall(at: RuntimeLocation, callee: RegExp, orNew = false): SourceLocation | undefined {
    const file = this.toPath(at.file);
    if (!file) return undefined;
    const parsed = this.parse(file);
    if (!parsed) return undefined;
    const node = enclosingCall(parsed.sf, positionOf(parsed.sf, at.line, at.column), callee, orNew);
    return node ? this.resolve(this.runtimeLocationOf(at.file, parsed.sf, node)) : undefined;
  }

  /**
   * The name of the function that the function starting at `fnStart` is written in (`work` for the callback of a
   * `setInterval(` inside `work`), or `(top level)`.
   */
  enclosingFunctionName(fnStart: RuntimeLocation): string | undefined {
    const file = this.toPath(fnStart.file);
    if (!file) return undefined;
    const parsed = this.parse(file);
    if (!parsed) return undefined;
    const inner = functionAt(parsed.sf, positionOf(parsed.sf, fnStart.line, fnStart.column));
    if (!inner) return undefined;
    for (let n = inner.parent; n; n = n.parent) if (tsApi().isFunctionLike(n)) return functionLabel(n) || '(anonymous)';
    return '(top level)';
  }

  /** The call to `callee` inside the function that starts at `frame`: the line where the application calls into a library. */
  findCall(frame: RuntimeLocation, callee: string): SourceLocation | undefined {
    const file = this.toPath(frame.file);
    if (!file) return undefined;
    const parsed = this.parse(file);
    if (!parsed) return undefined;
    const ts = tsApi();
    const fn = functionAt(parsed.sf, positionOf(parsed.sf, frame.line, frame.column));
    let found: TS.Node | undefined;
    const visit = (n: TS.Node): void => {
      if (found || (n !== fn && ts.isFunctionLike(n) && fn)) return;
      if ((ts.isCallExpression(n) || ts.isNewExpression(n)) && lastName(n.expression) === callee) found = n;
      else ts.forEachChild(n, visit);
    };
    ts.forEachChild(fn ?? parsed.sf, visit);
    return found ? this.resolve(this.runtimeLocationOf(frame.file, parsed.sf, found)) : undefined;
  }

  /**
   * Every expression in these files that can make an object of `className` (`new X(`, an object literal with the keys
   * of `{a, b}`), with the name of the function it is in. A cheap text test skips files that cannot contain one.
   */
  findAllocationsIn(
    runtimeFiles: string[],
    className: string,
    limit = 8,
  ): { function: string; location: SourceLocation }[] {
    const bare = className.replace(/\(\)$/, '');
    const literalKeys = /^\{.*\}$/.test(className)
      ? className
          .slice(1, -1)
          .split(',')
          .map((k) => k.trim())
          .filter(Boolean)
      : undefined;
    if (!literalKeys && !/^[A-Za-z_$][\w$]*$/.test(bare)) return [];
    const quick = literalKeys
      ? new RegExp(`\\b${escapeRegExp(literalKeys[0])}\\b`)
      : new RegExp(`new\\s+(?:[\\w$]+\\.)*${escapeRegExp(bare)}\\b|\\b${escapeRegExp(bare)}\\.[\\w$]+\\s*\\(`);
    const ts = tsApi();
    if (literalKeys) {
      // An exact literal first; only when there is none, one with extra keys V8 leaves out of the snapshot.
      const exact = this.matchesIn(
        runtimeFiles,
        quick,
        limit,
        (n) => ts.isObjectLiteralExpression(n) && sameKeys(n, literalKeys),
      );
      if (exact.length) return exact;
      return this.matchesIn(
        runtimeFiles,
        quick,
        limit,
        (n) => ts.isObjectLiteralExpression(n) && keysWithUnboxed(n, literalKeys),
      );
    }
    return this.matchesIn(
      runtimeFiles,
      quick,
      limit,
      (n) =>
        (ts.isNewExpression(n) && lastName(n.expression) === bare) ||
        (ts.isCallExpression(n) &&
          ts.isPropertyAccessExpression(n.expression) &&
          ts.isIdentifier(n.expression.expression) &&
          n.expression.expression.text === bare),
    );
  }

  /**
   * Every call in these files whose callee is named one of `callees` (`net.connect(`, `spawn(`), with the name of the
   * function it is in, up to `limit`. A cheap text test skips files that cannot contain one.
   */
  findCallsIn(runtimeFiles: string[], callees: string[], limit = 8): { function: string; location: SourceLocation }[] {
    const names = new Set(callees);
    const quick = new RegExp(`\\b(?:${callees.map(escapeRegExp).join('|')})\\s*\\(`);
    const ts = tsApi();
    return this.matchesIn(
      runtimeFiles,
      quick,
      limit,
      (n) => ts.isCallExpression(n) && names.has(lastName(n.expression) ?? ''),
    );
  }

  /**
   * The nodes of these files that `hit` accepts, each with its location and the name of the function it is in, up to
   * `limit`; files whose text `quick` does not match are not parsed further.
   */
  private matchesIn(
    runtimeFiles: string[],
    quick: RegExp,
    limit: number,
    hit: (n: TS.Node) => boolean,
  ): { function: string; location: SourceLocation }[] {
    const out: { function: string; location: SourceLocation }[] = [];
    const ts = tsApi();
    // One file loaded as several scripts (re-required, or imported again with a cache-busting query) is read once.
    const seen = new Set<string>();
    for (const runtimeFile of runtimeFiles) {
      const file = this.toPath(runtimeFile);
      if (!file || seen.has(file)) continue;
      seen.add(file);
      const parsed = this.parse(file);
      if (!parsed || !quick.test(parsed.text)) continue;
      const visit = (n: TS.Node): void => {
        if (out.length >= limit) return;
        if (hit(n)) {
          const location = this.resolve(this.runtimeLocationOf(runtimeFile, parsed.sf, n));
          const fn = functionAt(parsed.sf, n.getStart(parsed.sf));
          if (location) out.push({ function: fn ? functionLabel(fn) || '(anonymous)' : '(top level)', location });
        }
        ts.forEachChild(n, visit);
      };
      visit(parsed.sf);
    }
    return out;
  }

  /**
   * Finds the line that adds to a collection named `identifier` (`x.add(`, `x.set(`, `x.push(`, `x.unshift(`,
   * `x[k] = v`, also through `this.x` or `obj.x`). `within`, a runtime position inside a function (an allocation
   * frame), picks the candidate in that function when there are several; otherwise the first in the file wins.
   */
  findCollectionAddition(
    runtimeFile: string,
    identifier: string,
    within?: RuntimeLocation,
    viaProperty = false,
  ): SourceLocation | undefined {
    const file = this.toPath(runtimeFile);
    if (!file) return undefined;
    const parsed = this.parse(file);
    if (!parsed) return undefined;
    const ts = tsApi();
    const candidates: TS.Node[] = [];
    // A property owner is reached as `this.x` or `obj.x`, a variable as a bare `x`: a local of the same name is another thing.
    const named = (e: TS.Expression) => lastName(e) === identifier && ts.isPropertyAccessExpression(e) === viaProperty;
    const visit = (n: TS.Node): void => {
      if (
        ts.isCallExpression(n) &&
        ts.isPropertyAccessExpression(n.expression) &&
        ADDING_METHODS.has(n.expression.name.text) &&
        named(n.expression.expression)
      )
        candidates.push(n);
      else if (
        ts.isBinaryExpression(n) &&
        n.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
        ts.isElementAccessExpression(n.left) &&
        named(n.left.expression)
      )
        candidates.push(n);
      else if (
        ts.isCallExpression(n) &&
        lastName(n.expression) === 'assign' &&
        n.arguments.length > 1 &&
        named(n.arguments[0])
      )
        candidates.push(n);
      ts.forEachChild(n, visit);
    };
    visit(parsed.sf);
    if (candidates.length === 0) return undefined;
    let pick = candidates[0];
    if (within && this.toPath(within.file) === file) {
      const fn = functionAt(parsed.sf, positionOf(parsed.sf, within.line, within.column));
      const inside =
        fn && candidates.find((c) => c.getStart(parsed.sf) >= fn.getStart(parsed.sf) && c.getEnd() <= fn.getEnd());
      if (inside) pick = inside;
    }
    return this.resolve(this.runtimeLocationOf(runtimeFile, parsed.sf, pick));
  }

  /**
   * The call that added a listener, given where the listener function starts: `emitter.on('event', fn)` (also
   * addListener, once, prepend*). Returns the emitter as the adding code names it (`bus`, `this.events`, `process`)
   * and the call's location.
   */
  findListenerCall(fnStart: RuntimeLocation): { emitter: string; location: SourceLocation } | undefined {
    const file = this.toPath(fnStart.file);
    if (!file) return undefined;
    const parsed = this.parse(file);
    if (!parsed) return undefined;
    const ts = tsApi();
    const pos = positionOf(parsed.sf, fnStart.line, fnStart.column);
    let best: TS.CallExpression | undefined;
    const visit = (n: TS.Node): void => {
      if (pos < n.getFullStart() || pos > n.getEnd()) return;
      if (
        ts.isCallExpression(n) &&
        ts.isPropertyAccessExpression(n.expression) &&
        LISTENER_METHODS.has(n.expression.name.text)
      ) {
        // The listener must be an argument of this call (or inside one, e.g. a wrapper), not the callee.
        if (n.arguments.some((arg) => pos >= arg.getFullStart() && pos <= arg.getEnd())) best = n;
      }
      ts.forEachChild(n, visit);
    };
    visit(parsed.sf);
    if (!best) {
      // A listener made elsewhere and passed by name or by a factory call: `bus.on('x', onChange)` or
      // `bus.on('x', makeHandler(ctx))`, where the function at `pos` is `onChange` or is returned by `makeHandler`.
      const names = new Set<string>();
      for (let n: TS.Node | undefined = functionAt(parsed.sf, pos); n; n = n.parent) {
        if (ts.isFunctionLike(n)) {
          const label = functionLabel(n);
          if (label) names.add(label);
        }
      }
      const refers = (arg: TS.Expression): boolean =>
        (ts.isIdentifier(arg) && names.has(arg.text)) ||
        (ts.isCallExpression(arg) && names.has(lastName(arg.expression) ?? '')) ||
        (ts.isPropertyAccessExpression(arg) && names.has(arg.name.text));
      const find = (n: TS.Node): void => {
        if (best) return;
        if (
          ts.isCallExpression(n) &&
          ts.isPropertyAccessExpression(n.expression) &&
          LISTENER_METHODS.has(n.expression.name.text) &&
          n.arguments.some(refers)
        )
          best = n;
        else ts.forEachChild(n, find);
      };
      if (names.size) find(parsed.sf);
    }
    if (!best) return undefined;
    const callee = best.expression as TS.PropertyAccessExpression;
    const emitter = callee.expression.getText(parsed.sf).replace(/\s+/g, '');
    const location = this.resolve(this.runtimeLocationOf(fnStart.file, parsed.sf, best));
    return location ? { emitter: emitter.length <= 60 ? emitter : emitter.slice(0, 59) + '…', location } : undefined;
  }

  /** Where an emitter a module exports is made: `const bus = new EventEmitter()`, or the `module.exports =` line. */
  findExportedEmitter(runtimeFile: string, name?: string): SourceLocation | undefined {
    const file = this.toPath(runtimeFile);
    if (!file) return undefined;
    const parsed = this.parse(file);
    if (!parsed) return undefined;
    const ts = tsApi();
    let byName: TS.Node | undefined;
    let created: TS.Node | undefined;
    let exported: TS.Node | undefined;
    const visit = (n: TS.Node): void => {
      if (
        ts.isVariableStatement(n) &&
        n.declarationList.declarations.some((d) => ts.isIdentifier(d.name) && d.name.text === name)
      )
        byName ??= n;
      if (ts.isNewExpression(n) && /Emitter$/.test(lastName(n.expression) ?? '')) created ??= n;
      if (
        ts.isBinaryExpression(n) &&
        n.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
        /^(module\.)?exports$/.test(n.left.getText(parsed.sf))
      )
        exported ??= n;
      ts.forEachChild(n, visit);
    };
    visit(parsed.sf);
    const pick = byName ?? created ?? exported;
    return pick ? this.resolve(this.runtimeLocationOf(runtimeFile, parsed.sf, pick)) : undefined;
  }

  private runtimeLocationOf(runtimeFile: string, sf: TS.SourceFile, node: TS.Node): RuntimeLocation {
    const lc = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    return { file: runtimeFile, line: lc.line + 1, column: lc.character + 1 };
  }
}

const LISTENER_METHODS = new Set([
  'on',
  'addListener',
  'once',
  'prependListener',
  'prependOnceListener',
  'addEventListener',
]);
const ADDING_METHODS = new Set(['add', 'set', 'push', 'unshift', 'splice']);

function positionOf(sf: TS.SourceFile, line: number, column: number): number {
  const lines = sf.getLineStarts();
  const l = Math.min(Math.max(line - 1, 0), lines.length - 1);
  return Math.min(lines[l] + Math.max(column - 1, 0), sf.text.length);
}

/** The expression in `scope` (not in nested functions, unless `scope` is a file) that allocates `className`. */
function findAllocatingNode(scope: TS.Node, className: string, isFunction: boolean): TS.Node | undefined {
  const ts = tsApi();
  const closure = className.endsWith('()');
  const bare = className.replace(/\(\)$/, '');
  // DevTools names plain objects after their properties: `{a, b}` is made by an object literal with those keys.
  const literalKeys = /^\{.*\}$/.test(className)
    ? className
        .slice(1, -1)
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean)
    : undefined;
  let found: TS.Node | undefined;
  const visit = (n: TS.Node): void => {
    if (found) return;
    // A closure is made where its function expression is written, inside the allocating function.
    if (closure && n !== scope && (ts.isFunctionExpression(n) || ts.isArrowFunction(n)) && functionName(n) === bare) {
      found = n;
      return;
    }
    if (n !== scope && ts.isFunctionLike(n) && isFunction) return;
    if (literalKeys && ts.isObjectLiteralExpression(n) && sameKeys(n, literalKeys)) found = n;
    else if (ts.isNewExpression(n) && lastName(n.expression) === bare) found = n;
    // A static factory of the class: Buffer.alloc(n), Buffer.from(s), Foo.create().
    else if (
      ts.isCallExpression(n) &&
      ts.isPropertyAccessExpression(n.expression) &&
      ts.isIdentifier(n.expression.expression) &&
      n.expression.expression.text === bare
    )
      found = n;
    else if (
      bare === 'Timeout' &&
      ts.isCallExpression(n) &&
      /^(setInterval|setTimeout)$/.test(lastName(n.expression) ?? '')
    )
      found = n;
    // A CommonJS module record is made by the require() call that loads it.
    else if (bare === 'Module' && ts.isCallExpression(n) && lastName(n.expression) === 'require') found = n;
    else ts.forEachChild(n, visit);
  };
  ts.forEachChild(scope, visit);
  if (!found && literalKeys) {
    // No literal with exactly these keys: one whose extra keys hold numbers, which V8 leaves out of the snapshot.
    const loose = (n: TS.Node): void => {
      if (found) return;
      if (n !== scope && ts.isFunctionLike(n) && isFunction) return;
      if (ts.isObjectLiteralExpression(n) && keysWithUnboxed(n, literalKeys)) found = n;
      else ts.forEachChild(n, loose);
    };
    ts.forEachChild(scope, loose);
  }
  return found;
}

/** An allocation of `className` in a function of this file that `fn` calls by name (one level: what V8 inlines). */
function allocationInCallee(sf: TS.SourceFile, fn: TS.Node, className: string): TS.Node | undefined {
  const ts = tsApi();
  const called = new Set<string>();
  const collect = (n: TS.Node): void => {
    if (n !== fn && ts.isFunctionLike(n)) return;
    if (ts.isCallExpression(n)) {
      const name = lastName(n.expression);
      if (name) called.add(name);
    }
    ts.forEachChild(n, collect);
  };
  ts.forEachChild(fn, collect);
  if (called.size === 0) return undefined;
  let found: TS.Node | undefined;
  const visit = (n: TS.Node): void => {
    if (found) return;
    if (ts.isFunctionLike(n) && n !== fn) {
      const name = functionLabel(n);
      if (name && called.has(name)) found = findAllocatingNode(n, className, true);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

/** The name of a function declaration, method or function expression, as a caller would write it. */
function functionLabel(n: TS.Node): string | undefined {
  const ts = tsApi();
  if (
    (ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n)) &&
    n.name &&
    (ts.isIdentifier(n.name) || ts.isStringLiteral(n.name))
  )
    return n.name.text;
  if (ts.isConstructorDeclaration(n)) return 'constructor';
  if (ts.isFunctionExpression(n) || ts.isArrowFunction(n)) return functionName(n);
  return undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The name a function expression goes by: its own, or the variable or property it is assigned to. */
function functionName(n: TS.FunctionExpression | TS.ArrowFunction): string | undefined {
  const ts = tsApi();
  if (ts.isFunctionExpression(n) && n.name) return n.name.text;
  const p = n.parent;
  if (ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text;
  if (ts.isPropertyAssignment(p) && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) return p.name.text;
  if (ts.isBinaryExpression(p) && p.operatorToken.kind === ts.SyntaxKind.EqualsToken) return lastName(p.left);
  return undefined;
}

/** True when an object literal names exactly these keys (spread and computed keys never match). */
function sameKeys(n: TS.ObjectLiteralExpression, keys: string[]): boolean {
  const ts = tsApi();
  const names: string[] = [];
  for (const p of n.properties) {
    if (!p.name || !(ts.isIdentifier(p.name) || ts.isStringLiteral(p.name) || ts.isNumericLiteral(p.name)))
      return false;
    names.push(p.name.text);
  }
  return names.length === keys.length && keys.every((k) => names.includes(k));
}

/**
 * True when an object literal has these keys, in this order, plus keys whose values may be numbers. V8's heap snapshot
 * has no edge for a field stored as a small integer or an unboxed double (`{ id: 1, at: Date.now(), name }` shows as
 * `{name}`), so DevTools' `{a, b}` name leaves such keys out. An extra key whose value surely is not a number (a string,
 * object, array, function or `new` expression) rules the literal out, as do spread and computed keys.
 */
function keysWithUnboxed(n: TS.ObjectLiteralExpression, keys: string[]): boolean {
  const ts = tsApi();
  let next = 0;
  for (const p of n.properties) {
    if (!p.name || !(ts.isIdentifier(p.name) || ts.isStringLiteral(p.name) || ts.isNumericLiteral(p.name)))
      return false;
    if (next < keys.length && p.name.text === keys[next]) {
      next++;
      continue;
    }
    if (!ts.isPropertyAssignment(p) && !ts.isShorthandPropertyAssignment(p)) return false;
    if (ts.isPropertyAssignment(p) && surelyNotNumber(p.initializer)) return false;
  }
  return next === keys.length && keys.length > 0;
}

/** True for an expression that can never evaluate to a number. */
function surelyNotNumber(e: TS.Expression): boolean {
  const ts = tsApi();
  while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e)) e = e.expression;
  return (
    ts.isStringLiteral(e) ||
    ts.isNoSubstitutionTemplateLiteral(e) ||
    ts.isTemplateExpression(e) ||
    ts.isObjectLiteralExpression(e) ||
    ts.isArrayLiteralExpression(e) ||
    ts.isFunctionExpression(e) ||
    ts.isArrowFunction(e) ||
    ts.isClassExpression(e) ||
    ts.isNewExpression(e) ||
    ts.isRegularExpressionLiteral(e) ||
    e.kind === ts.SyntaxKind.TrueKeyword ||
    e.kind === ts.SyntaxKind.FalseKeyword ||
    e.kind === ts.SyntaxKind.NullKeyword
  );
}

function lastName(e: TS.Expression): string | undefined {
  if (tsApi().isIdentifier(e)) return e.text;
  if (tsApi().isPropertyAccessExpression(e)) return e.name.text;
  return undefined;
}

/** The innermost function whose start is at `pos` or that contains it. */
function functionAt(sf: TS.SourceFile, pos: number): TS.Node | undefined {
  let best: TS.Node | undefined;
  const visit = (n: TS.Node): void => {
    if (pos < n.getFullStart() || pos > n.getEnd()) return;
    if (tsApi().isFunctionLike(n)) best = n;
    tsApi().forEachChild(n, visit);
  };
  visit(sf);
  return best;
}

function enclosingCall(sf: TS.SourceFile, pos: number, callee: RegExp, orNew = false): TS.Node | undefined {
  let best: TS.Node | undefined;
  const visit = (n: TS.Node): void => {
    if (pos < n.getFullStart() || pos > n.getEnd()) return;
    if (
      (tsApi().isCallExpression(n) || (orNew && tsApi().isNewExpression(n))) &&
      callee.test(lastName((n as TS.CallExpression | TS.NewExpression).expression) ?? '')
    )
      best = n;
    tsApi().forEachChild(n, visit);
  };
  visit(sf);
  return best;
}

/** The nearest scope (function or file) around a node. */
function scopeOf(n: TS.Node): TS.Node {
  let p = n.parent;
  while (p && !tsApi().isFunctionLike(p) && !tsApi().isSourceFile(p)) p = p.parent;
  return p ?? n.getSourceFile();
}

/** A declaration of `name` (variable, function, class, parameter) in the innermost scope that contains `near`. */
function findVariable(sf: TS.SourceFile, name: string, near?: number): TS.Node | undefined {
  const candidates: TS.Node[] = [];
  const visit = (n: TS.Node): void => {
    if (
      (tsApi().isVariableDeclaration(n) ||
        tsApi().isParameter(n) ||
        tsApi().isFunctionDeclaration(n) ||
        tsApi().isClassDeclaration(n)) &&
      n.name &&
      tsApi().isIdentifier(n.name) &&
      n.name.text === name
    ) {
      candidates.push(tsApi().isVariableDeclaration(n) ? declarationStatement(n) : n);
    }
    tsApi().forEachChild(n, visit);
  };
  visit(sf);
  if (candidates.length <= 1 || near === undefined) return candidates[0];
  // `near` is where a closure of the holding scope starts. A closure's context is the scope the function was created
  // in, so the variable lives around that function, never in its own parameters or body.
  const fn = functionAt(sf, near);
  const contains = (outer: TS.Node, inner: TS.Node) =>
    outer.getFullStart() <= inner.getStart(sf) && inner.getEnd() <= outer.getEnd();
  let best: TS.Node | undefined;
  let bestSpan = Infinity;
  for (const c of candidates) {
    const scope = scopeOf(c);
    const ok = fn ? scope !== fn && contains(scope, fn) : near >= scope.getFullStart() && near <= scope.getEnd();
    if (!ok) continue;
    const span = scope.getEnd() - scope.getFullStart();
    if (span < bestSpan) {
      best = c;
      bestSpan = span;
    }
  }
  return best ?? candidates[0];
}

/** The statement a variable declaration belongs to, so the line is that of `const x = ...`. */
function declarationStatement(d: TS.VariableDeclaration): TS.Node {
  const list = d.parent;
  if (
    list &&
    tsApi().isVariableDeclarationList(list) &&
    list.declarations.length === 1 &&
    list.parent &&
    tsApi().isVariableStatement(list.parent)
  )
    return list.parent;
  return d;
}

/**
 * True for a function-style constructor or method of `holder`: `function Holder() {}`, `const Holder = function`,
 * `Holder.prototype.m = function`, the ES5 form libraries in node_modules use.
 */
function isHolderFunction(n: TS.Node, holder: string | undefined): boolean {
  const ts = tsApi();
  if (!holder) return false;
  if (ts.isFunctionDeclaration(n)) return n.name?.text === holder;
  if (!ts.isFunctionExpression(n)) return false;
  if (n.name?.text === holder) return true;
  const p = n.parent;
  if (ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text === holder;
  if (ts.isBinaryExpression(p) && p.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
    // Holder.prototype.method = function () { ... }
    let left: TS.Expression = p.left;
    while (ts.isPropertyAccessExpression(left)) {
      if (ts.isIdentifier(left.expression) && left.expression.text === holder) return true;
      left = left.expression;
    }
  }
  return false;
}

/** `exports` or `module.exports`: a CommonJS module's exports object as its code names it. */
function isExportsObject(e: TS.Expression): boolean {
  const ts = tsApi();
  if (ts.isIdentifier(e)) return e.text === 'exports';
  return (
    ts.isPropertyAccessExpression(e) &&
    e.name.text === 'exports' &&
    ts.isIdentifier(e.expression) &&
    e.expression.text === 'module'
  );
}

/** A class member, `this.name =` assignment in the class or constructor function, or `Holder.name =` assignment. */
function findProperty(
  sf: TS.SourceFile,
  holder: string | undefined,
  name: string,
  isStatic: boolean,
): TS.Node | undefined {
  let member: TS.Node | undefined;
  let thisAssign: TS.Node | undefined;
  let anyAssign: TS.Node | undefined;
  const inHolderClass = (n: TS.Node) => {
    let p: TS.Node | undefined = n.parent;
    while (p && !tsApi().isClassLike(p) && !isHolderFunction(p, holder)) p = p.parent;
    return (
      !!p &&
      (!holder ||
        isHolderFunction(p, holder) ||
        (tsApi().isClassLike(p) && p.name !== undefined && p.name.text === holder))
    );
  };
  const visit = (n: TS.Node): void => {
    if (
      (tsApi().isPropertyDeclaration(n) || tsApi().isGetAccessor(n)) &&
      // A private field (`#items = []`) is named `#items` in the snapshot, as its PrivateIdentifier's text is.
      (tsApi().isIdentifier(n.name) || tsApi().isPrivateIdentifier(n.name)) &&
      n.name.text === name &&
      inHolderClass(n)
    ) {
      const st = !!tsApi()
        .getModifiers(n)
        ?.some((m) => m.kind === tsApi().SyntaxKind.StaticKeyword);
      if (st === isStatic && !member) member = n;
    }
    if (
      tsApi().isBinaryExpression(n) &&
      n.operatorToken.kind === tsApi().SyntaxKind.EqualsToken &&
      tsApi().isPropertyAccessExpression(n.left) &&
      n.left.name.text === name
    ) {
      const target = n.left.expression;
      // `exports.x = void 0` is TypeScript's hoisted placeholder; the export is declared where it gets its value.
      const placeholder = tsApi().isVoidExpression(n.right);
      if (target.kind === tsApi().SyntaxKind.ThisKeyword && !isStatic && inHolderClass(n) && !thisAssign)
        thisAssign = n;
      else if (holder === 'exports') {
        if (isExportsObject(target) && !placeholder && !anyAssign) anyAssign = n;
      } else if (tsApi().isIdentifier(target) && holder && target.text === holder && !anyAssign) anyAssign = n;
      else if (!holder && !anyAssign) anyAssign = n;
    }
    tsApi().forEachChild(n, visit);
  };
  visit(sf);
  const pick = member ?? thisAssign ?? anyAssign;
  return pick && tsApi().isBinaryExpression(pick) && tsApi().isExpressionStatement(pick.parent) ? pick.parent : pick;
}
