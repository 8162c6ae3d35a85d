/**
 * Building DOM without HTML: every string becomes a text node or a plain attribute value, so text that came out of a
 * heap snapshot (class names, property names, string contents) is shown as characters and never parsed as markup.
 * Nothing in the webview assigns innerHTML or outerHTML (eslint forbids it under media/).
 */
import { formatBytes } from '../../render/timeline';

export { formatBytes };

export type Child = Node | string | number | null | undefined | false;

export interface Props {
  class?: string;
  id?: string;
  /** Plain attributes (role, aria-*, title, type, tabindex...). Event handler attributes and `style` are refused. */
  attrs?: Record<string, string | number | boolean | undefined>;
  on?: { [K in keyof HTMLElementEventMap]?: (e: HTMLElementEventMap[K]) => void };
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props?: Props | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props) {
    if (props.class) el.className = props.class;
    if (props.id) el.id = props.id;
    if (props.attrs) {
      for (const [name, value] of Object.entries(props.attrs)) {
        if (value === undefined || value === false) continue;
        if (/^on/i.test(name) || name === 'style' || name === 'srcdoc') throw new Error(`refusing attribute ${name}`);
        el.setAttribute(name, value === true ? '' : String(value));
      }
    }
    if (props.on) {
      for (const [type, fn] of Object.entries(props.on)) el.addEventListener(type, fn as EventListener);
    }
  }
  append(el, ...children);
  return el;
}

export function append(el: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/** Replaces an element's children. */
export function replace(el: Node, ...children: Child[]): void {
  while (el.firstChild) el.removeChild(el.firstChild);
  append(el, ...children);
}

const countFormat = new Intl.NumberFormat('en-US');

export function formatCount(n: number): string {
  return countFormat.format(n);
}

export function formatSigned(n: number): string {
  return (n > 0 ? '+' : n < 0 ? '−' : '') + countFormat.format(Math.abs(n));
}

export function formatSignedBytes(n: number): string {
  return (n > 0 ? '+' : n < 0 ? '−' : '') + formatBytes(Math.abs(n));
}

export function formatPercent(part: number, whole: number): string {
  if (!whole) return '';
  const p = (100 * part) / whole;
  return p >= 10 ? `${Math.round(p)} %` : p >= 0.1 ? `${p.toFixed(1)} %` : '< 0.1 %';
}

/** Activates on click, Enter and Space, as links and buttons should. */
export function onActivate(el: HTMLElement, fn: (e: Event) => void): void {
  el.addEventListener('click', (e) => {
    e.preventDefault();
    fn(e);
  });
  el.addEventListener('keydown', (e) => {
    if (e.key === ' ' || (e.key === 'Enter' && el.tagName !== 'A' && el.tagName !== 'BUTTON')) {
      e.preventDefault();
      fn(e);
    }
  });
}

/** Reads a theme colour from VS Code's CSS variables, with a fallback for a missing one. */
export function themeColor(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

/** Moves focus among `items` with arrow keys, Home, End, PageUp and PageDown; one item is in the tab order. */
export function rovingIndex(key: string, current: number, count: number, pageSize = 10): number | undefined {
  switch (key) {
    case 'ArrowDown':
      return Math.min(count - 1, current + 1);
    case 'ArrowUp':
      return Math.max(0, current - 1);
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    case 'PageDown':
      return Math.min(count - 1, current + pageSize);
    case 'PageUp':
      return Math.max(0, current - pageSize);
    default:
      return undefined;
  }
}
