/**
 * Static leak suspects: quick syntactic checks for code shaped like the leaks Leak Lens finds at run time. Each is
 * one walk of one file's syntax tree (TypeScript parser, JS and TS alike), with no type information and no other
 * files, so each stays conservative: when a value escapes where the check cannot follow it, there is no suspect.
 *
 *  - growing-collection: a module-level (or static) array, Map, Set or plain object that code inside functions only
 *    ever adds to; nothing in the file removes entries, empties it, or hands it elsewhere.
 *  - per-request-cache-key: such a collection keyed by something that differs on every request (`req.requestId`,
 *    `req.url`, `Date.now()`, a random id), followed through one local variable or one parameter of a named function.
 *  - listener-never-removed: `emitter.on(...)` (addListener, addEventListener, prependListener) inside a function,
 *    on an emitter declared at module level, with no removal on that emitter anywhere in the file.
 *  - interval-never-cleared: `setInterval` inside a function whose handle is dropped or never given to
 *    clearInterval.
 *  - module-reloaded: `require()` of a relative module inside a function, in a file that deletes `require.cache`
 *    entries; or `import()` of a URL with a query string (a fresh ESM instance per call).
 *  - resource-in-reloaded-module: in a module known to be reloaded (by another file's check, or by a runtime report),
 *    top-level code that opens something long-lived: intervals, listeners on process, pools, clients, servers.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import type { LeakDiagnosticCode } from '../protocol/lsp';
import { AnchorText, TextRange } from './anchor';

export interface Suspect {
  code: LeakDiagnosticCode;
  range: TextRange;
  message: string;
  /** The name a runtime owner of the same leak would carry: the collection, emitter, timer call or `require`. */
  subject: string;
  /**
   * Where that name is declared, when the suspect is about a declared thing (a collection, an emitter, a pool): a
   * runtime owner marked exactly there confirms the suspect. Suspects about a call (an interval, a reload) have none
   * and are confirmed only by a runtime marker on their own range.
   */
  subjectRange?: TextRange;
  related: { range: TextRange; message: string }[];
}

/** A module this file loads again on every call (an absolute path, when it resolves to a file). */
export interface Reload {
  target: string;
  line: number;
}

export interface StaticResult {
  suspects: Suspect[];
  reloads: Reload[];
}

/** Who reloads this file, if anyone does: another file's code, or the runtime report's duplicate module count. */
export interface ReloadEvidence {
  by: string;
  runtime: boolean;
}

const ADD_METHODS = new Set(['push', 'unshift', 'add', 'set']);
const REMOVE_METHODS = new Set(['pop', 'shift', 'splice', 'delete', 'clear']);
const READ_METHODS = new Set([
  'get',
  'has',
  'forEach',
  'map',
  'filter',
  'find',
  'findIndex',
  'findLast',
  'findLastIndex',
  'some',
  'every',
  'includes',
  'indexOf',
  'lastIndexOf',
  'keys',
  'values',
  'entries',
  'slice',
  'concat',
  'join',
  'reduce',
  'reduceRight',
  'at',
  'flat',
  'flatMap',
  'toString',
  'sort',
  'reverse',
  'hasOwnProperty',
  'toSorted',
  'toReversed',
  'with',
]);
const LISTEN_METHODS = new Set(['on', 'addListener', 'prependListener', 'addEventListener']);
const UNLISTEN_METHODS = new Set(['off', 'removeListener', 'removeEventListener', 'removeAllListeners']);
const RESOURCE_CLASS = /(Pool|Client|Connection|Socket|Server|Watcher|Worker|Agent|Producer|Consumer)$/;
const RESOURCE_CALL = /^(createPool|createConnection|createClient|createServer|connect|watch|setInterval)$/;
const REQUEST_RECEIVER = /^(req|request|ctx|context|incoming|msg|message|event|evt)$/i;
const REQUEST_FIELD = /^(requestId|reqId|traceId|spanId|correlationId|url|originalUrl|headers|query|body|ip|socket)$/;
const ALWAYS_PER_REQUEST_FIELD = /^(requestId|reqId|traceId|spanId|correlationId)$/;
const UNIQUE_CALL = /^(now|random|randomUUID|randomBytes|uuid|uuidv4|v4|nanoid|hrtime|cuid)$/;

