/**
 * Growing resources in the memory panel, in headless Chromium: a report the engine worker made from snapshots of a
 * real Node process (test/fixtures/apps/resource-counts.js, with allocation tracking) shows a table of the resources
 * that grow (never-settled promises, timers, vm contexts), with counts per snapshot, the creating line and the holder
 * as links that open the right line.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { EngineClient } from '../../engine/client';
import type { LeakReport } from '../../protocol/report';
import { fixture } from '../helpers/fixtures';
import { launchBrowser, repoRoot, serveWebview, Server, WebviewPage } from './harness';

const app = path.join(repoRoot, 'test', 'fixtures', 'apps', 'resource-counts.js');
const lineOf = (text: string) =>
  fs
    .readFileSync(app, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(text)) + 1;

describe('memory webview: resources that grow', () => {
  let browser: Browser;
  let server: Server;
  let engine: EngineClient;
  let report: LeakReport;
  const pages: WebviewPage[] = [];

  before(async () => {
    browser = await launchBrowser();
    server = await serveWebview();
    engine = new EngineClient(1024);
    const r = await engine.request({ kind: 'analyze', files: fixture('resource-counts', { track: true }).files });
    assert.ok(r.ok);
    report = r.value;
  });

  after(async () => {
    for (const p of pages) await p.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    await engine?.dispose();
  });

  test('the resources table: kind, count, growth, counts per snapshot, creating line and holder, links that open', async () => {
    const w = await WebviewPage.open(browser, server, {
      engine,
      input: { title: 'Leak Lens report', report, root: repoRoot },
    });
    pages.push(w);
    const page = w.page;
    const rows = page.locator('table.resources tbody tr[data-index]');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 3);
    const cells = (await rows.first().locator('td').allTextContents()).map((t) => t.trim());
    const promises = report.resources!.find((r) => r.kind === 'pending-promise')!;
    // Sorted by growth: the 20 promises a round come first.
    assert.deepEqual(cells, [
      'never-settled promises Promise',
      '40',
      '+20',
      promises.countSeries.join(' → '),
      `created in work() test/fixtures/apps/resource-counts.js:${lineOf('heldPending.set(seq++, new Promise(')}`,
      `heldPending test/fixtures/apps/resource-counts.js:${lineOf('const heldPending = new Map()')}`,
      '',
    ]);
    const kinds = await rows.locator('td:first-child .cls').allTextContents();
    assert.deepEqual(kinds, ['never-settled promises', 'vm contexts', 'timers never cleared']);
    assert.equal(await page.locator('section.resources h3').textContent(), 'Resources that grow every round');

    // The creating line's link asks the extension to open that line.
    const opened = w.waitForOpened();
    await rows.first().locator('td').nth(4).locator('a.loc').click();
    const msg = await w.waitForPosted((m) => m.type === 'openLocation');
    assert.deepEqual(msg, {
      type: 'openLocation',
      file: app,
      line: lineOf('heldPending.set(seq++, new Promise('),
      column: promises.createdAt!.location!.column,
    });
    assert.deepEqual(await opened, promises.createdAt!.location);
    await w.settled();
    assert.deepEqual(await w.cspViolations(), []);
    assert.deepEqual(
      w.errors.filter((e) => !/favicon|404/.test(e)),
      [],
    );
  });
});
