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
import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath } from 'url';
import * as ts from 'typescript';
import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';
import type { OwnerKind } from './paths';
import type { RuntimeLocation } from './scripts';

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
  sf: ts.SourceFile;
}

export class SourceResolver {
  private readonly files = new Map<string, ParsedFile | null>();
  private readonly maps = new Map<string, TraceMap | null>();
  private readonly warned = new Set<string>();

  constructor(private readonly options: SourceResolverOptions = {}) {}

  private warnOnce(message: string): void {
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
    try {
      const text = fs.readFileSync(file, 'utf8');
      const kind = /\.tsx?$|\.mts$|\.cts$/.test(file) ? ts.ScriptKind.TS : ts.ScriptKind.JS;
      result = { text, sf: ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind) };
    } catch {
      this.warnOnce(`source not found: ${file} (locations in it are shown as the snapshot recorded them)`);
    }
    this.files.set(file, result);
    return result;
  }

  /** The source map of a generated file, or null when it has none or it cannot be read. */
  private sourceMap(file: string, runtimeFile: string): TraceMap | null {
    if (this.maps.has(file)) return this.maps.get(file)!;
    let map: TraceMap | null = null;
    const parsed = this.parse(file);
    let url = this.options.sourceMapURLs?.get(runtimeFile);
    if (!url && parsed) {
      const m = /\/\/[#@] sourceMappingURL=(\S+)\s*$/m.exec(parsed.text.slice(-4096));
      if (m) url = m[1];
    }
    if (url) {
      try {
        let raw: string;
        if (url.startsWith('data:')) {
          const comma = url.indexOf(',');
          const body = url.slice(comma + 1);
          raw = url.slice(0, comma).endsWith(';base64') ? Buffer.from(body, 'base64').toString('utf8') : decodeURIComponent(body);
          map = new TraceMap(raw, file);
        } else {
          const mapFile = url.startsWith('file://') ? fileURLToPath(url) : path.resolve(path.dirname(file), url);
          raw = fs.readFileSync(mapFile, 'utf8');
          map = new TraceMap(raw, mapFile);
        }
      } catch (e) {
        this.warnOnce(`source map of ${file} could not be read (${(e as Error).message}); showing the generated file`);
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
    let node: ts.Node | undefined;
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
    const file = this.toPath(frame.file);
    if (!file) return undefined;
    const parsed = this.parse(file);
    if (!parsed) return this.resolve(frame);
    const pos = positionOf(parsed.sf, frame.line, frame.column);
    const fn = functionAt(parsed.sf, pos);
    const scope: ts.Node = fn ?? parsed.sf;
    const bare = className.replace(/\(\)$/, '');
    let found: ts.Node | undefined;
    const visit = (n: ts.Node): void => {
      if (found) return;
      if (n !== scope && ts.isFunctionLike(n) && fn) return;
      if (ts.isNewExpression(n) && lastName(n.expression) === bare) found = n;
      else if (bare === 'Timeout' && ts.isCallExpression(n) && /^(setInterval|setTimeout)$/.test(lastName(n.expression) ?? '')) found = n;
      // A CommonJS module record is made by the require() call that loads it.
      else if (bare === 'Module' && ts.isCallExpression(n) && lastName(n.expression) === 'require') found = n;
      else ts.forEachChild(n, visit);
    };
    ts.forEachChild(scope, visit);
    if (!found) return this.resolve(frame);
    return this.resolve(this.runtimeLocationOf(frame.file, parsed.sf, found));
  }

  private runtimeLocationOf(runtimeFile: string, sf: ts.SourceFile, node: ts.Node): RuntimeLocation {
    const lc = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    return { file: runtimeFile, line: lc.line + 1, column: lc.character + 1 };
  }
}

function positionOf(sf: ts.SourceFile, line: number, column: number): number {
  const lines = sf.getLineStarts();
  const l = Math.min(Math.max(line - 1, 0), lines.length - 1);
  return Math.min(lines[l] + Math.max(column - 1, 0), sf.text.length);
}

function lastName(e: ts.Expression): string | undefined {
  if (ts.isIdentifier(e)) return e.text;
  if (ts.isPropertyAccessExpression(e)) return e.name.text;
  return undefined;
}

/** The innermost function whose start is at `pos` or that contains it. */
function functionAt(sf: ts.SourceFile, pos: number): ts.Node | undefined {
  let best: ts.Node | undefined;
  const visit = (n: ts.Node): void => {
    if (pos < n.getFullStart() || pos > n.getEnd()) return;
    if (ts.isFunctionLike(n)) best = n;
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return best;
}

function enclosingCall(sf: ts.SourceFile, pos: number, callee: RegExp): ts.Node | undefined {
  let best: ts.Node | undefined;
  const visit = (n: ts.Node): void => {
    if (pos < n.getFullStart() || pos > n.getEnd()) return;
    if (ts.isCallExpression(n) && callee.test(lastName(n.expression) ?? '')) best = n;
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return best;
}

/** The nearest scope (function or file) around a node. */
function scopeOf(n: ts.Node): ts.Node {
  let p = n.parent;
  while (p && !ts.isFunctionLike(p) && !ts.isSourceFile(p)) p = p.parent;
  return p ?? n.getSourceFile();
}

/** A declaration of `name` (variable, function, class, parameter) in the innermost scope that contains `near`. */
function findVariable(sf: ts.SourceFile, name: string, near?: number): ts.Node | undefined {
  const candidates: ts.Node[] = [];
  const visit = (n: ts.Node): void => {
    if ((ts.isVariableDeclaration(n) || ts.isParameter(n) || ts.isFunctionDeclaration(n) || ts.isClassDeclaration(n)) && n.name && ts.isIdentifier(n.name) && n.name.text === name) {
      candidates.push(ts.isVariableDeclaration(n) ? declarationStatement(n) : n);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  if (candidates.length <= 1 || near === undefined) return candidates[0];
  // Prefer the declaration whose scope contains `near` most tightly.
  let best: ts.Node | undefined;
  let bestSpan = Infinity;
  for (const c of candidates) {
    const scope = scopeOf(c);
    if (near >= scope.getFullStart() && near <= scope.getEnd()) {
      const span = scope.getEnd() - scope.getFullStart();
      if (span < bestSpan) {
        best = c;
        bestSpan = span;
      }
    }
  }
  return best ?? candidates[0];
}

/** The statement a variable declaration belongs to, so the line is that of `const x = ...`. */
function declarationStatement(d: ts.VariableDeclaration): ts.Node {
  const list = d.parent;
  if (list && ts.isVariableDeclarationList(list) && list.declarations.length === 1 && list.parent && ts.isVariableStatement(list.parent)) return list.parent;
  return d;
}

/** A class member, `this.name =` assignment in the class, or `Holder.name =` assignment. */
function findProperty(sf: ts.SourceFile, holder: string | undefined, name: string, isStatic: boolean): ts.Node | undefined {
  let member: ts.Node | undefined;
  let thisAssign: ts.Node | undefined;
  let anyAssign: ts.Node | undefined;
  let classOf: ts.Node | undefined;
  const inHolderClass = (n: ts.Node) => {
    let p: ts.Node | undefined = n.parent;
    while (p && !(ts.isClassLike(p))) p = p.parent;
    return !!p && (!holder || (p.name !== undefined && p.name.text === holder));
  };
  const visit = (n: ts.Node): void => {
    if (ts.isClassLike(n) && holder && n.name?.text === holder) classOf = n;
    if ((ts.isPropertyDeclaration(n) || ts.isGetAccessor(n)) && ts.isIdentifier(n.name) && n.name.text === name && inHolderClass(n)) {
      const st = !!ts.getModifiers(n)?.some((m) => m.kind === ts.SyntaxKind.StaticKeyword);
      if (st === isStatic && !member) member = n;
    }
    if (ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.EqualsToken && ts.isPropertyAccessExpression(n.left) && n.left.name.text === name) {
      const target = n.left.expression;
      if (target.kind === ts.SyntaxKind.ThisKeyword && !isStatic && inHolderClass(n) && !thisAssign) thisAssign = n;
      else if (ts.isIdentifier(target) && holder && target.text === holder && !anyAssign) anyAssign = n;
      else if (!holder && !anyAssign) anyAssign = n;
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  void classOf;
  const pick = member ?? thisAssign ?? anyAssign;
  return pick && ts.isBinaryExpression(pick) && ts.isExpressionStatement(pick.parent) ? pick.parent : pick;
}
