/**
 * A retainer path as a list: GC root first, leaked object last; every step with a source location is a link. A step's
 * words come from render/steps.ts, as in the CLI, the VS Code markdown and the language server.
 */
import { edgeText as stepEdgeText, stepNodeText } from '../../../render/steps';
import type { RetainerStep } from '../../../protocol/webview';
import type { App } from '../app';
import { h } from '../dom';

/** How an edge reads in code: `.name` for properties, `[3]` for elements, `name` for closure variables. */
export function edgeText(edge: string, edgeType: string): string {
  return stepEdgeText({ edge, edgeType });
}

export function renderPath(app: App, steps: RetainerStep[], label: string): HTMLElement {
  if (steps.length === 0)
    return h('p', { class: 'muted' }, 'No retainer path: the object is not reachable from a GC root.');
  const list = h('ol', { class: 'path', attrs: { 'aria-label': label } });
  steps.forEach((s, i) => {
    const li = h('li', { class: s.owner ? 'owner' : '', attrs: { 'data-node-id': s.nodeId } });
    if (i === 0 && !s.edge)
      li.append(h('span', { class: 'node' }, stepNodeText(s, true)), ' ', h('span', { class: 'muted' }, '(root)'));
    else {
      li.append(
        h(
          'span',
          { class: `edge edge-${s.edgeType}`, attrs: { title: `${s.edgeType} edge` } },
          edgeText(s.edge, s.edgeType),
        ),
        h('span', { class: 'arrow', attrs: { 'aria-hidden': 'true' } }, ' → '),
        h('span', { class: 'node' }, stepNodeText(s, false)),
        ' ',
        h('span', { class: 'muted id' }, `@${s.nodeId}`),
      );
    }
    if (s.location) li.append(' ', app.link(s.location));
    if (s.owner)
      li.append(
        ' ',
        h('span', { class: 'badge', attrs: { title: 'The reference that keeps the leaked objects alive' } }, 'owner'),
      );
    list.appendChild(li);
  });
  return list;
}
