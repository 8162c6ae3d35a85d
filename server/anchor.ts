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
  | { kind: 'new'; name: string }
  /**
   * The token at the reported position, in a file as the program ran it; tried after the targets before it, and
   * never in a changed file. For secondary places (retainer steps), where a parse per file would cost too much.
   */
  | { kind: 'position' };

export type AnchorResult = { ok: true; range: TextRange; moved: boolean } | { ok: false; reason: string };

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

  private mapped: boolean | undefined;

  /** Whether the text ends with a `sourceMappingURL` comment (generated code with a source map). */
  get hasSourceMap(): boolean {
    this.mapped ??= /\/\/[#@] sourceMappingURL=/.test(this.text.slice(-4096));
    return this.mapped;
  }

  sourceFile(): ts.SourceFile {
    if (!this.sf) {
      const kind = /\.[mc]?tsx?$/.test(this.file)
        ? /x$/.test(this.file)
          ? ts.ScriptKind.TSX
          : ts.ScriptKind.TS
        : /\.jsx$/.test(this.file)
          ? ts.ScriptKind.JSX
          : ts.ScriptKind.JS;
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

/** Identifier characters as JavaScript sees them for ASCII; anything beyond ASCII is taken as part of a name. */
function isNameChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 36 || c === 95 || c > 127;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

/** Whole-word occurrences of `name` in `line`. */
function wordsOnLine(line: string, name: string): number[] {
  const out: number[] = [];
  for (let i = line.indexOf(name); i >= 0; i = line.indexOf(name, i + 1)) {
    if ((i === 0 || !isNameChar(line.charCodeAt(i - 1))) && !isNameChar(line.charCodeAt(i + name.length))) out.push(i);
  }
  return out;
}

/** The start of `new` before a (possibly qualified) name starting at `i`, as in `new a.b.Name`, or -1. */
function newBefore(line: string, i: number): number {
  let j = i - 1;
  for (;;) {
    let k = j;
    while (k >= 0 && isSpace(line.charCodeAt(k))) k--;
    if (k < 0 || line.charCodeAt(k) !== 46) break;
    // `.`: step over the qualifier before it.
    k--;
    while (k >= 0 && isSpace(line.charCodeAt(k))) k--;
    const end = k;
    while (k >= 0 && isNameChar(line.charCodeAt(k))) k--;
    if (k === end) return -1;
    j = k;
  }
  // At least one blank, then `new` as a whole word.
  if (j < 0 || !isSpace(line.charCodeAt(j))) return -1;
  while (j >= 0 && isSpace(line.charCodeAt(j))) j--;
  const start = j - 2;
  if (start < 0 || line.slice(start, j + 1) !== 'new' || (start > 0 && isNameChar(line.charCodeAt(start - 1))))
    return -1;
  return start;
}

/** Where a target shows on one line: [start, end) character offsets. No regular expressions: this runs per marker. */
function matchesOnLine(line: string, target: AnchorTarget): [number, number][] {
  const out: [number, number][] = [];
  if (target.kind === 'declaration') {
    for (const i of wordsOnLine(line, target.name)) out.push([i, i + target.name.length]);
  } else if (target.kind === 'position') {
    return out;
  } else if (target.kind === 'call') {
    for (const name of target.names) {
      for (const i of wordsOnLine(line, name)) {
        let k = i + name.length;
        while (isSpace(line.charCodeAt(k))) k++;
        if (line.charCodeAt(k) === 40) out.push([i, i + name.length]);
      }
    }
    out.sort((a, b) => a[0] - b[0]);
  } else {
    for (const i of wordsOnLine(line, target.name)) {
      const start = newBefore(line, i);
      if (start >= 0) out.push([start, i + target.name.length]);
    }
  }
  return out;
}

/** The match at or after `col` (zero-based), else the last one before it. */
function pickOnLine(matches: [number, number][], col: number): [number, number] | undefined {
  return matches.find(([s]) => s >= col) ?? matches[matches.length - 1];
}

/** One place in the syntax tree where a name occurs in a way a marker can be about. */
interface Occurrence {
  start: number;
  end: number;
  /** For declarations: the class it is a member of, or the object it is assigned on (`Holder.name =`). */
  holder?: string;
}

/** Declarations, calls and `new` expressions by name: one walk of the tree per text, shared by every marker. */
interface NameIndex {
  declarations: Map<string, Occurrence[]>;
  calls: Map<string, Occurrence[]>;
  news: Map<string, Occurrence[]>;
}

const indexes = new WeakMap<AnchorText, NameIndex>();

function push(map: Map<string, Occurrence[]>, name: string, o: Occurrence): void {
  const list = map.get(name);
  if (list) list.push(o);
  else map.set(name, [o]);
}

function nameIndex(at: AnchorText): NameIndex {
  const cached = indexes.get(at);
  if (cached) return cached;
  const sf = at.sourceFile();
  const index: NameIndex = { declarations: new Map(), calls: new Map(), news: new Map() };
  const visit = (n: ts.Node): void => {
    const declName = declaredName(n);
    if (declName)
      push(index.declarations, declName.text, {
        start: declName.getStart(sf),
        end: declName.getEnd(),
        holder: holderOf(n),
      });
    if (ts.isCallExpression(n)) {
      const callee = calleeName(n.expression);
      if (callee) push(index.calls, callee.text, { start: callee.getStart(sf), end: callee.getEnd() });
    } else if (ts.isNewExpression(n)) {
      const callee = calleeName(n.expression);
      if (callee) push(index.news, callee.text, { start: n.getStart(sf), end: n.expression.getEnd() });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  indexes.set(at, index);
  return index;
}

/** Candidate ranges in the syntax tree: [startOffset, endOffset]. */
function candidates(at: AnchorText, target: AnchorTarget): [number, number][] {
  const index = nameIndex(at);
  let found: Occurrence[];
  if (target.kind === 'declaration') {
    const all = index.declarations.get(target.name) ?? [];
    // `UserStore.cache`: a `cache` in class UserStore (or assigned as `UserStore.cache =`) before any other `cache`.
    const inHolder = target.holder ? all.filter((o) => o.holder === target.holder) : [];
    found = inHolder.length ? inHolder : all;
  } else if (target.kind === 'call') found = target.names.flatMap((n) => index.calls.get(n) ?? []);
  else if (target.kind === 'new') found = index.news.get(target.name) ?? [];
  else found = [];
  return found.map((o) => [o.start, o.end]);
}

/** The class a declaration is a member of, or the object an assignment `Holder.name = ...` is made on. */
function holderOf(n: ts.Node): string | undefined {
  if (ts.isBinaryExpression(n) && ts.isPropertyAccessExpression(n.left) && ts.isIdentifier(n.left.expression))
    return n.left.expression.text;
  for (let p: ts.Node | undefined = n.parent; p; p = p.parent) {
    if (ts.isClassLike(p)) return p.name?.text;
  }
  return undefined;
}

/** The name token a node declares, if it is a declaration in the sense of {@link AnchorTarget} 'declaration'. */
function declaredName(n: ts.Node): ts.Identifier | ts.PrivateIdentifier | undefined {
  if (
    (ts.isVariableDeclaration(n) ||
      ts.isFunctionDeclaration(n) ||
      ts.isClassDeclaration(n) ||
      ts.isParameter(n) ||
      ts.isPropertyDeclaration(n) ||
      ts.isGetAccessorDeclaration(n) ||
      ts.isPropertyAssignment(n) ||
      ts.isShorthandPropertyAssignment(n) ||
      ts.isBindingElement(n) ||
      ts.isMethodDeclaration(n)) &&
    n.name &&
    (ts.isIdentifier(n.name) || ts.isPrivateIdentifier(n.name))
  ) {
    return n.name;
  }
  if (
    ts.isBinaryExpression(n) &&
    n.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
    ts.isPropertyAccessExpression(n.left)
  )
    return n.left.name;
  return undefined;
}

function calleeName(e: ts.Expression): ts.Identifier | ts.PrivateIdentifier | undefined {
  if (ts.isIdentifier(e)) return e;
  if (ts.isPropertyAccessExpression(e)) return e.name;
  return undefined;
}

function describe(target: AnchorTarget): string {
  if (target.kind === 'position') return 'the reported position';
  if (target.kind === 'declaration') return `a declaration of \`${target.name}\``;
  if (target.kind === 'call') return `a call of ${target.names.map((n) => '`' + n + '()`').join(' or ')}`;
  return `\`new ${target.name}(...)\``;
}

/**
 * Anchors a reported position. `targets` are tried in order (the first that matches wins); `trusted` says the text
 * is what the program ran, so the reported line can be taken without a parse when it shows a target.
 */
export function anchor(
  at: AnchorText,
  line1: number,
  column1: number,
  targets: AnchorTarget[],
  trusted: boolean,
): AnchorResult {
  const line = line1 - 1;
  const col = Math.max(0, column1 - 1);
  if (targets.length === 0 || (trusted && targets.length === 1 && targets[0].kind === 'position')) {
    // Nothing to recognise the place by: only an unchanged file can be marked, at the token at the position.
    if (!trusted)
      return { ok: false, reason: 'the file changed since the snapshot and the location has no name to find it by' };
    if (line >= at.lineCount) return { ok: false, reason: `line ${line1} is past the end of the file` };
    const text = at.line(line);
    const word = /[\w$]+/g;
    let m: RegExpExecArray | null;
    let range: [number, number] | undefined;
    while ((m = word.exec(text))) {
      // The word at the position, or that ends right before it: V8 places a function at its parameter list.
      if (m.index + m[0].length >= col) {
        range = [m.index, m.index + m[0].length];
        break;
      }
    }
    if (!range) return { ok: false, reason: `line ${line1} has no code at column ${column1}` };
    return {
      ok: true,
      range: { start: { line, character: range[0] }, end: { line, character: range[1] } },
      moved: false,
    };
  }
  if (trusted && line < at.lineCount) {
    const text = at.line(line);
    for (const t of targets) {
      if (t.kind === 'position') return anchor(at, line1, column1, [], true);
      const hit = pickOnLine(matchesOnLine(text, t), col);
      if (hit)
        return {
          ok: true,
          range: { start: { line, character: hit[0] }, end: { line, character: hit[1] } },
          moved: false,
        };
    }
  }
  for (const t of targets) {
    if (t.kind === 'position') continue;
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
  return { ok: false, reason: `${targets.map(describe).join(' or ')} is no longer in the file` };
}
