/**
 * Going somewhere in the memory webview, in headless Chromium with the real bundle, controller and engine: a leak
 * group asked for by the extension (a code lens) is selected with its retainer path over whatever view the panel was
 * on, also when the webview was gone (a hidden panel) when it was asked; snapshot labels on the timeline never overlap;
 * a report's timeline estimates the leak rate from the time its snapshots span.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { EngineClient } from '../../engine/client';
import type { TimelineMarker, TimelineSample } from '../../protocol/webview';
import { launchBrowser, repoRoot, serveWebview, Server, WebviewPage } from './harness';
import { corpusReport } from './reports';
import type { LeakReport } from '../../protocol/report';

describe('memory webview navigation in Chromium', () => {
  let browser: Browser;
  let server: Server;
  let engine: EngineClient;
  let report: LeakReport;
  const pages: WebviewPage[] = [];

  before(async () => {
    browser = await launchBrowser();
    server = await serveWebview();
    engine = new EngineClient(1024);
    // A real report with more than one leak group, so that "that group" is not simply the first row.
    report = corpusReport('audit-log').report;
    assert.ok(report.leaks.length >= 2, `audit-log's report has ${report.leaks.length} leak groups`);
  });

  after(async () => {
    for (const p of pages) await p.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    await engine?.dispose();
  });

  async function open(input: Parameters<typeof WebviewPage.open>[2]['input'], width = 1100): Promise<WebviewPage> {
    const w = await WebviewPage.open(browser, server, { engine, input, width });
    pages.push(w);
    return w;
  }

  /** The group the leaks view shows: its selected row's class and the details' group id. */
  async function shownGroup(w: WebviewPage): Promise<{ tab: string | null; row: string; detail: string | undefined }> {
    const page = w.page;
    return {
      tab: await page.locator('.tabs [role=tab][aria-selected=true]').getAttribute('data-view'),
      row: (await page.locator('table.leaks tbody tr[aria-selected=true] td').first().innerText()).trim(),
      detail:
        (await page.locator('section.detail[aria-label="Leak group details"]').getAttribute('data-group')) ?? undefined,
    };
  }

  test('a leak group asked for is selected with its retainer path, over the tab the panel was on', async () => {
    const w = await open({ title: 'Leak report - audit-log', report, root: repoRoot });
    const page = w.page;
    await page.locator('table.leaks tbody tr[data-index]').first().waitFor();
    // The group that is not selected by default (the table starts sorted by retained size, biggest first).
    const target = [...report.leaks].sort((a, b) => a.retainedSize - b.retainedSize)[0];
    const first = (await page.locator('table.leaks tbody tr[aria-selected=true] td').first().innerText()).trim();
    assert.ok(
      target.retainedSize < Math.max(...report.leaks.map((g) => g.retainedSize)),
      `the groups differ in size: ${first}`,
    );
    // The person is on another tab.
    await page.locator('#tab-summary').click();
    await page.locator('#tab-summary[aria-selected=true]').waitFor();
    await w.deliver({ type: 'show', view: 'leaks', group: target.id });
    await page.locator(`section.detail[data-group="${target.id}"]`).waitFor();
    const shown = await shownGroup(w);
    assert.equal(shown.tab, 'leaks');
    assert.equal(shown.detail, target.id);
    assert.ok(shown.row.startsWith(target.className), `selected row ${shown.row}, asked for ${target.className}`);
    assert.equal(await page.locator('section.detail h3', { hasText: 'Retainer path' }).count(), 1);
    assert.equal(await page.locator('section.detail ol.path > li').count(), target.retainerPath.length);
    assert.equal(await page.locator('#panel-leaks').isVisible(), true);
    // The group's heading is in view, below the sticky header with the tabs.
    await page.waitForFunction(() => {
      const d = globalThis as unknown as {
        document: { querySelector(s: string): { getBoundingClientRect(): { top: number; bottom: number } } | null };
        innerHeight: number;
      };
      const heading = d.document.querySelector('section.detail h2');
      const header = d.document.querySelector('header.top');
      return (
        !!heading &&
        !!header &&
        heading.getBoundingClientRect().top >= header.getBoundingClientRect().bottom &&
        heading.getBoundingClientRect().bottom <= d.innerHeight
      );
    });
    assert.equal(await page.title(), 'Leak report - audit-log');
    assert.deepEqual(
      w.errors.filter((e) => !/favicon|404/.test(e)),
      [],
    );
  });

  test('a group asked for while the webview is gone (a hidden panel) is shown by the next webview', async () => {
    const w = await open({ title: 'Leak report - audit-log', report, root: repoRoot });
    const page = w.page;
    await page.locator('table.leaks tbody tr[data-index]').first().waitFor();
    await page.locator('#tab-summary').click();
    // Nothing in flight when the webview goes: the summary's first page has come.
    await page.locator('#panel-summary tbody tr[data-index]').first().waitFor();
    await w.settled();
    const target = report.leaks[report.leaks.length - 1];
    // VS Code destroys a hidden panel's webview; the extension asks for the group, then the panel is shown again.
    w.controller.detach();
    w.controller.reveal('leaks', undefined, target.id);
    const ready = w.posted.length;
    await page.reload();
    await w.waitForPosted((m) => m.type === 'ready', ready);
    await page.locator(`section.detail[data-group="${target.id}"]`).waitFor();
    const shown = await shownGroup(w);
    assert.equal(shown.tab, 'leaks');
    assert.ok(shown.row.startsWith(target.className), shown.row);
    assert.deepEqual(
      w.errors.filter((e) => !/favicon|404/.test(e)),
      [],
    );
  });

  test('snapshot labels on the timeline never overlap, however close their lines; cut ones show their text as a tooltip', async () => {
    const t0 = Date.UTC(2026, 0, 1, 12);
    const samples: TimelineSample[] = Array.from({ length: 600 }, (_, i) => ({
      time: t0 + i * 1000,
      heapUsed: 3e7 + i * 1e4,
      heapTotal: 6e7,
      rss: 1e8,
    }));
    // Find Leaks' snapshots a second or two apart on a ten-minute timeline, then two far apart.
    const names = ['baseline', 'after round 1', 'after round 2', 'after round 3', 'after round 4', 'after round 5'];
    const markers: TimelineMarker[] = [
      ...names.map((label, i) => ({ time: t0 + 300_000 + i * 1500, kind: 'snapshot' as const, label })),
      { time: t0 + 100_000, kind: 'snapshot' as const, label: 'before the upload' },
      { time: t0 + 500_000, kind: 'snapshot' as const, label: 'after the upload' },
      { time: t0 + 301_000, kind: 'gc' as const },
    ].sort((a, b) => a.time - b.time);
    const w = await open({ title: 'Memory', live: true, samples, markers }, 900);
    const page = w.page;
    await page.locator('#panel-timeline .chart[data-markers]').waitFor();
    const labels = page.locator('#panel-timeline .marker-labels .marker-label');
    assert.equal(await labels.count(), 8, 'one label per snapshot marker');
    const boxes = await labels.evaluateAll((els) =>
      els.map((e) => {
        const r = (
          e as unknown as {
            getBoundingClientRect(): { left: number; right: number; top: number; bottom: number; width: number };
          }
        ).getBoundingClientRect();
        const el = e as unknown as {
          textContent: string;
          title: string;
          scrollWidth: number;
          clientWidth: number;
          className: string;
        };
        return {
          text: el.textContent,
          title: el.title,
          left: r.left,
          right: r.right,
          top: r.top,
          bottom: r.bottom,
          width: r.width,
          cut: el.scrollWidth > el.clientWidth,
          cls: el.className,
        };
      }),
    );
    const visible = boxes.filter((b) => b.width > 0);
    assert.ok(visible.length >= 5, `labels shown: ${JSON.stringify(boxes)}`);
    for (let i = 0; i < visible.length; i++)
      for (let j = i + 1; j < visible.length; j++) {
        const a = visible[i];
        const b = visible[j];
        const overlap = a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
        assert.ok(!overlap, `labels "${a.text}" and "${b.text}" overlap: ${JSON.stringify([a, b])}`);
      }
    // Every label shown carries its whole text as a tooltip, after the names of crowded labels it stands for; every
    // snapshot is named by some label shown; a label cut to fit is marked and ends in an ellipsis (CSS).
    for (const b of visible) assert.ok(b.title === b.text || b.title.endsWith(`, ${b.text}`), JSON.stringify(b));
    for (const m of markers.filter((x) => x.kind === 'snapshot'))
      assert.ok(
        visible.some((b) => b.title.split(', ').includes(m.label!)),
        `no label shown names ${m.label}: ${JSON.stringify(visible)}`,
      );
    for (const b of visible.filter((x) => x.cut)) assert.match(b.cls, /elided/, `${b.text} is cut but not marked`);
    // Lines far apart keep their labels whole, on the first row.
    const far = boxes.filter((b) => /upload/.test(b.text));
    assert.ok(
      far.every((b) => !b.cut && b.width > 0),
      JSON.stringify(far),
    );
    // The crowded ones use more than one row.
    assert.ok(new Set(boxes.map((b) => Math.round(b.top))).size > 1, 'crowded labels are staggered in rows');
    await w.screenshot('timeline-marker-labels');
    assert.deepEqual(
      w.errors.filter((e) => !/favicon|404/.test(e)),
      [],
    );
  });

  test("a report's timeline estimates the leak rate from the time its snapshots span (minutes, three points)", async () => {
    // The report's own figures, with its snapshots taken six minutes apart as a person running Find Leaks by hand would.
    const t0 = Date.UTC(2026, 0, 1, 12);
    const spread: LeakReport = {
      ...report,
      snapshots: report.snapshots.map((s, i) => ({ ...s, time: new Date(t0 + i * 360_000).toISOString() })),
    };
    assert.ok(
      spread.snapshots.length >= 3 && spread.snapshots.every((s) => s.memoryUsage),
      'the report has memory figures per snapshot',
    );
    const w = await open({ title: 'Leak report', report: spread, root: repoRoot, initialView: 'timeline' });
    const page = w.page;
    await page.locator('#tab-timeline').click();
    const estimate = page.locator('#panel-timeline .estimate .diagnosis');
    await estimate.waitFor();
    const text = await page.locator('#panel-timeline .estimate').innerText();
    assert.doesNotMatch(text, /Collecting samples/, text);
    assert.match(text, new RegExp(`over ${(spread.snapshots.length - 1) * 6} min`), text);
    // The same report with its snapshots a few seconds apart says what they span, not that it is collecting.
    const quick: LeakReport = {
      ...report,
      snapshots: report.snapshots.map((s, i) => ({ ...s, time: new Date(t0 + i * 2000).toISOString() })),
    };
    const q = await open({ title: 'Leak report', report: quick, root: repoRoot });
    await q.page.locator('#tab-timeline').click();
    await q.page.locator('#panel-timeline .estimate .diagnosis').waitFor();
    assert.match(
      await q.page.locator('#panel-timeline .estimate').innerText(),
      /The snapshots span \d+ s: a leak-rate estimate needs at least 20 s between the first and the last\./,
    );
    assert.deepEqual(
      w.errors.filter((e) => !/favicon|404/.test(e)),
      [],
    );
  });
});