function lastName(e: ts.Node): string | undefined {
  if (ts.isIdentifier(e) || ts.isPrivateIdentifier(e)) return e.text;
  if (ts.isPropertyAccessExpression(e)) return e.name.text;
  if (ts.isElementAccessExpression(e) && ts.isStringLiteralLike(e.argumentExpression)) return e.argumentExpression.text;
  if (ts.isParenthesizedExpression(e) || ts.isNonNullExpression(e) || ts.isAsExpression(e))
    return lastName(e.expression);
  return undefined;
}

function isAssignmentTarget(n: ts.Node): boolean {
  const p = n.parent;
  return (
    !!p &&
    ts.isBinaryExpression(p) &&
    p.left === n &&
    p.operatorToken.kind >= ts.SyntaxKind.FirstAssignment &&
    p.operatorToken.kind <= ts.SyntaxKind.LastAssignment
  );
}

function enclosingFunction(n: ts.Node): ts.SignatureDeclaration | undefined {
  for (let p = n.parent; p; p = p.parent) if (ts.isFunctionLike(p)) return p;
  return undefined;
}

/** The name a function is known by: its own, its method's, or the variable or property it is assigned to. */
function functionName(fn: ts.SignatureDeclaration): string | undefined {
  if (fn.name && (ts.isIdentifier(fn.name) || ts.isPrivateIdentifier(fn.name))) return fn.name.text;
  const p = fn.parent;
  if (p && ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text;
  if (p && ts.isPropertyAssignment(p) && ts.isIdentifier(p.name)) return p.name.text;
  if (p && ts.isBinaryExpression(p) && p.right === fn) return lastName(p.left);
  return undefined;
}

/** "every call of startExport", or "every request" for a function handed to a server or route. */
function perCall(fn: ts.SignatureDeclaration): string {
  const p = fn.parent;
  if (p && ts.isCallExpression(p) && p.arguments.includes(fn as unknown as ts.Expression)) {
    const callee = lastName(p.expression) ?? '';
    if (/^(serve|createServer|get|post|put|patch|delete|all|use|route|handle|on)$/.test(callee)) return 'every request';
  }
  const name = functionName(fn);
  return name ? `every call of ${name}` : 'every call of the enclosing function';
}

export class StaticChecker {
  private readonly sf: ts.SourceFile;
  private readonly suspects: Suspect[] = [];
  private readonly reloads: Reload[] = [];
  /** Top-level variable declarations by name (including `const x = require(...)`). */
  private readonly moduleVars = new Map<string, ts.VariableDeclaration>();
  /** How many times each name is declared anywhere (variables, parameters, functions): >1 means shadowing. */
  private readonly declCount = new Map<string, number>();
  private readonly calls: ts.CallExpression[] = [];
  private deletesRequireCache = false;

  constructor(
    private readonly at: AnchorText,
    private readonly reloadedBy?: ReloadEvidence,
  ) {
    this.sf = at.sourceFile();
  }

  private range(start: number, end: number): TextRange {
    return { start: this.at.position(start), end: this.at.position(end) };
  }

  private nodeRange(n: ts.Node): TextRange {
    return this.range(n.getStart(this.sf), n.getEnd());
  }

  private lineOf(n: ts.Node): number {
    return this.at.position(n.getStart(this.sf)).line + 1;
  }

  run(): StaticResult {
    for (const st of this.sf.statements) {
      if (ts.isVariableStatement(st))
        for (const d of st.declarationList.declarations)
          if (ts.isIdentifier(d.name)) this.moduleVars.set(d.name.text, d);
    }
    const visit = (n: ts.Node): void => {
      if (
        (ts.isVariableDeclaration(n) ||
          ts.isParameter(n) ||
          ts.isFunctionDeclaration(n) ||
          ts.isClassDeclaration(n) ||
          ts.isBindingElement(n)) &&
        n.name &&
        ts.isIdentifier(n.name)
      ) {
        this.declCount.set(n.name.text, (this.declCount.get(n.name.text) ?? 0) + 1);
      }
      if (ts.isCallExpression(n)) this.calls.push(n);
      if (ts.isDeleteExpression(n) && /require\s*\.\s*cache/.test(n.expression.getText(this.sf)))
        this.deletesRequireCache = true;
      ts.forEachChild(n, visit);
    };
    visit(this.sf);
    this.collections();
    this.listeners();
    this.intervals();
    this.moduleReloads();
    if (this.reloadedBy) this.topLevelResources(this.reloadedBy);
    return { suspects: this.suspects, reloads: this.reloads };
  }

  // --- growing collections and their keys ---

  private collectionKind(init: ts.Expression | undefined): string | undefined {
    if (!init) return undefined;
    if (ts.isArrayLiteralExpression(init)) return 'array';
    if (ts.isNewExpression(init) && ts.isIdentifier(init.expression) && /^(Map|Set|Array)$/.test(init.expression.text))
      return init.expression.text;
    if (ts.isObjectLiteralExpression(init) && init.properties.length === 0) return 'object';
    if (
      ts.isCallExpression(init) &&
      init.expression.getText(this.sf) === 'Object.create' &&
      init.arguments[0]?.kind === ts.SyntaxKind.NullKeyword
    )
      return 'object';
    return undefined;
  }

  private collections(): void {
    for (const [name, decl] of this.moduleVars) {
      const kind = this.collectionKind(decl.initializer);
      if (!kind || (this.declCount.get(name) ?? 0) > 1) continue;
      const refs: ts.Expression[] = [];
      const visit = (n: ts.Node): void => {
        if (ts.isIdentifier(n) && n.text === name && n !== decl.name && !isPropertyName(n)) refs.push(n);
        ts.forEachChild(n, visit);
      };
      visit(this.sf);
      this.checkCollection(name, name, `a module-level ${kind}`, decl.name as ts.Identifier, refs);
    }
    const visitClasses = (n: ts.Node): void => {
      if (ts.isClassLike(n) && n.name) {
        const cls = n.name.text;
        for (const m of n.members) {
          if (
            !ts.isPropertyDeclaration(m) ||
            !ts.isIdentifier(m.name) ||
            !ts.getModifiers(m)?.some((x) => x.kind === ts.SyntaxKind.StaticKeyword)
          )
            continue;
          const kind = this.collectionKind(m.initializer);
          if (!kind) continue;
          const prop = m.name.text;
          if (n.members.some((o) => o !== m && o.name && ts.isIdentifier(o.name) && o.name.text === prop)) continue;
          const refs: ts.Expression[] = [];
          const visit = (x: ts.Node): void => {
            if (
              ts.isPropertyAccessExpression(x) &&
              x.name.text === prop &&
              ((ts.isIdentifier(x.expression) && x.expression.text === cls) ||
                (x.expression.kind === ts.SyntaxKind.ThisKeyword && insideClass(x, n)))
            )
              refs.push(x);
            ts.forEachChild(x, visit);
          };
          visit(this.sf);
          this.checkCollection(prop, `${cls}.${prop}`, `a static ${kind}`, m.name, refs);
        }
      }
      ts.forEachChild(n, visitClasses);
    };
    visitClasses(this.sf);
  }

  private checkCollection(
    subject: string,
    shown: string,
    what: string,
    nameNode: ts.Node,
    refs: ts.Expression[],
  ): void {
    const adds: { node: ts.Node; key?: ts.Expression; how: string }[] = [];
    let removed = false;
    let escaped = false;
    for (const r of refs) {
      const p = r.parent;
      if (ts.isPropertyAccessExpression(p) && p.expression === r) {
        const m = p.name.text;
        const call = ts.isCallExpression(p.parent) && p.parent.expression === p ? p.parent : undefined;
        if (call) {
          if (ADD_METHODS.has(m))
            adds.push({ node: call, key: m === 'set' || m === 'add' ? call.arguments[0] : undefined, how: m });
          else if (REMOVE_METHODS.has(m)) removed = true;
          else if (!READ_METHODS.has(m)) escaped = true;
        } else if (isAssignmentTarget(p)) {
          // `list.length = 0` empties it; any other property write is not about entries.
          if (m === 'length') removed = true;
        }
      } else if (ts.isElementAccessExpression(p) && p.expression === r) {
        if (ts.isDeleteExpression(p.parent)) removed = true;
        else if (isAssignmentTarget(p)) adds.push({ node: p.parent, key: p.argumentExpression, how: '[key] =' });
      } else if (isAssignmentTarget(r)) {
        removed = true;
      } else if (
        (ts.isForOfStatement(p) && p.expression === r) ||
        ts.isSpreadElement(p) ||
        ts.isSpreadAssignment(p) ||
        (ts.isForInStatement(p) && p.expression === r)
      ) {
        // Reads.
      } else {
        escaped = true;
      }
    }
    const perCallAdds = adds.filter((a) => enclosingFunction(a.node));
    if (removed || escaped || perCallAdds.length === 0) return;
    const first = perCallAdds[0];
    this.suspects.push({
      code: 'static/growing-collection',
      range: this.nodeRange(nameNode),
      message: `${shown} is ${what} that is only ever added to (${first.how} at line ${this.lineOf(first.node)}): nothing removes its entries, so it grows for the life of the process`,
      subject,
      subjectRange: this.nodeRange(nameNode),
      related: perCallAdds
        .slice(0, 5)
        .map((a) => ({ range: this.nodeRange(a.node), message: `${shown}: added to here` })),
    });
    for (const a of perCallAdds) {
      if (!a.key) continue;
      const why = this.perRequest(a.key, 2);
      if (!why) continue;
      this.suspects.push({
        code: 'static/per-request-cache-key',
        range: this.nodeRange(a.key),
        message: `the key of ${shown} includes ${clipText(why.text)}, which differs on every request: lookups never hit, and every entry stays`,
        subject,
        subjectRange: this.nodeRange(nameNode),
        related:
          why.node !== a.key
            ? [{ range: this.nodeRange(why.node), message: `${clipText(why.text)}: differs on every request` }]
            : [],
      });
    }
  }

  /** What in `e` differs per request, following one local variable or one parameter of a named function. */
  private perRequest(e: ts.Node, depth: number): { node: ts.Node; text: string } | undefined {
    let found: { node: ts.Node; text: string } | undefined;
    const visit = (n: ts.Node): void => {
      if (found) return;
      if (ts.isPropertyAccessExpression(n)) {
        const recv = lastName(n.expression) ?? '';
        if (
          ALWAYS_PER_REQUEST_FIELD.test(n.name.text) ||
          (REQUEST_FIELD.test(n.name.text) && REQUEST_RECEIVER.test(recv))
        ) {
          found = { node: n, text: n.getText(this.sf) };
          return;
        }
      }
      if (ts.isCallExpression(n) && UNIQUE_CALL.test(lastName(n.expression) ?? '')) {
        found = { node: n, text: n.getText(this.sf) };
        return;
      }
      if (ts.isIdentifier(n) && depth > 0 && !isPropertyName(n)) {
        const fn = enclosingFunction(n);
        const local = fn && findLocal(fn, n.text);
        if (local && ts.isVariableDeclaration(local) && local.initializer) {
          const inner = this.perRequest(local.initializer, depth - 1);
          if (inner) found = inner;
        } else if (local && ts.isParameter(local) && fn) {
          const index = fn.parameters.indexOf(local);
          const fname = functionName(fn);
          for (const c of fname ? this.calls : []) {
            if (lastName(c.expression) !== fname || !c.arguments[index]) continue;
            const inner = this.perRequest(c.arguments[index], depth - 1);
            if (inner) {
              found = inner;
              break;
            }
          }
        }
        return;
      }
      ts.forEachChild(n, visit);
    };
    visit(e);
    return found;
  }

  // --- listeners ---

  private listeners(): void {
    const removedOn = new Set<string>();
    for (const c of this.calls) {
      if (ts.isPropertyAccessExpression(c.expression) && UNLISTEN_METHODS.has(c.expression.name.text))
        removedOn.add(lastName(c.expression.expression) ?? '');
    }
    for (const c of this.calls) {
      if (!ts.isPropertyAccessExpression(c.expression) || !LISTEN_METHODS.has(c.expression.name.text)) continue;
      const recv = c.expression.expression;
      if (!ts.isIdentifier(recv)) continue;
      const fn = enclosingFunction(c);
      if (!fn || removedOn.has(recv.text)) continue;
      const moduleLevel =
        (this.moduleVars.has(recv.text) && (this.declCount.get(recv.text) ?? 0) <= 1) ||
        /^(process|globalThis|window|document)$/.test(recv.text);
      if (!moduleLevel) continue;
      const options = c.arguments[2];
      if (
        options &&
        ts.isObjectLiteralExpression(options) &&
        options.properties.some((p) => p.name && ts.isIdentifier(p.name) && /^(once|signal)$/.test(p.name.text))
      )
        continue;
      const event =
        c.arguments[0] && ts.isStringLiteralLike(c.arguments[0])
          ? `a '${clipText(c.arguments[0].text)}' listener`
          : 'a listener';
      this.suspects.push({
        code: 'static/listener-never-removed',
        range: this.range(recv.getStart(this.sf), c.expression.name.getEnd()),
        message: `${event} is added to module-level ${recv.text} on ${perCall(fn)} and never removed: each listener, and everything its closure holds, stays alive as long as ${recv.text} does`,
        subject: recv.text,
        subjectRange: this.moduleVars.has(recv.text) ? this.nodeRange(this.moduleVars.get(recv.text)!.name) : undefined,
        related: this.moduleVars.has(recv.text)
          ? [{ range: this.nodeRange(this.moduleVars.get(recv.text)!.name), message: `${recv.text} is declared here` }]
          : [],
      });
    }
  }

  // --- intervals ---

  private intervals(): void {
    const cleared = new Set<string>();
    for (const c of this.calls) {
      if (/^(clearInterval|clearTimeout)$/.test(lastName(c.expression) ?? '') && c.arguments[0])
        cleared.add(lastName(c.arguments[0]) ?? '');
    }
    for (const c of this.calls) {
      if (lastName(c.expression) !== 'setInterval') continue;
      const fn = enclosingFunction(c);
      if (!fn) continue;
      // Where the handle goes: dropped, `.unref()`ed and dropped, or stored under a name.
      let e: ts.Node = c;
      while (
        ts.isPropertyAccessExpression(e.parent) &&
        ts.isCallExpression(e.parent.parent) &&
        e.parent.name.text === 'unref'
      )
        e = e.parent.parent;
      const p = e.parent;
      let handle: string | undefined;
      if (ts.isExpressionStatement(p)) handle = undefined;
      else if (ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) handle = p.name.text;
      else if (ts.isBinaryExpression(p) && p.right === e && p.operatorToken.kind === ts.SyntaxKind.EqualsToken)
        handle = lastName(p.left);
      else continue;
      if (handle && cleared.has(handle)) continue;
      const callee = ts.isPropertyAccessExpression(c.expression) ? c.expression.name : c.expression;
      this.suspects.push({
        code: 'static/interval-never-cleared',
        range: this.nodeRange(callee),
        message: `setInterval starts a new interval on ${perCall(fn)} and ${handle ? `nothing clears ${handle}` : 'its handle is dropped'}: each interval keeps its callback, and everything the callback captures, alive for good`,
        subject: 'setInterval',
        related: [],
      });
    }
  }

  // --- modules loaded again and again ---

  private moduleReloads(): void {
    for (const c of this.calls) {
      const fn = enclosingFunction(c);
      if (!fn) continue;
      const arg = c.arguments[0];
      if (
        this.deletesRequireCache &&
        ts.isIdentifier(c.expression) &&
        c.expression.text === 'require' &&
        arg &&
        ts.isStringLiteralLike(arg) &&
        /^\.\.?\//.test(arg.text)
      ) {
        this.suspects.push({
          code: 'static/module-reloaded',
          range: this.nodeRange(c.expression),
          message: `${arg.text} is loaded again on ${perCall(fn)} (its require.cache entry is deleted): each load runs the module's top-level code again, and old copies stay alive while anything they started (timers, connections, listeners) or module.children refers to them`,
          subject: 'require',
          related: [],
        });
        const target = resolveModule(this.at.file, arg.text);
        if (target) this.reloads.push({ target, line: this.lineOf(c) });
      } else if (
        c.expression.kind === ts.SyntaxKind.ImportKeyword &&
        arg &&
        (ts.isTemplateExpression(arg) || ts.isBinaryExpression(arg)) &&
        arg.getText(this.sf).includes('?')
      ) {
        this.suspects.push({
          code: 'static/module-reloaded',
          range: this.range(c.getStart(this.sf), c.getStart(this.sf) + 'import'.length),
          message: `import() of a URL with a query string on ${perCall(fn)} loads a new copy of the module each time; ES module copies are never unloaded`,
          subject: 'import',
          related: [],
        });
      }
    }
  }

  private topLevelResources(evidence: ReloadEvidence): void {
    for (const st of this.sf.statements) {
      const found: { node: ts.Node; range: TextRange; what: string; subject: string }[] = [];
      const visit = (n: ts.Node): void => {
        if (ts.isFunctionLike(n) || ts.isClassLike(n)) return;
        if (ts.isNewExpression(n)) {
          const name = lastName(n.expression) ?? '';
          if (RESOURCE_CLASS.test(name))
            found.push({
              node: n,
              range: this.range(n.getStart(this.sf), n.expression.getEnd()),
              what: `a ${name}`,
              subject: name,
            });
        } else if (ts.isCallExpression(n)) {
          const name = lastName(n.expression) ?? '';
          const callee = ts.isPropertyAccessExpression(n.expression) ? n.expression.name : n.expression;
          if (RESOURCE_CALL.test(name))
            found.push({
              node: n,
              range: this.nodeRange(callee),
              what: name === 'setInterval' ? 'an interval' : `${name}()`,
              subject: name,
            });
          else if (
            LISTEN_METHODS.has(name) &&
            ts.isPropertyAccessExpression(n.expression) &&
            /^(process|globalThis)$/.test(n.expression.expression.getText(this.sf))
          ) {
            found.push({
              node: n,
              range: this.nodeRange(callee),
              what: `a ${n.expression.expression.getText(this.sf)} listener`,
              subject: name,
            });
          }
        }
        ts.forEachChild(n, visit);
      };
      visit(st);
      for (const f of found) {
        // `const pool = new DbPool()`: a runtime owner would be `pool`, declared there.
        const declName =
          ts.isVariableStatement(st) &&
          st.declarationList.declarations.length === 1 &&
          ts.isIdentifier(st.declarationList.declarations[0].name)
            ? st.declarationList.declarations[0].name
            : undefined;
        this.suspects.push({
          code: 'static/resource-in-reloaded-module',
          range: f.range,
          message: `this module is loaded again and again (${evidence.by}) and opens ${f.what} in its top-level code each time: every copy keeps its own alive`,
          subject: declName?.text ?? f.subject,
          subjectRange: declName ? this.nodeRange(declName) : undefined,
          related: [],
        });
      }
    }
  }
}

function isPropertyName(n: ts.Identifier): boolean {
  const p = n.parent;
  return (
    (ts.isPropertyAccessExpression(p) && p.name === n) ||
    (ts.isPropertyAssignment(p) && p.name === n) ||
    (ts.isPropertyDeclaration(p) && p.name === n) ||
    (ts.isMethodDeclaration(p) && p.name === n)
  );
}

function insideClass(n: ts.Node, cls: ts.ClassLikeDeclaration): boolean {
  for (let p = n.parent; p; p = p.parent) if (ts.isClassLike(p)) return p === cls;
  return false;
}

/** A variable or parameter named `name` declared directly in function `fn` (not in nested functions). */
function findLocal(
  fn: ts.SignatureDeclaration,
  name: string,
): ts.VariableDeclaration | ts.ParameterDeclaration | undefined {
  const param = fn.parameters.find((p) => ts.isIdentifier(p.name) && p.name.text === name);
  if (param) return param;
  let found: ts.VariableDeclaration | undefined;
  const visit = (n: ts.Node): void => {
    if (found || (n !== fn && ts.isFunctionLike(n))) return;
    if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.name.text === name) found = n;
    ts.forEachChild(n, visit);
  };
  ts.forEachChild(fn, visit);
  return found;
}

function clipText(s: string): string {
  const one = s.replace(/\s+/g, ' ');
  return one.length > 60 ? one.slice(0, 59) + '…' : one;
}

const MODULE_EXTENSIONS = ['', '.js', '.cjs', '.mjs', '.ts', '.cts', '.mts', '/index.js', '/index.ts'];

/** The file a relative module specifier names, if it exists. */
export function resolveModule(
  from: string,
  spec: string,
  exists: (f: string) => boolean = fileExists,
): string | undefined {
  const base = path.resolve(path.dirname(from), spec);
  for (const ext of MODULE_EXTENSIONS) if (exists(base + ext)) return base + ext;
  return undefined;
}

function fileExists(f: string): boolean {
  try {
    return fs.statSync(f).isFile();
  } catch {
    return false;
  }
}

/** Runs every static check on one file. */
export function staticSuspects(at: AnchorText, reloadedBy?: ReloadEvidence): StaticResult {
  return new StaticChecker(at, reloadedBy).run();
}
