/**
 * The memory webview's shell: tabs for the views the panel has data for, and the message loop with the extension.
 * Tabs follow the WAI-ARIA tabs pattern (arrow keys, Home, End move between tabs; Tab goes into the panel).
 */
import type { PanelState, ToWebview, ViewId } from '../../protocol/webview';
import { App, Focus } from './app';
import { h, replace } from './dom';
import { ComparisonView, SummaryView } from './views/classes';
import { GrowthView } from './views/growth';
import { LeaksView } from './views/leaks';
import { RetainersView } from './views/retainers';
import { TimelineView } from './views/timeline';

performance.mark('leak-lens:script-start');

const tabNames: Record<ViewId, string> = {
  timeline: 'Timeline',
  growth: 'Growth',
  leaks: 'Leak groups',
  retainers: 'Retainers',
  summary: 'Summary',
  comparison: 'Comparison',
};

const app = new App();
const views = {
  timeline: new TimelineView(app),
  growth: new GrowthView(app),
  leaks: new LeaksView(app),
  retainers: new RetainersView(app),
  summary: new SummaryView(app),
  comparison: new ComparisonView(app),
};

const title = h('h1');
const tablist = h('div', { class: 'tabs', attrs: { role: 'tablist', 'aria-label': 'Views' } });
const statusLine = h('div', { class: 'status', attrs: { role: 'status', 'aria-live': 'polite' } });
const panels = new Map<ViewId, HTMLElement>();
const tabs = new Map<ViewId, HTMLButtonElement>();
let current: ViewId | undefined;

for (const id of Object.keys(views) as ViewId[]) {
  const panel = h(
    'section',
    { id: `panel-${id}`, class: 'panel', attrs: { role: 'tabpanel', 'aria-labelledby': `tab-${id}`, tabindex: -1 } },
    views[id].el,
  );
  panel.hidden = true;
  panels.set(id, panel);
}

document.body.append(h('header', { class: 'top' }, title, tablist), statusLine, ...panels.values());

function renderTabs(state: PanelState): void {
  tabs.clear();
  replace(tablist);
  for (const id of state.views) {
    // A report of the sampling mode lists growing allocation stacks, not leak groups.
    const name = id === 'leaks' && state.report?.sampling ? 'Growing stacks' : tabNames[id];
    const tab = h(
      'button',
      {
        id: `tab-${id}`,
        class: 'tab',
        attrs: {
          role: 'tab',
          type: 'button',
          'aria-controls': `panel-${id}`,
          'aria-selected': 'false',
          tabindex: -1,
          'data-view': id,
        },
      },
      name,
    );
    tab.addEventListener('click', () => show(id));
    tab.addEventListener('keydown', (e) => {
      const ids = app.state.views;
      const i = ids.indexOf(id);
      const next =
        e.key === 'ArrowRight'
          ? (i + 1) % ids.length
          : e.key === 'ArrowLeft'
            ? (i - 1 + ids.length) % ids.length
            : e.key === 'Home'
              ? 0
              : e.key === 'End'
                ? ids.length - 1
                : -1;
      if (next >= 0) {
        e.preventDefault();
        show(ids[next]);
        tabs.get(ids[next])?.focus();
      }
    });
    tabs.set(id, tab);
    tablist.append(tab);
  }
}

function show(id: ViewId, focus?: Focus, group?: string): void {
  if (!app.state.views.includes(id)) return;
  current = id;
  for (const [v, tab] of tabs) {
    const on = v === id;
    tab.setAttribute('aria-selected', String(on));
    tab.tabIndex = on ? 0 : -1;
  }
  for (const [v, panel] of panels) panel.hidden = v !== id;
  app.save({ view: id });
  if (id === 'timeline') views.timeline.activate();
  if (id === 'growth') views.growth.activate();
  if (id === 'summary') views.summary.activate();
  if (id === 'comparison') views.comparison.activate();
  if (id === 'leaks' && group) views.leaks.selectGroup(group);
  if (id === 'retainers' && focus) {
    views.retainers.open(focus, focus.name);
    panels.get(id)?.focus();
  }
}

app.showView = show;
app.status = (text, kind = 'info') => {
  statusLine.className = `status ${kind}`;
  statusLine.textContent = text;
};

function setState(state: PanelState): void {
  performance.mark('leak-lens:state');
  app.state = state;
  title.textContent = state.title;
  document.title = state.title;
  renderTabs(state);
  const saved = app.saved().view;
  // A group or an object asked for wins over the view the panel was on.
  const first = state.focus
    ? 'retainers'
    : state.group && state.views.includes('leaks')
      ? 'leaks'
      : saved && state.views.includes(saved)
        ? saved
        : state.initialView;
  // The first view is visible before it is filled, so its charts are drawn once, at their real width.
  for (const [v, panel] of panels) panel.hidden = v !== first;
  views.retainers.setSnapshots(state.snapshots);
  views.summary.setSnapshots();
  views.comparison.setSnapshots();
  views.leaks.setReport(state.report);
  views.growth.setReport(state.report?.sampling ? undefined : state.report);
  if (state.timeline) views.timeline.reset(state.timeline.samples, state.timeline.markers, state.timeline.live);
  show(first, state.focus, state.group);
  performance.mark('leak-lens:state-shown');
}

window.addEventListener('message', (e: MessageEvent) => {
  const msg = e.data as ToWebview;
  if (!msg || typeof msg !== 'object') return;
  if (app.receive(msg)) return;
  switch (msg.type) {
    case 'state':
      setState(msg.state);
      break;
    case 'snapshots':
      app.state = { ...app.state, snapshots: msg.snapshots };
      break;
    case 'samples':
      views.timeline.add(msg.samples, msg.markers);
      break;
    case 'show':
      show(msg.view, msg.focus, msg.group);
      break;
  }
});

window.addEventListener('error', (e) =>
  app.post({ type: 'error', message: `${e.message} (${e.filename}:${e.lineno})` }),
);
window.addEventListener('unhandledrejection', (e) => app.post({ type: 'error', message: String(e.reason) }));

performance.mark('leak-lens:ready-posted');
app.post({ type: 'ready' });
void current;
