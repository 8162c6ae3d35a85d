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
import type { OwnerKind } from './paths';
import { formatBytes, oneLine, readRegularFile } from './safeRead';
import type { RuntimeLocation } from './scripts';

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

/** A location in a file on disk: absolute path, 1-based line and column. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
  /** Where the runtime ran it, when a source map moved the location to the original source. */
  generated?: { file: string; line: number; column: number };
}

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
      this.warnOnce(`source ${file} skipped: ${read.reason.startsWith('is ') ? 'it ' : ''}${read.reason} (locations in it are shown as the snapshot recorded them)`);
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
          if (url.length > (MAX_SOURCE_MAP_BYTES * 4) / 3 + 100) throw new Error(`the inline map is larger than ${formatBytes(MAX_SOURCE_MAP_BYTES)}`);
          const comma = url.indexOf(',');
          const body = url.slice(comma + 1);
          raw = url.slice(0, comma).endsWith(';base64') ? Buffer.from(body, 'base64').toString('utf8') : decodeURIComponent(body);
          map = new TraceMap(raw, file);
        } else {
          const mapFile = url.startsWith('file://') ? fileURLToPath(url) : path.resolve(path.dirname(file), url);
          const read = readRegularFile(mapFile, MAX_SOURCE_MAP_BYTES);
          if (!read.ok) throw new Error(`${mapFile}${read.reason.startsWith('is ') ? ' ' : ': '}${read.reason}`);
          map = new TraceMap(read.text, mapFile);
        }
      } catch (e) {
        this.warnOnce(`source map of ${file} could not be read (${oneLine((e as Error).message, 160)}); showing the generated file`);
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
        return { file: source, line: orig.line, column: (orig.column ?? 0) + 1, generated: { file, line: loc.line, column: loc.column } };
      }
    }
    return { file, line: loc.line, column: loc.column };
  }

  /**
   * Finds where an owner is declared, in the generated file the runtime ran, then maps it to the original source.
   * `near` is a runtime position inside the scope that holds the variable (a closure of that scope), if known.
   */
  findOwnerDeclaration(runtimeFile: string, kind: OwnerKind, identifier: string, holder: string | undefined, near?: RuntimeLocation): SourceLocation | undefined {
    const file = this.toPath(runtimeFile);
    if (!file) return undefined;
    const parsed = this.parse(file);
    if (!parsed) return undefined;
    let node: TS.Node | undefined;
    const nearPos = near ? positionOf(parsed.sf, near.line, near.column) : undefined;
    if (kind === 'variable' || kind === 'listeners' || kind === 'global') node = findVariable(parsed.sf, identifier, nearPos);
    if (kind === 'static-property' || kind === 'property') node = findProperty(parsed.sf, holder, identifier, kind === 'static-property');
    if (kind === 'global' && !node) node = findProperty(parsed.sf, undefined, identifier, false);
    if (kind === 'timer' && nearPos !== undefined) node = enclosingCall(parsed.sf, nearPos, /^(setInterval|setTimeout|setImmediate)$/);
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
  findAllocationExpression(frame: RuntimeLocation, className: string): SourceLocation | undefined {
    const file = this.toPath(frame.file);
    if (!file) return undefined;
    const parsed = this.parse(file);
    if (!parsed) return undefined;
    const pos = positionOf(parsed.sf, frame.line, frame.column);
    const fn = functionAt(parsed.sf, pos);
    const scope: TS.Node = fn ?? parsed.sf;
    const bare = className.replace(/\(\)$/, '');
    let found: TS.Node | undefined;
    const visit = (n: TS.Node): void => {
      if (found) return;
      if (n !== scope && tsApi().isFunctionLike(n) && fn) return;
      if (tsApi().isNewExpression(n) && lastName(n.expression) === bare) found = n;
      else if (bare === 'Timeout' && tsApi().isCallExpression(n) && /^(setInterval|setTimeout)$/.test(lastName(n.expression) ?? '')) found = n;
      // A CommonJS module record is made by the require() call that loads it.
      else if (bare === 'Module' && tsApi().isCallExpression(n) && lastName(n.expression) === 'require') found = n;
      else tsApi().forEachChild(n, visit);
    };
    tsApi().forEachChild(scope, visit);
    if (!found) return undefined;
    return this.resolve(this.runtimeLocationOf(frame.file, parsed.sf, found));
  }

  private runtimeLocationOf(runtimeFile: string, sf: TS.SourceFile, node: TS.Node): RuntimeLocation {
    const lc = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    return { file: runtimeFile, line: lc.line + 1, column: lc.character + 1 };
  }
}

