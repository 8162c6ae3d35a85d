/**
 * One retainer step as text: `.handler -> anonymous() (leaky-server.js:40)`. The CLI, the VS Code markdown, the
 * language server (diagnostics, related information, hovers) and the webview's path view all render a step with
 * these functions, so each says the same thing about it: the edge as code would read it, the object it leads to, and
 * where that object's function or constructor is written (file and line, as in the report). Plain text only: each
 * view escapes it (markdown) or sets it as text (DOM), and links the location itself when it can. No imports but
 * types: no Node modules, so the webview bundle can use it too.
 */
import type { RetainerStep } from '../engine/report';
import type { SourceLocation } from '../engine/source';

/** The arrow between an edge and the object it leads to. */
export const STEP_ARROW = ' -> ';

/**
 * How the edge into a step reads in code: `.name` for a property, `[3]` for an element or an index (a numeric name of
 * any edge type, such as the root's shortcut to a global object), `name` for a variable of a closure's scope. Empty for
 * the first step (the root), which no edge leads to.
 */
export function edgeText(step: Pick<RetainerStep, 'edge' | 'edgeType'>): string {
  const edge = step.edge;
  if (!edge) return '';
  if (/^\[.*\]$/.test(edge)) return edge;
  if (/^\d+$/.test(edge) || step.edgeType === 'element' || step.edgeType === 'hidden') return `[${edge}]`;
  if (step.edgeType === 'context') return edge;
  return `.${edge}`;
}

/**
 * The object a step leads to: its class or function name, with V8's ` / <url>` suffix of global objects dropped when
 * the url is empty (`global / ` reads `global`). The first step with no name is the GC roots; a nameless object says
 * its type.
 */
export function stepNodeText(step: Pick<RetainerStep, 'node' | 'nodeType'>, first: boolean): string {
  const name = step.node.replace(/\s+\/\s*$/, '').trim();
  if (name) return name;
  return first ? '(GC roots)' : `(${step.nodeType || 'object'})`;
}

/** `.handler -> anonymous()`: the edge and the object, without the location. */
export function stepLabel(step: RetainerStep, index: number): string {
  const edge = edgeText(step);
  return `${edge ? edge + STEP_ARROW : ''}${stepNodeText(step, index === 0)}`;
}

/** `leaky-server.js:40`: a location as a file (shown by `display`, the base name by default) and its line. */
export function stepWhere(loc: SourceLocation, display: (file: string) => string = baseName): string {
  return `${display(loc.file)}:${loc.line}`;
}

/** `.handler -> anonymous() (leaky-server.js:40)`: the whole step, its location in parentheses when it has one. */
export function stepText(step: RetainerStep, index: number, display?: (file: string) => string): string {
  const label = stepLabel(step, index);
  return step.location ? `${label} (${stepWhere(step.location, display)})` : label;
}

/** The last segment of a path, with `/` or `\` as separators. */
export function baseName(file: string): string {
  const cut = Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\'));
  return cut >= 0 ? file.slice(cut + 1) : file;
}
