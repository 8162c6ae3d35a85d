/**
 * Anchoring a marker: from a reported position (1-based line and column) to the exact range of the token it is
 * about, in the text the editor shows now. A report describes the code as it ran; the file may have changed since.
 *
 *  - Trusted text (the file is not open and was not modified after the snapshot): the token must appear on the
 *    reported line; its range is taken from the line, no parse.
 *  - Otherwise, or when the reported line does not show the token, the file is parsed with the TypeScript parser and
 *    the marker goes to the nearest declaration (or call, or `new` expression) of that name. It is "re-anchored" when
 *    that is another line. When nothing of that name is left, the marker is dropped with a reason: a marker is never
 *    put on a line that does not show what it is about.
 *
 * Cost: one regular expression over one line in the common case; one parse per changed file (cached by text).
 */
import * as ts from 'typescript';

/** A zero-based range in the LSP's sense (UTF-16 code units, like V8's and TypeScript's columns). */
export interface TextRange {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

/** One thing a marker can point at. */
export type AnchorTarget =
  /** A declaration of `name`: variable, function, class, parameter, class member, `x.name =` assignment, object key. */
  | { kind: 'declaration'; name: string; holder?: string }
  /** A call of one of `names` (the callee's name token), e.g. setInterval, require. */
  | { kind: 'call'; names: string[] }
  /** `new Name(...)` or `new a.b.Name(...)`; the range runs from `new` to the end of the name. */
  | { kind: 'new'; name: string };

export type AnchorResult =
  | { ok: true; range: TextRange; moved: boolean }
  | { ok: false; reason: string };

/** A parsed file with its line starts; cached by the caller for as long as the text is the same. */
export class AnchorText {
  private sf: ts.SourceFile | undefined;
  readonly lineStarts: number[];

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.lineStarts = computeLineStarts(text);
  }

  get lineCount(): number {
    return this.lineStarts.length;
  }

  /** Text of a zero-based line, without its line break. */
  line(i: number): string {
    if (i < 0 || i >= this.lineStarts.length) return '';
    const end = i + 1 < this.lineStarts.length ? this.lineStarts[i + 1] : this.text.length;
    return this.text.slice(this.lineStarts[i], end).replace(/\r?\n$/, '');
  }

  position(offset: number): { line: number; character: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: offset - this.lineStarts[lo] };
  }

  sourceFile(): ts.SourceFile {
    if (!this.sf) {
      const kind = /\.[mc]?tsx?$/.test(this.file) ? (/x$/.test(this.file) ? ts.ScriptKind.TSX : ts.ScriptKind.TS) : /\.jsx$/.test(this.file) ? ts.ScriptKind.JSX : ts.ScriptKind.JS;
      this.sf = ts.createSourceFile(this.file, this.text, ts.ScriptTarget.Latest, true, kind);
    }
    return this.sf;
  }
}

export function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) starts.push(i + 1);
    else if (c === 13 && text.charCodeAt(i + 1) !== 10) starts.push(i + 1);
  }
  return starts;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Where each target shows on one line: [start, end) character offsets. */
function matchesOnLine(line: string, target: AnchorTarget): [number, number][] {
  let re: RegExp;
  if (target.kind === 'declaration') re = new RegExp(`(?<![\\w$])${escapeRegExp(target.name)}(?![\\w$])`, 'g');
  else if (target.kind === 'call') re = new RegExp(`(?<![\\w$])(?:${target.names.map(escapeRegExp).join('|')})(?=\\s*\\()`, 'g');
  else re = new RegExp(`(?<![\\w$])new\\s+(?:[\\w$]+\\s*\\.\\s*)*${escapeRegExp(target.name)}(?![\\w$])`, 'g');
  const out: [number, number][] = [];
  for (let m = re.exec(line); m; m = re.exec(line)) out.push([m.index, m.index + m[0].length]);
  return out;
}

/** The match at or after `col` (zero-based), else the last one before it. */
function pickOnLine(matches: [number, number][], col: number): [number, number] | undefined {
  return matches.find(([s]) => s >= col) ?? matches[matches.length - 1];
}

