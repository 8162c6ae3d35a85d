/**
 * The real webview bundle in headless Chromium, fed by real reports of real programs: `leak-lens run` on the demo
 * server, and fixture apps analysed by the engine worker. Every page the webview asks for is answered by the real
 * controller and engine. Checks what a person sees and clicks, and saves screenshots in .leak-lens/screenshots.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Locator } from 'playwright-core';
import { EngineClient } from '../../engine/client';
import type { FromWebview } from '../../protocol/webview';
import { fixture } from '../helpers/fixtures';
import { launchBrowser, repoRoot, serveWebview, Server, WebviewPage } from './harness';
import { corpusReport, demoReport, DemoRun } from './reports';
import type { ThemeName } from './themes';
import type { LeakReport } from '../../protocol/report';
import { STEP_ARROW, stepLabel, stepWhere } from '../../render/steps';

type Query = Extract<FromWebview, { type: 'query' }>;

// Code passed to page.evaluate runs in the browser; these are the few DOM names it uses (this build has no DOM lib).
interface PageElement {
  getAttribute(name: string): string | null;
  classList: { contains(name: string): boolean };
}
declare const document: {
  activeElement: PageElement | null;
  querySelectorAll(selector: string): { length: number };
  scripts: ArrayLike<{ src: string }>;
  body: { textContent: string | null };
};
declare function requestAnimationFrame(callback: () => void): number;
declare function getComputedStyle(element: unknown): { backgroundColor: string };

const isQuery =
  (kind: string, match: (q: Query['query']) => boolean = () => true) =>
  (m: FromWebview) =>
    m.type === 'query' && m.query.kind === kind && match(m.query);

async function texts(l: Locator): Promise<string[]> {
  return (await l.allTextContents()).map((t) => t.trim());
}

describe('memory webview in Chromium', () => {
  let browser: Browser;
  let server: Server;
  let engine: EngineClient;
  let leaky: DemoRun;
  let basic: LeakReport;
  let hostile: LeakReport;
  const pages: WebviewPage[] = [];

  before(async () => {
    browser = await launchBrowser();
    server = await serveWebview();
    engine = new EngineClient(1024);
    leaky = demoReport('leaky-server');
    const b = await engine.request({ kind: 'analyze', files: fixture('basic-leak').files });
    const h = await engine.request({ kind: 'analyze', files: fixture('hostile-strings').files });
    assert.ok(b.ok && h.ok);
    basic = b.value;
    hostile = h.value;
  });

  after(async () => {
    for (const p of pages) await p.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    await engine?.dispose();
  });

  async function open(
    report: LeakReport | undefined,
    o: {
      theme?: ThemeName;
      input?: Parameters<typeof WebviewPage.open>[2]['input'];
      width?: number;
      height?: number;
    } = {},
  ): Promise<WebviewPage> {
    const w = await WebviewPage.open(browser, server, {
      engine,
      theme: o.theme,
      width: o.width,
      height: o.height,
      input: o.input ?? { title: 'Leak Lens report', report, root: repoRoot },
    });
    pages.push(w);
    return w;
  }

  /** What must hold on every page at the end: nothing ran that should not, nothing broke. */
  async function clean(w: WebviewPage): Promise<void> {
    await w.settled();
    assert.deepEqual(await w.cspViolations(), [], 'content security policy violations');
    assert.deepEqual(w.dialogs, [], 'dialogs opened by the page');
    assert.deepEqual(
      w.errors.filter((e) => !/favicon|404/.test(e)),
      [],
      'page errors',
    );
  }

  test('leak groups from `leak-lens run` on the demo server: the row, the details, and links that open the right line', async () => {
    const w = await open(leaky.report);
    const page = w.page;
    const rows = page.locator('table.leaks tbody tr[data-index]');
    await rows.first().waitFor();
    assert.equal(await rows.count(), leaky.report.leaks.length);
    const cells = await texts(rows.first().locator('td'));
    assert.equal(cells[0], 'Connection');
    assert.equal(cells[1], '200');
    assert.equal(cells[2], '+100');
    assert.match(cells[3], /^1\.5 MB/);
    assert.equal(cells[4], '_connections demo/leaky-server.js:28');
    assert.match(
      await page.locator('.banner', { hasText: 'leak found' }).innerText(),
      /1 leak found across 3 snapshots \(2 rounds; heap grew [\d.]+ MB\) in pid \d+/,
    );

    // The details: owner, class, allocation site, and a retainer path whose located steps are links.
    const detail = page.locator('section.detail');
    assert.match(
      await detail.locator('dl.facts').innerText(),
      /Held by\s+_connections \(variable\) demo\/leaky-server\.js:28/,
    );
    const group = leaky.report.leaks[0];
    // The site's count is what V8's allocation tracker attributed to it: objects that optimized code made without an
    // allocation event are not counted, so it can be below the group's 200. The view shows the report's figure.
    const site = group.allocationSites[0];
    assert.ok(site.count > 0 && site.count <= 200, `accept() made ${site.count} of the 200 new objects`);
    assert.match(
      await detail.locator('dl.facts').innerText(),
      new RegExp(
        `Allocated in\\s+accept\\(\\) demo/leaky-server\\.js:32 — ${site.count.toLocaleString('en-US')} objects`,
      ),
    );
    const steps = detail.locator('ol.path > li');
    assert.equal(await steps.count(), group.retainerPath.length);
    assert.equal(await detail.locator('ol.path a.loc').count(), group.retainerPath.filter((s) => s.location).length);
    assert.equal(await detail.locator('ol.path li.owner .edge').innerText(), '_connections');
    // Each step reads as in the CLI, the markdown, the hover and the related information (all made by render/steps.ts;
    // test/server/demos.test.ts checks those four on a report of the same demo): the edge, the object, the file and line.
    for (const [i, s] of group.retainerPath.entries()) {
      const li = steps.nth(i);
      const node = await li.locator('.node').innerText();
      const shown = i === 0 && !s.edge ? node : `${await li.locator('.edge').innerText()}${STEP_ARROW}${node}`;
      assert.equal(shown, stepLabel(s, i), `step ${i + 1} of the panel's path`);
      if (s.location)
        assert.equal(
          await li.locator('a.loc').innerText(),
          stepWhere(s.location, (f) => path.relative(repoRoot, f)),
          `step ${i + 1}'s link`,
        );
    }

    // A click on the owner's link asks the extension to open demo/leaky-server.js:28; the controller opens it.
    const opened = w.waitForOpened();
    await detail.locator('dl.facts a.loc').first().click();
    const msg = await w.waitForPosted((m) => m.type === 'openLocation');
    assert.deepEqual(msg, {
      type: 'openLocation',
      file: path.join(repoRoot, 'demo', 'leaky-server.js'),
      line: 28,
      column: 1,
    });
    assert.deepEqual(await opened, group.owner.location);

    // From the keyboard: Enter on the last path step's link opens the class definition at line 8, Space works too.
    const last = detail.locator('ol.path > li').last().locator('a.loc');
    await last.focus();
    const before = w.posted.length;
    await page.keyboard.press('Enter');
    const byEnter = await w.waitForPosted((m) => m.type === 'openLocation', before);
    assert.deepEqual(byEnter, {
      type: 'openLocation',
      file: path.join(repoRoot, 'demo', 'leaky-server.js'),
      line: 8,
      column: group.retainerPath[group.retainerPath.length - 1].location!.column,
    });
    const beforeSpace = w.posted.length;
    await page.keyboard.press(' ');
    await w.waitForPosted((m) => m.type === 'openLocation', beforeSpace);
    await clean(w);
  });

  test('links of the TypeScript demo open the original .ts line; the host also gets the generated position', async () => {
    const ts = demoReport('ts-app', 'demo/ts-app/dist/server.js');
    const w = await open(ts.report);
    const page = w.page;
    const owner = page.locator('section.detail dl.facts dd').first().locator('a.loc');
    await owner.waitFor();
    assert.equal(await owner.innerText(), 'demo/ts-app/src/store.ts:37');
    assert.match((await owner.getAttribute('title')) ?? '', /runs as .*demo\/ts-app\/dist\/store\.js:21/);
    const opened = w.waitForOpened();
    await owner.click();
    const loc = await opened;
    assert.equal(loc.file, path.join(repoRoot, 'demo', 'ts-app', 'src', 'store.ts'));
    assert.equal(loc.line, 37);
    assert.equal(loc.generated?.file, path.join(repoRoot, 'demo', 'ts-app', 'dist', 'store.js'));
    // A retainer path asked for later (not from the report) is source-mapped as well, and its links open.
    await page.locator('section.detail button:has-text("Explore retainers")').click();
    const step = page.locator('#panel-retainers ol.path a.loc', { hasText: 'store.ts' }).last();
    await step.waitFor();
    const opened2 = w.waitForOpened();
    await step.click();
    assert.match((await opened2).file, /src\/store\.ts$/);
    await clean(w);
  });

  test('the leak table sorts by clicking its headers and from the keyboard, and arrow keys move between rows', async () => {
    const w = await open(basic);
    const page = w.page;
    const classes = () => texts(page.locator('table.leaks tbody tr td:first-child'));
    await page.locator('table.leaks tbody tr[data-index]').first().waitFor();
    assert.deepEqual(new Set(await classes()), new Set(basic.leaks.map((l) => l.className)));
    assert.ok(basic.leaks.length >= 2, 'the basic-leak fixture has two leak groups');
    const byName = [...basic.leaks].map((l) => l.className).sort((a, b) => a.localeCompare(b));

    await page.locator('table.leaks th button[data-key=className]').click();
    assert.deepEqual(await classes(), byName);
    assert.equal(
      await page.locator('table.leaks th:has(button[data-key=className])').getAttribute('aria-sort'),
      'ascending',
    );
    // Enter on the focused header reverses the order.
    await page.keyboard.press('Enter');
    assert.deepEqual(await classes(), [...byName].reverse());
    assert.equal(
      await page.locator('table.leaks th:has(button[data-key=className])').getAttribute('aria-sort'),
      'descending',
    );
    await page.locator('table.leaks th button[data-key=retainedSize]').press(' ');
    const bySize = [...basic.leaks].sort((a, b) => b.retainedSize - a.retainedSize).map((l) => l.className);
    assert.deepEqual(await classes(), bySize);

    // Tab reaches the table's one focusable row; arrows move; Enter shows that group's details.
    await page.locator('table.leaks tbody tr[tabindex="0"]').focus();
    await page.keyboard.press('End');
    const focused = await page.evaluate(() => document.activeElement?.getAttribute('data-index'));
    assert.equal(focused, String(basic.leaks.length - 1));
    await page.keyboard.press('Enter');
    assert.match(await page.locator('section.detail h2').innerText(), new RegExp(`^${bySize[bySize.length - 1]} ×`));
    await page.keyboard.press('Home');
    await page.keyboard.press('Enter');
    assert.match(await page.locator('section.detail h2').innerText(), new RegExp(`^${bySize[0]} ×`));
    await clean(w);
  });

  test('tabs work from the keyboard; the summary is paged and sorted by the engine, and a class opens its objects', async () => {
    const w = await open(leaky.report);
    const page = w.page;
    await page.locator('[role=tab][aria-selected=true]').focus();
    // Leak groups, Growth, Retainers, Summary: three steps to the right.
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
    assert.equal(await page.locator('#tab-summary').getAttribute('aria-selected'), 'true');
    const first = await w.waitForPosted(isQuery('summary'));
    assert.deepEqual((first as Query).query, {
      kind: 'summary',
      snapshot: 2,
      offset: 0,
      limit: 100,
      sort: { key: 'retainedSize', dir: 'desc' },
    });
    const rows = page.locator('#panel-summary table.grid tbody tr[data-index]');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 100);
    const full = await engine.request({ kind: 'summary', file: leaky.report.snapshots[2].file, offset: 0, limit: 1e6 });
    assert.ok(full.ok);
    assert.equal(
      await page.locator('#panel-summary [data-pager=classes] .pager-text').innerText(),
      `Classes 1–100 of ${full.value.total.toLocaleString('en-US')}`,
    );
    assert.equal((await texts(rows.first().locator('td')))[0], full.value.items[0].className);

    // Sort by object count: a new page, from the extension, largest count first.
    const n = w.posted.length;
    await page.locator('#panel-summary th button[data-key=count]').click();
    const sorted = (await w.waitForPosted(
      isQuery('summary', (q) => q.kind === 'summary' && q.sort?.key === 'count'),
      n,
    )) as Query;
    assert.deepEqual(sorted.query.kind === 'summary' && sorted.query.sort, { key: 'count', dir: 'desc' });
    const maxCount = Math.max(...full.value.items.map((r) => r.count));
    await page
      .locator(`#panel-summary tbody tr[data-index="0"] td:nth-child(3):text-is("${maxCount.toLocaleString('en-US')}")`)
      .waitFor();

    // Next page.
    const n2 = w.posted.length;
    await page.locator('#panel-summary [data-pager=classes] button:has-text("Next")').click();
    const next = (await w.waitForPosted(isQuery('summary'), n2)) as Query;
    assert.equal(next.query.kind === 'summary' && next.query.offset, 100);
    await page.locator('#panel-summary [data-pager=classes] .pager-text:has-text("Classes 101–")').waitFor();

    // Filter, then Enter on the class: its objects, paged; Enter on an object: its retainers.
    await page.locator('#panel-summary input[type=search]').fill('Connection');
    await page.locator('#panel-summary [data-status=classes]:has-text("matching")').waitFor();
    const conn = page.locator('#panel-summary table.grid tbody tr[data-index]', {
      has: page.locator('td:first-child span.cls:text-is("Connection")'),
    });
    await conn.waitFor();
    await conn.focus();
    await page.keyboard.press('Enter');
    const objects = page.locator('#panel-summary section.objects tbody tr[data-index]');
    await objects.first().waitFor();
    assert.equal(await objects.count(), 50);
    assert.match(
      await page.locator('#panel-summary [data-pager=objects] .pager-text').innerText(),
      /^Objects 1–50 of 40\d$/,
    );
    const firstObject = await objects.first().locator('td').first().innerText();
    const id = Number(/@(\d+)/.exec(firstObject)![1]);
    await objects.first().focus();
    await page.keyboard.press('Enter');
    await page.locator('#panel-retainers:not([hidden])').waitFor();
    assert.equal(await page.locator('#tab-retainers').getAttribute('aria-selected'), 'true');
    await w.waitForPosted(isQuery('retainers', (q) => q.kind === 'retainers' && q.nodeId === id && q.offset === 0));
    await page.locator('#panel-retainers [role=treeitem]').first().waitFor();
    assert.match(await page.locator('#panel-retainers h2').innerText(), new RegExp(`Retainers of Connection @${id}`));
    await page.locator('#panel-retainers ol.path').waitFor();
    await clean(w);
  });

  test('comparison of two snapshots as in DevTools: new, deleted and delta per class, sortable', async () => {
    const w = await open(leaky.report);
    const page = w.page;
    await page.locator('#tab-comparison').click();
    const q = (await w.waitForPosted(isQuery('compare'))) as Query;
    assert.deepEqual(q.query, {
      kind: 'compare',
      base: 0,
      target: 2,
      offset: 0,
      limit: 100,
      sort: { key: 'sizeDelta', dir: 'desc' },
    });
    const row = page.locator('#panel-comparison tbody tr[data-index]', {
      has: page.locator('td:first-child span.cls:text-is("Connection")'),
    });
    await row.waitFor();
    const cells = await texts(row.locator('td'));
    assert.deepEqual(cells.slice(1, 4), ['200', '0', '+200']);
    const n = w.posted.length;
    await page.locator('#panel-comparison th button[data-key=countDelta]').click();
    await w.waitForPosted(
      isQuery('compare', (x) => x.kind === 'compare' && x.sort?.key === 'countDelta'),
      n,
    );
    await page.locator('#panel-comparison th[aria-sort=descending]:has(button[data-key=countDelta])').waitFor();
    // Choosing another base asks again.
    const n2 = w.posted.length;
    await page.locator('#panel-comparison select[aria-label="Base snapshot"]').selectOption('1');
    const again = (await w.waitForPosted(isQuery('compare'), n2)) as Query;
    assert.equal(again.query.kind === 'compare' && again.query.base, 1);
    await page
      .locator('#panel-comparison [data-status=classes]:has-text("from after round 1 to after round 2")')
      .waitFor();
    const cells2 = await texts(
      page.locator('#panel-comparison tbody tr', { has: page.locator('span.cls:text-is("Connection")') }).locator('td'),
    );
    assert.equal(cells2[3], '+100');
    await clean(w);
  });

  test('the retainers tree pages, expands and collapses from the keyboard, and shows the path of any object', async () => {
    const w = await open(basic);
    const page = w.page;
    await page.locator('section.detail button:has-text("Explore retainers")').first().click();
    const tree = page.locator('#panel-retainers [role=tree]');
    await tree.locator('[role=treeitem]').first().waitFor();
    // Right on a retainer asks for that object's retainers, one level down.
    const top = tree.locator(':scope > [role=treeitem]').first();
    await top.focus();
    const n = w.posted.length;
    await page.keyboard.press('ArrowRight');
    const child = (await w.waitForPosted(isQuery('retainers'), n)) as Query;
    assert.equal(
      child.query.kind === 'retainers' && child.query.nodeId,
      Number(await top.getAttribute('data-node-id')),
    );
    assert.equal(await top.getAttribute('aria-expanded'), 'true');
    await top.locator('[role=group] [role=treeitem], [role=group] .tree-note').first().waitFor();
    assert.equal(await top.locator('[role=group] [role=treeitem]').first().getAttribute('aria-level'), '2');
    await page.keyboard.press('ArrowLeft');
    assert.equal(await top.getAttribute('aria-expanded'), 'false');
    // P shows the path of the selected object.
    const n2 = w.posted.length;
    await page.keyboard.press('p');
    await w.waitForPosted(
      isQuery(
        'retainerPath',
        (q) => q.kind === 'retainerPath' && q.nodeId === Number(child.query.kind === 'retainers' && child.query.nodeId),
      ),
      n2,
    );
    await page
      .locator(`#panel-retainers .path-box p:has-text("@${child.query.kind === 'retainers' ? child.query.nodeId : 0}")`)
      .waitFor();

    // Paging: an object with more than 50 retainers.
    const map = await manyRetainers(basic.snapshots[2].file);
    await w.deliver({ type: 'show', view: 'retainers', focus: { snapshot: 2, nodeId: map.nodeId } });
    await page.locator('#panel-retainers .tree-more').waitFor();
    assert.equal(await tree.locator(':scope > [role=treeitem]:not(.tree-more)').count(), 50);
    assert.match(
      await page.locator('#panel-retainers .tree-more').innerText(),
      new RegExp(`Show 50 more of ${(map.total - 50).toLocaleString('en-US')} remaining`),
    );
    await tree.locator(':scope > [role=treeitem]').first().focus();
    await page.keyboard.press('End');
    assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('tree-more')), true);
    const n3 = w.posted.length;
    await page.keyboard.press('Enter');
    const more = (await w.waitForPosted(isQuery('retainers'), n3)) as Query;
    assert.deepEqual(more.query, { kind: 'retainers', snapshot: 2, nodeId: map.nodeId, offset: 50, limit: 50 });
    await page.waitForFunction(
      (want) =>
        document.querySelectorAll('#panel-retainers [role=tree] > [role=treeitem]:not(.tree-more)').length === want,
      Math.min(100, map.total),
    );
    // The keyboard stays on the first new row.
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-level')), '1');
    await clean(w);
  });

  /** An object in `file` with hundreds of retainers: the string 'fixture', the user agent of every connection. */
  async function manyRetainers(file: string): Promise<{ nodeId: number; total: number }> {
    const strings = await engine.request({ kind: 'objects', file, className: '(string)', offset: 0, limit: 1e6 });
    assert.ok(strings.ok);
    const s = strings.value.items.find((o) => o.name === 'fixture');
    assert.ok(s, "no string 'fixture' in the snapshot");
    const r = await engine.request({ kind: 'retainers', file, nodeId: s.nodeId, offset: 0, limit: 1 });
    assert.ok(r.ok && r.value.total > 100, `the string has ${r.ok ? r.value.total : '?'} retainers`);
    return { nodeId: s.nodeId, total: r.value.total };
  }

  test('growth graphs draw the fastest growing classes, chosen by checkboxes, by count or size', async () => {
    const w = await open(leaky.report);
    const page = w.page;
    await page.locator('#tab-growth').click();
    const chart = page.locator('#panel-growth .chart');
    await chart.locator('canvas').waitFor();
    const boxes = page.locator('#panel-growth .growth-list input[type=checkbox]');
    assert.equal(await boxes.count(), leaky.report.classGrowth.length);
    assert.equal(await chart.getAttribute('data-series'), '5');
    const conn = page.locator('#panel-growth .growth-list tr', { has: page.locator('span.cls:text-is("Connection")') });
    assert.equal(await conn.locator('input').isChecked(), true, 'the leaking class is drawn from the start');
    assert.equal((await texts(conn.locator('td')))[2], '200 → 300 → 400');
    await conn.locator('input').press(' ');
    assert.equal(await chart.getAttribute('data-series'), '4');
    assert.equal(
      await conn.locator('input').evaluate((e) => e === document.activeElement),
      true,
      'focus stays on the checkbox',
    );
    await page.locator('#panel-growth input[type=radio][value=sizes]').check();
    assert.match((await texts(page.locator('#panel-growth .growth-list tbody tr').first().locator('td')))[2], /MB|KB/);
    await clean(w);
  });

  test('heap strings that are markup are shown as characters and never run', async () => {
    const w = await open(hostile);
    const page = w.page;
    const row = page.locator('table.leaks tbody tr[data-index]').first();
    await row.waitFor();
    const img = '<img src=x onerror=alert(1)>';
    const script = '</script><script>alert(2)</script>';
    assert.equal(await row.locator('td').first().innerText(), '<img>');
    assert.equal(await row.locator('.owner-name').innerText(), `Registry.${script}`);
    assert.equal(await page.locator('section.detail ol.path li.owner .edge').innerText(), `.${script}`);
    // The summary, filtered by the markup, and the objects of the class: their names are the whole string.
    await page.locator('#tab-summary').click();
    await page.locator('#panel-summary input[type=search]').fill('<img');
    const cls = page.locator('#panel-summary tbody tr', { has: page.locator('span.cls:text-is("<img>")') });
    await cls.waitFor();
    await cls.click();
    const obj = page.locator('#panel-summary section.objects tbody tr[data-index]').first();
    await obj.waitFor();
    assert.equal(await obj.locator('.obj-name').innerText(), img);
    // The retainers of a leaked object, one level up: the array held by the property named with markup.
    await page.locator('#tab-leaks').click();
    await page.locator('section.detail button:has-text("Explore retainers")').click();
    const top = page.locator('#panel-retainers [role=tree] > [role=treeitem]').first();
    await top.waitFor();
    await top.focus();
    await page.keyboard.press('ArrowRight');
    await top.locator('[role=group] [role=treeitem]').first().waitFor();
    const edges = await texts(top.locator('[role=group] .edge'));
    assert.ok(edges.includes(`.${script}`), edges.join(' | '));
    await w.screenshot('webview-hostile-strings-dark');
    // Nothing became an element: no images, no inline scripts, no handlers, no dialogs, no CSP reports.
    const dom = await page.evaluate(() => ({
      imgs: document.querySelectorAll('img').length,
      inline: Array.from(document.scripts).filter((s) => !s.src).length,
      handlers: document.querySelectorAll('[onerror],[onload],[onclick]').length,
      text: document.body.textContent ?? '',
    }));
    assert.deepEqual(
      { imgs: dom.imgs, inline: dom.inline, handlers: dom.handlers },
      { imgs: 0, inline: 0, handlers: 0 },
    );
    assert.ok(dom.text.includes(img) && dom.text.includes(script));
    await clean(w);
  });

  /** Opens a report and shows the group of `className` (a click on its row); returns the page and the details. */
  async function showGroup(
    report: LeakReport,
    className: string,
  ): Promise<{ w: WebviewPage; row: Locator; facts: Locator; detail: Locator }> {
    const w = await open(report);
    const row = w.page.locator('table.leaks tbody tr[data-index]', {
      has: w.page.locator(`span.cls:text-is("${className}")`),
    });
    await row.waitFor();
    await row.click();
    const detail = w.page.locator('section.detail');
    await detail.locator('h2 .cls', { hasText: className }).waitFor();
    return { w, row, facts: detail.locator('dl.facts'), detail };
  }

  /** The `dd` of the fact named `term` in the details. */
  function fact(facts: Locator, term: string): Locator {
    return facts.locator(`dt:text-is("${term}") + dd`);
  }

  /** Clicks a link and checks the extension is asked to open, and opens, exactly that place. */
  async function opens(
    w: WebviewPage,
    link: Locator,
    loc: { file: string; line: number; column: number } | undefined,
  ): Promise<void> {
    assert.ok(loc, 'a location');
    const opened = w.waitForOpened();
    await link.click();
    const got = await opened;
    assert.deepEqual(
      { file: got.file, line: got.line, column: got.column },
      { file: loc.file, line: loc.line, column: loc.column },
    );
  }

  test('new facts from real corpus runs: kind, chain link, collection growth and adding line, held through, related places, callers, creating stacks and threads, every place a link', async () => {
    // A chain: its kind beside the class, and the link that keeps each element.
    const chain = corpusReport('undo-history-chain').report;
    const rev = chain.leaks.find((g) => g.className === 'Revision')!;
    assert.equal(rev.kind, 'chain');
    let v = await showGroup(chain, 'Revision');
    assert.equal(await v.row.locator('.badge.kind').innerText(), 'chain');
    assert.equal((await texts(v.row.locator('td'))).at(-1), 'main');
    assert.equal(
      await fact(v.facts, 'Kind').innerText(),
      `chain: each Revision keeps the previous one alive through .${rev.chain!.link.join(' -> ')}`,
    );
    assert.match(await v.detail.locator('h2').innerText(), new RegExp(`^Revision chain ×${rev.count}`));
    await clean(v.w);

    // A growing Set: how it grows, and the line that adds its entries, which opens.
    const dedupe = corpusReport('dedupe-set').report;
    const set = dedupe.leaks.find((g) => g.kind === 'collection')!;
    v = await showGroup(dedupe, 'Set');
    assert.equal(await v.row.locator('.badge.kind').innerText(), 'growing collection');
    assert.equal(
      await fact(v.facts, 'Grows').innerText(),
      `+${set.growthPerRound} entries per round (${set.collection!.entries.join(' -> ')})`,
    );
    const added = fact(v.facts, 'Entries added at').locator('a.loc');
    assert.equal(await added.innerText(), 'test/corpus/dedupe-set/main.mjs:28');
    await opens(v.w, added, set.collection!.addedAt);
    assert.match(await v.detail.locator('h2').innerText(), /^processedDeliveries \(Set\) grows/);
    await clean(v.w);

    // Listeners: the closure each PriceView is held through, and the emitter's declaration.
    const bus = corpusReport('bus-listeners').report;
    const price = bus.leaks.find((g) => g.className === 'PriceView')!;
    v = await showGroup(bus, 'PriceView');
    assert.equal(
      await fact(v.facts, 'Held through').innerText(),
      `each through a callback ${price.heldVia!.className} test/corpus/bus-listeners/routes/pricing.js:33`,
    );
    assert.equal(await fact(v.facts, 'Related').innerText(), 'emitter declared test/corpus/bus-listeners/bus.js:6');
    await opens(v.w, fact(v.facts, 'Related').locator('a.loc'), price.owner.related![0].location);
    await opens(v.w, fact(v.facts, 'Held through').locator('a.loc'), price.heldVia!.location);
    assert.equal(
      await fact(v.facts, 'Container').innerText(),
      `in a growing ${price.collection!.className}: ${price.collection!.entries.join(' -> ')} entries`,
    );
    await clean(v.w);

    // A library owner: the application's holder, and a site found in the source.
    const loader = corpusReport('dataloader-cache').report;
    const profile = loader.leaks.find((g) => g.className === 'UserProfile')!;
    v = await showGroup(loader, 'UserProfile');
    const holder = profile.owner.related!.find((r) => !r.location.file.includes('node_modules'))!;
    assert.equal(
      await fact(v.facts, 'Related').innerText(),
      `${holder.label} test/corpus/dataloader-cache/server.js:${holder.location.line}`,
    );
    await opens(v.w, fact(v.facts, 'Related').locator('a.loc'), holder.location);
    if (profile.allocationSites.some((s) => s.fromSource))
      assert.match(await fact(v.facts, 'Allocated in').innerText(), /found in the source/);
    await clean(v.w);

    // Objects made inside a library: the application's calling line and the creating stack, each frame a link.
    const winston = corpusReport('winston-container').report;
    const logger = winston.leaks.find((g) => g.className === 'DerivedLogger')!;
    const site = logger.allocationSites.find((s) => s.caller)!;
    v = await showGroup(winston, 'DerivedLogger');
    const sites = fact(v.facts, 'Allocated in');
    assert.equal(
      await sites.locator('.caller').first().innerText(),
      `called from ${site.caller!.function}() test/corpus/winston-container/server.js:10`,
    );
    await opens(v.w, sites.locator('.caller a.loc').first(), site.caller!.location);
    const frames = sites.locator('ol.stack').first().locator('li');
    assert.equal(await frames.count(), site.stack!.length);
    assert.equal(
      await sites.locator('ol.stack').first().locator('a.loc').count(),
      site.stack!.filter((f) => f.location).length,
    );
    const app = site.stack!.findIndex((f) => f.app);
    assert.ok(app >= 0);
    assert.equal(
      await frames.nth(app).innerText(),
      `${site.stack![app].function}() (application) test/corpus/winston-container/server.js:${site.stack![app].location!.line}`,
    );
    await opens(v.w, frames.first().locator('a.loc'), site.stack![0].location);
    await clean(v.w);

    // A worker thread: the table and the details name it.
    const worker = corpusReport('worker-jobs').report;
    const job = worker.leaks.find((g) => g.className === 'ThumbnailJob')!;
    assert.match(job.thread ?? '', /^worker \d+/);
    v = await showGroup(worker, 'ThumbnailJob');
    assert.equal((await texts(v.row.locator('td'))).at(-1), job.thread);
    assert.equal(await fact(v.facts, 'Thread').innerText(), job.thread);
    assert.equal(
      await v.w.page.locator('.banner .threads').innerText(),
      `; threads analysed, each with its own heap: ${worker.threads!.map((t) => t.name).join(', ')}`,
    );
    await v.w.screenshot('webview-worker-thread-dark');
    await clean(v.w);
  });

  test('new facts that are markup (a chain link, a callback, a related label, a caller, a stack frame, a thread) are shown as characters', async () => {
    const bad = '<img src=x onerror=alert(1)>';
    const r = JSON.parse(JSON.stringify(hostile)) as LeakReport;
    const g = r.leaks[0];
    const loc = g.owner.location ?? g.retainerPath.find((s) => s.location)?.location;
    assert.ok(loc, 'the hostile report has a location');
    Object.assign(g, {
      kind: 'chain',
      chain: { link: [bad] },
      heldVia: { className: bad, location: loc },
      thread: bad,
    });
    g.owner.related = [{ label: bad, location: loc }];
    g.allocationSites = [
      {
        function: bad,
        count: 1,
        location: loc,
        caller: { function: bad, location: loc },
        stack: [{ function: bad, location: loc, app: true }],
      },
    ];
    const v = await showGroup(r, g.className);
    assert.equal(
      await fact(v.facts, 'Kind').innerText(),
      `chain: each ${g.className} keeps the previous one alive through .${bad}`,
    );
    assert.ok((await fact(v.facts, 'Held through').innerText()).startsWith(`each through a callback ${bad} `));
    assert.ok((await fact(v.facts, 'Related').innerText()).startsWith(`${bad} `));
    assert.ok((await fact(v.facts, 'Allocated in').locator('.caller').innerText()).startsWith(`called from ${bad}() `));
    assert.ok(
      (await fact(v.facts, 'Allocated in').locator('ol.stack li').innerText()).startsWith(`${bad}() (application) `),
    );
    assert.equal(await fact(v.facts, 'Thread').innerText(), bad);
    const imgs = await v.w.page.evaluate(() => document.querySelectorAll('img').length);
    assert.equal(imgs, 0);
    await clean(v.w);
  });

  test('messages the extension did not offer are refused: no file outside the report opens', async () => {
    const w = await open(leaky.report);
    await w.page.locator('table.leaks tbody tr[data-index]').first().waitFor();
    await w.page.evaluate(() => {
      const post = (globalThis as unknown as { __leakLensPost(m: unknown): void }).__leakLensPost;
      post({ type: 'openLocation', file: '/etc/passwd', line: 1, column: 1 });
      post({ type: 'query', id: 999, query: { kind: 'summary', snapshot: '/etc/shadow', offset: 0, limit: 10 } });
    });
    await w.waitForPosted((m) => m.type === 'query' && m.id === 999);
    assert.deepEqual(w.opened, []);
    assert.ok(
      w.logs.some((l) => /\/etc\/passwd, which no report or path named/.test(l)),
      w.logs.join('\n'),
    );
    assert.ok(
      w.logs.some((l) => /refused: summary query: snapshot must be an index/.test(l)),
      w.logs.join('\n'),
    );
    await clean(w);
  });

  test('a .heapsnapshot opened alone (the custom editor) shows its summary with progress and sizes', async () => {
    const file = fixture('basic-leak').files[1];
    await engine.request({ kind: 'unload', file });
    const w = await open(undefined, {
      input: {
        title: 's2.heapsnapshot',
        snapshots: [{ file, label: 's2.heapsnapshot' }],
        views: ['summary', 'retainers'],
        initialView: 'summary',
      },
    });
    const page = w.page;
    assert.deepEqual(
      (await texts(page.locator('[role=tab]'))).map((t) => t.toLowerCase()),
      ['summary', 'retainers'],
    );
    await page.locator('#panel-summary tbody tr[data-index]').first().waitFor();
    assert.match(
      await page.locator('#panel-summary [data-status=classes]').innerText(),
      /^[\d,]+ classes, [\d.]+ MB in total$/,
    );
    assert.match(
      await page.locator('#panel-summary tbody tr[data-index]').first().locator('td').nth(4).innerText(),
      /%/,
    );
    await w.screenshot('webview-snapshot-editor-light');
    await clean(w);
  });

  test('a live timeline stays bounded over 150,000 samples, and the page heap stays flat', async () => {
    const w = await open(undefined, { input: { title: 'live', live: true } });
    const page = w.page;
    await page.locator('#panel-timeline .chart canvas').waitFor();
    const cdp = await page.context().newCDPSession(page);
    const heapAfterGc = async () => {
      await cdp.send('HeapProfiler.collectGarbage');
      return (await cdp.send('Runtime.getHeapUsage')).usedSize;
    };
    const t0 = Date.now() - 3600_000 * 10;
    let t = t0;
    const feed = async (count: number) => {
      for (let sent = 0; sent < count; sent += 5000) {
        const batch = Array.from({ length: 5000 }, () => {
          t += 100;
          return {
            time: t,
            heapUsed: 3e7 + (t % 7000) * 1000,
            heapTotal: 5e7,
            rss: 1e8,
            external: 2e6,
            arrayBuffers: 1e5,
          };
        });
        await w.deliver({ type: 'samples', samples: batch });
      }
      await page.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => resolve())));
    };
    // Past the buffer's capacity (12,000 points) first, then ten times as many again.
    await feed(30_000);
    const heap1 = await heapAfterGc();
    await feed(120_000);
    const heap2 = await heapAfterGc();
    assert.ok(heap2 - heap1 < 2 * 1024 * 1024, `page heap grew by ${heap2 - heap1} bytes over 120,000 more samples`);
    // The legend shows the newest sample.
    assert.equal(
      await page.locator('#panel-timeline .legend-item:has-text("Heap total") .legend-value').innerText(),
      '47.7 MB',
    );
    await clean(w);
  });

  test('a live session of the buffers demo: samples, GC markers, and the diagnosis of memory outside the JS heap', async () => {
    const { launchForCapture } = await import('../../src/capture/launch');
    let url = '';
    let onUrl: () => void = () => undefined;
    const listening = new Promise<void>((resolve) => (onUrl = resolve));
    const { program, session } = await launchForCapture({
      args: ['demo/buffers.js'],
      cwd: repoRoot,
      env: { PORT: '0' },
      onStdout: (d) => {
        const m = /listening on (http:\/\/\S+)/.exec(d.toString());
        if (m) {
          url = m[1];
          onUrl();
        }
      },
      onStderr: () => undefined,
    });
    const w = await open(undefined, { input: { title: 'buffers.js (live)', live: true, root: repoRoot } });
    let sampled = 0;
    const onSample: Array<() => void> = [];
    const sampler = session.startSampling(200, (s) => {
      w.controller.addSamples([s]);
      sampled++;
      for (const f of onSample.splice(0)) f();
    });
    /** Resolves once `count` more samples have reached the page. */
    const samplesPast = (count: number) =>
      new Promise<void>((resolve) => {
        const target = sampled + count;
        const check = () => (sampled >= target ? resolve() : void onSample.push(check));
        check();
      });
    try {
      await listening;
      const page = w.page;
      const { execFile } = await import('node:child_process');
      const load = () =>
        new Promise<void>((resolve, reject) =>
          execFile(process.execPath, ['demo/load.js', '100', url], { cwd: repoRoot }, (e) =>
            e ? reject(e) : resolve(),
          ),
        );
      // Rounds of load, each followed by a forced GC and the samples after it (the post-GC points), until the
      // timeline names the growth; it needs MIN_SPAN_SECONDS of samples, however slow the machine, so rounds are
      // counted, not timed.
      const diagnosed = page.locator('#panel-timeline .estimate.outside-heap').waitFor();
      let done = false;
      void diagnosed.then(
        () => (done = true),
        () => (done = true),
      );
      for (let round = 1; !done; round++) {
        if (round > 100)
          assert.fail(
            `no diagnosis after 100 rounds of load: ${await page.locator('#panel-timeline .diagnosis').innerText()}`,
          );
        await load();
        await session.collectGarbage();
        w.controller.addSamples([], [{ time: Date.now(), kind: 'gc' }]);
        await samplesPast(5);
      }
      await diagnosed;
      assert.match(
        await page.locator('#panel-timeline .diagnosis').innerText(),
        /The JS heap is flat, but (external memory|RSS) grows by \+[\d.]+ [KMG]B\/min over \d+ s: memory is held outside the JS heap/,
      );
      assert.ok(Number(await page.locator('#panel-timeline .chart').getAttribute('data-markers')) >= 2);
      assert.match(await page.locator('#panel-timeline ul.markers').innerText(), /GC/);
      await w.screenshot('webview-timeline-live-dark');
      await clean(w);
    } finally {
      sampler.dispose();
      await session.close();
      await program.stop();
    }
  });

  test('every view in light, dark and high-contrast themes (screenshots)', async () => {
    const shots: string[] = [];
    for (const theme of ['light', 'dark', 'high-contrast'] as ThemeName[]) {
      const w = await open(leaky.report, { theme });
      const page = w.page;
      await page.locator('table.leaks tbody tr[data-index]').first().waitFor();
      // The page takes its colours from the theme's variables.
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.equal(
        bg,
        { light: 'rgb(255, 255, 255)', dark: 'rgb(31, 31, 31)', 'high-contrast': 'rgb(0, 0, 0)' }[theme],
      );
      shots.push(await w.screenshot(`webview-leaks-${theme}`));
      for (const view of ['growth', 'summary', 'comparison', 'timeline'] as const) {
        await page.locator(`#tab-${view}`).click();
        if (view === 'summary' || view === 'comparison')
          await page.locator(`#panel-${view} tbody tr[data-index]`).first().waitFor();
        else await page.locator(`#panel-${view} canvas`).waitFor();
        shots.push(await w.screenshot(`webview-${view}-${theme}`));
      }
      await page.locator('#tab-leaks').click();
      await page.locator('section.detail button:has-text("Explore retainers")').click();
      await page.locator('#panel-retainers [role=treeitem]').first().waitFor();
      await page.locator('#panel-retainers ol.path').waitFor();
      await page.locator('#panel-retainers [role=treeitem]').first().focus();
      await page.keyboard.press('ArrowRight');
      await page.locator('#panel-retainers [role=group] [role=treeitem]').first().waitFor();
      shots.push(await w.screenshot(`webview-retainers-${theme}`));
      await clean(w);
      await w.close();
      pages.splice(pages.indexOf(w), 1);
    }
    assert.equal(shots.length, 18);
  });
});