function positionOf(sf: TS.SourceFile, line: number, column: number): number {
  const lines = sf.getLineStarts();
  const l = Math.min(Math.max(line - 1, 0), lines.length - 1);
  return Math.min(lines[l] + Math.max(column - 1, 0), sf.text.length);
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

function enclosingCall(sf: TS.SourceFile, pos: number, callee: RegExp): TS.Node | undefined {
  let best: TS.Node | undefined;
  const visit = (n: TS.Node): void => {
    if (pos < n.getFullStart() || pos > n.getEnd()) return;
    if (tsApi().isCallExpression(n) && callee.test(lastName(n.expression) ?? '')) best = n;
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
    if ((tsApi().isVariableDeclaration(n) || tsApi().isParameter(n) || tsApi().isFunctionDeclaration(n) || tsApi().isClassDeclaration(n)) && n.name && tsApi().isIdentifier(n.name) && n.name.text === name) {
      candidates.push(tsApi().isVariableDeclaration(n) ? declarationStatement(n) : n);
    }
    tsApi().forEachChild(n, visit);
  };
  visit(sf);
  if (candidates.length <= 1 || near === undefined) return candidates[0];
  // `near` is where a closure of the holding scope starts. A closure's context is the scope the function was created
  // in, so the variable lives around that function, never in its own parameters or body.
  const fn = functionAt(sf, near);
  const contains = (outer: TS.Node, inner: TS.Node) => outer.getFullStart() <= inner.getStart(sf) && inner.getEnd() <= outer.getEnd();
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
  if (list && tsApi().isVariableDeclarationList(list) && list.declarations.length === 1 && list.parent && tsApi().isVariableStatement(list.parent)) return list.parent;
  return d;
}

/** A class member, `this.name =` assignment in the class, or `Holder.name =` assignment. */
function findProperty(sf: TS.SourceFile, holder: string | undefined, name: string, isStatic: boolean): TS.Node | undefined {
  let member: TS.Node | undefined;
  let thisAssign: TS.Node | undefined;
  let anyAssign: TS.Node | undefined;
  const inHolderClass = (n: TS.Node) => {
    let p: TS.Node | undefined = n.parent;
    while (p && !(tsApi().isClassLike(p))) p = p.parent;
    return !!p && (!holder || (p.name !== undefined && p.name.text === holder));
  };
  const visit = (n: TS.Node): void => {
    if ((tsApi().isPropertyDeclaration(n) || tsApi().isGetAccessor(n)) && tsApi().isIdentifier(n.name) && n.name.text === name && inHolderClass(n)) {
      const st = !!tsApi().getModifiers(n)?.some((m) => m.kind === tsApi().SyntaxKind.StaticKeyword);
      if (st === isStatic && !member) member = n;
    }
    if (tsApi().isBinaryExpression(n) && n.operatorToken.kind === tsApi().SyntaxKind.EqualsToken && tsApi().isPropertyAccessExpression(n.left) && n.left.name.text === name) {
      const target = n.left.expression;
      if (target.kind === tsApi().SyntaxKind.ThisKeyword && !isStatic && inHolderClass(n) && !thisAssign) thisAssign = n;
      else if (tsApi().isIdentifier(target) && holder && target.text === holder && !anyAssign) anyAssign = n;
      else if (!holder && !anyAssign) anyAssign = n;
    }
    tsApi().forEachChild(n, visit);
  };
  visit(sf);
  const pick = member ?? thisAssign ?? anyAssign;
  return pick && tsApi().isBinaryExpression(pick) && tsApi().isExpressionStatement(pick.parent) ? pick.parent : pick;
}