/** Candidate ranges in the syntax tree: [startOffset, endOffset]. */
function candidates(at: AnchorText, target: AnchorTarget): [number, number][] {
  const sf = at.sourceFile();
  const out: [number, number][] = [];
  const inHolder: [number, number][] = [];
  const name = (n: ts.Node): [number, number] => [n.getStart(sf), n.getEnd()];
  const visit = (n: ts.Node): void => {
    if (target.kind === 'declaration') {
      const declName = declaredName(n);
      if (declName && declName.text === target.name) {
        out.push(name(declName));
        if (target.holder && belongsTo(n, target.holder)) inHolder.push(name(declName));
      }
    } else if (target.kind === 'call') {
      if (ts.isCallExpression(n)) {
        const callee = calleeName(n.expression);
        if (callee && target.names.includes(callee.text)) out.push(name(callee));
      }
    } else if (ts.isNewExpression(n)) {
      const callee = calleeName(n.expression);
      if (callee && callee.text === target.name) out.push([n.getStart(sf), n.expression.getEnd()]);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  // `UserStore.cache`: a `cache` in class UserStore (or assigned as `UserStore.cache =`) before any other `cache`.
  return inHolder.length ? inHolder : out;
}

/** Whether a declaration is a member of class `holder` or an assignment to `holder.name`. */
function belongsTo(n: ts.Node, holder: string): boolean {
  if (ts.isBinaryExpression(n) && ts.isPropertyAccessExpression(n.left) && ts.isIdentifier(n.left.expression) && n.left.expression.text === holder) return true;
  for (let p: ts.Node | undefined = n.parent; p; p = p.parent) {
    if (ts.isClassLike(p)) return p.name?.text === holder;
  }
  return false;
}

/** The name token a node declares, if it is a declaration in the sense of {@link AnchorTarget} 'declaration'. */
function declaredName(n: ts.Node): ts.Identifier | ts.PrivateIdentifier | undefined {
  if (
    (ts.isVariableDeclaration(n) || ts.isFunctionDeclaration(n) || ts.isClassDeclaration(n) || ts.isParameter(n) || ts.isPropertyDeclaration(n) || ts.isGetAccessorDeclaration(n) || ts.isPropertyAssignment(n) || ts.isShorthandPropertyAssignment(n) || ts.isBindingElement(n) || ts.isMethodDeclaration(n)) &&
    n.name &&
    (ts.isIdentifier(n.name) || ts.isPrivateIdentifier(n.name))
  ) {
    return n.name;
  }
  if (ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.EqualsToken && ts.isPropertyAccessExpression(n.left)) return n.left.name;
  return undefined;
}

function calleeName(e: ts.Expression): ts.Identifier | ts.PrivateIdentifier | undefined {
  if (ts.isIdentifier(e)) return e;
  if (ts.isPropertyAccessExpression(e)) return e.name;
  return undefined;
}

function describe(target: AnchorTarget): string {
  if (target.kind === 'declaration') return `a declaration of \`${target.name}\``;
  if (target.kind === 'call') return `a call of ${target.names.map((n) => '`' + n + '()`').join(' or ')}`;
  return `\`new ${target.name}(...)\``;
}

/**
 * Anchors a reported position. `targets` are tried in order (the first that matches wins); `trusted` says the text
 * is what the program ran, so the reported line can be taken without a parse when it shows a target.
 */
export function anchor(at: AnchorText, line1: number, column1: number, targets: AnchorTarget[], trusted: boolean): AnchorResult {
  const line = line1 - 1;
  const col = Math.max(0, column1 - 1);
  if (targets.length === 0) {
    // Nothing to recognise the place by: only an unchanged file can be marked, at the token at the position.
    if (!trusted) return { ok: false, reason: 'the file changed since the snapshot and the location has no name to find it by' };
    if (line >= at.lineCount) return { ok: false, reason: `line ${line1} is past the end of the file` };
    const text = at.line(line);
    const word = /[\w$]+/g;
    let m: RegExpExecArray | null;
    let range: [number, number] | undefined;
    while ((m = word.exec(text))) {
      if (m.index + m[0].length > col) {
        range = [m.index, m.index + m[0].length];
        break;
      }
    }
    if (!range) return { ok: false, reason: `line ${line1} has no code at column ${column1}` };
    return { ok: true, range: { start: { line, character: range[0] }, end: { line, character: range[1] } }, moved: false };
  }
  if (trusted && line < at.lineCount) {
    const text = at.line(line);
    for (const t of targets) {
      const hit = pickOnLine(matchesOnLine(text, t), col);
      if (hit) return { ok: true, range: { start: { line, character: hit[0] }, end: { line, character: hit[1] } }, moved: false };
    }
  }
  for (const t of targets) {
    const found = candidates(at, t);
    if (found.length === 0) continue;
    let best: [number, number] | undefined;
    let bestScore = Infinity;
    for (const c of found) {
      const p = at.position(c[0]);
      // Line distance first; on the same line, distance from the reported column.
      const score = Math.abs(p.line - line) * 100000 + Math.abs(p.character - col);
      if (score < bestScore) {
        best = c;
        bestScore = score;
      }
    }
    const start = at.position(best![0]);
    const end = at.position(best![1]);
    return { ok: true, range: { start, end }, moved: start.line !== line };
  }
  return { ok: false, reason: `no ${targets.map(describe).join(', or ')} is left in the file` };
}
