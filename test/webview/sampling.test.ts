/**
 * The report of the sampling mode in the real webview bundle, in headless Chromium, behind the real controller:
 * `leak-lens run --sampling` on the demo server (a real process under real load, no snapshot). Checks the ranked
 * growing stacks with their live bytes per round and growth, the allocating line as a link that opens the editor,
 * the stack, and the plain notice that this mode has no retainer paths.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { EngineClient } from '../../engine/client';
import { formatBytes } from '../../protocol/units';
import { samplingBytesPerRound } from '../../render/words';
import { demoSamplingReport } from '../helpers/fixtures';
import { launchBrowser, repoRoot, serveWebview, Server, WebviewPage } from './harness';
import type { LeakReport } from '../../protocol/report';

describe('sampling report in the memory webview (Chromium)', () => {
  let browser: Browser;
  let server: Server;
  let engine: EngineClient;
  let report: LeakReport;
  let w: WebviewPage | undefined;

  before(async () => {
    report = demoSamplingReport();
    browser = await launchBrowser();
    server = await serveWebview();
    engine = new EngineClient(256);
  });

  after(async () => {
    await w?.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    await engine?.dispose();
  });

  test('ranked growing stacks: live bytes per round, growth, the allocating line opens the editor, and no retainer paths', async () => {
    w = await WebviewPage.open(browser, server, {
      engine,
      input: { title: 'Leak report (sampling)', report, root: repoRoot },
    });
    const page = w.page;
    const s = report.sampling!;
    // One tab, named for what it lists; no growth, summary or retainers views (there is no snapshot to ask).
    const tabs = page.locator('[role=tab]');
    await tabs.first().waitFor();
    assert.deepEqual(
      (await tabs.allTextContents()).map((t) => t.trim()),
      ['Growing stacks'],
    );
    const notice = page.locator('.sampling-notice');
    assert.equal(
      await notice.innerText(),
      'Sampling mode: no retainer paths; take a snapshot to see what holds these objects.',
    );
    assert.match(
      await page.locator('.sampling-report .banner').innerText(),
      new RegExp(
        `^${s.growth.length} allocation stacks? whose live objects grow every round from allocation samples at ${s.rounds + 1} round boundaries \\(${s.rounds} rounds; one sampled per 1\\.0 KB allocated, no snapshot\\) in pid \\d+$`,
      ),
    );

    const rows = page.locator('table.sampling tbody tr[data-index]');
    assert.equal(await rows.count(), s.growth.length);
    const i = s.growth.findIndex((g) => g.site.function === 'accept' && g.constructs === 'Connection');
    assert.ok(
      i >= 0,
      `a stack that constructs Connection in accept() (got ${s.growth.map((g) => `${g.site.function}/${g.constructs ?? ''}`).join(', ')})`,
    );
    const g = s.growth[i];
    // Rows keep the engine's rank (by bytes kept from the rounds).
    const cells = (await rows.nth(i).locator('td').allTextContents()).map((t) => t.trim());
    assert.deepEqual(cells, [
      String(i + 1),
      'accept() (new Connection)',
      'demo/leaky-server.js:32',
      g.liveSamples.map((n) => formatBytes(n * s.interval)).join(' → '),
      `+${formatBytes(samplingBytesPerRound(g, s.interval))}`,
      formatBytes(g.estimatedBytes),
    ]);

    // The allocating line is a link: a click asks the extension to open demo/leaky-server.js:32, and it is opened.
    const opened = w.waitForOpened();
    await rows.nth(i).locator('a.loc').click();
    const msg = await w.waitForPosted((m) => m.type === 'openLocation');
    assert.deepEqual(msg, {
      type: 'openLocation',
      file: path.join(repoRoot, 'demo', 'leaky-server.js'),
      line: 32,
      column: g.site.location!.column,
    });
    assert.deepEqual(await opened, g.site.location);

    // The selected stack's details: its frames innermost first, each located one a link, and what is missing.
    await rows.nth(i).click();
    const detail = page.locator('.sampling-report section.detail');
    await page.waitForFunction(
      (rank) =>
        (
          globalThis as unknown as {
            document: { querySelector(s: string): { getAttribute(n: string): string | null } | null };
          }
        ).document
          .querySelector('.sampling-report section.detail')
          ?.getAttribute('data-rank') === rank,
      String(i + 1),
    );
    const frames = detail.locator('ol.stack > li');
    assert.equal(await frames.count(), g.stack.length);
    assert.equal(await detail.locator('ol.stack a.loc').count(), g.stack.filter((f) => f.location).length);
    assert.match(
      await detail.locator('dl.facts').innerText(),
      /Live samples per round\s+[\d,]+ → [\d,]+ → [\d,]+ → [\d,]+/,
    );
    assert.match(
      await detail.innerText(),
      /No retainer path: the sampling profiler records where objects were allocated, not what holds them\./,
    );
    await w.settled();
    assert.deepEqual(await w.cspViolations(), [], 'content security policy violations');
    assert.deepEqual(
      w.errors.filter((e) => !/favicon|404/.test(e)),
      [],
      'page errors',
    );
  });
});
