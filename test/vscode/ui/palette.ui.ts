/**
 * The command palette, driven as a person would in the real workbench (scripts/vscode-test.js loads this file and
 * hands it a playwright page): Find Leaks with nothing running says what to do and offers to launch a program;
 * "Launch Program..." starts one; the status bar shows its heap; Take Heap Snapshot saves a snapshot that the
 * Heap Snapshots view lists; Find Leaks then runs its guided rounds and reports the leak. Screenshots go to outDir.
 */
import * as path from 'path';
import type { Page } from 'playwright-core';
import { assert, notification, runFromPalette, setWaitLimit, waitLimit, type UiContext } from './common';

async function clearNotifications(page: Page): Promise<void> {
  await runFromPalette(page, 'Notifications: Clear All Notifications');
}
export async function run({ page, check, outDir, log, waitLimitMs: limit }: UiContext): Promise<void> {
  setWaitLimit(limit);
  await check('the workbench loads with Leak Lens as a development extension', async () => {
    await page.locator('.monaco-workbench .part.statusbar').waitFor();
    const restored = await page.evaluate(() =>
      (globalThis as unknown as { driver: { whenWorkbenchRestored(): Promise<void> } }).driver
        .whenWorkbenchRestored()
        .then(() => true),
    );
    assert(restored, 'workbench restored');
  });

  await check('Find Leaks with no program running says what to do and offers to launch one', async () => {
    await runFromPalette(page, 'Leak Lens: Find Leaks');
    const item = await notification(page, /Find Leaks needs a running Node\.js program/);
    const text = (await item.innerText()).replace(/\s+/g, ' ');
    log(`notification: ${text}`);
    assert(
      /Launch Program\.\.\./.test(text) && /Attach to Process\.\.\./.test(text),
      `the notification offers Launch and Attach: ${text}`,
    );
    await page.screenshot({ path: path.join(outDir, 'ui-no-session.png') });
  });

  await check(
    '"Launch Program..." from the notification starts the chosen program; the status bar shows its heap',
    async () => {
      const item = await notification(page, /Find Leaks needs a running Node\.js program/);
      await item.locator('.monaco-button', { hasText: 'Launch Program...' }).click();
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible' });
      await input.fill('leaky-array');
      await page.locator('.quick-input-list .monaco-list-row', { hasText: 'leaky-array.js' }).first().waitFor();
      await page.keyboard.press('Enter');
      const heap = page.locator('.statusbar-item', { hasText: /heap \d/ });
      await heap.waitFor();
      log(`status bar: ${await heap.innerText()}`);
      await clearNotifications(page);
    },
  );

  await check('Take Heap Snapshot saves a snapshot: a notification, and a row in the Heap Snapshots view', async () => {
    await runFromPalette(page, 'Leak Lens: Take Heap Snapshot');
    const saved = await notification(page, /Heap snapshot ".*" saved \([\d.]+ (KB|MB), heap used/);
    log(`notification: ${(await saved.innerText()).replace(/\s+/g, ' ')}`);
    await runFromPalette(page, 'View: Show Run and Debug');
    const pane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: /Heap Snapshots/i }) });
    await pane.waitFor();
    const header = pane.locator('.pane-header');
    if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
    const row = pane.locator('.monaco-list-row', { hasText: /leaky-array/ }).first();
    await row.waitFor();
    log(`snapshot row: ${(await row.innerText()).replace(/\s+/g, ' ')}`);
    // Its tooltip names the file as it is on disk (markdown escapes once showed as \-7b66d951/leak\-lens...).
    await row.hover();
    const hover = page.locator('.monaco-hover', { hasText: /\.heapsnapshot/ }).first();
    await hover.waitFor();
    const tip = (await hover.innerText()).replace(/\s+/g, ' ');
    log(`snapshot tooltip: ${tip}`);
    assert(/\/\d{8}-\d{6}-pid\d+\.heapsnapshot/.test(tip), `the tooltip names the snapshot file by its path: ${tip}`);
    assert(!tip.includes('\\'), `the tooltip's path has no markdown escapes: ${tip}`);
    await page.screenshot({ path: path.join(outDir, 'ui-snapshot-taken.png') });
    await page.mouse.move(0, 0);
    await clearNotifications(page);
  });

  await check('a click on the heap in the status bar opens the live memory timeline', async () => {
    await page.locator('.statusbar-item', { hasText: /heap \d/ }).click();
    const panel = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await panel.locator('#tab-timeline[aria-selected="true"]').waitFor();
    await panel.locator('#panel-timeline').waitFor({ state: 'visible' });
    // The snapshot taken before is marked on the timeline.
    await panel
      .locator('#panel-timeline li', { has: panel.locator('.marker-kind.snapshot') })
      .first()
      .waitFor();
    await page.screenshot({ path: path.join(outDir, 'ui-memory-timeline.png') });
  });

  await check('Find Leaks guides through the rounds and reports the Leaky group held by leakyItems', async () => {
    await runFromPalette(page, 'Leak Lens: Find Leaks');
    // Default 2 rounds: each asks to run the workload, then Continue (this program leaks on its own timer).
    for (let round = 1; round <= 2; round++) {
      const ask = await notification(
        page,
        new RegExp(`round ${round} of 2: use the program the way that leaks memory`),
      );
      await ask.locator('.monaco-button', { hasText: /^Continue$/ }).click();
    }
    const more = await notification(page, /took 3 snapshots\. Analyze them now, or run another round/);
    await more.locator('.monaco-button', { hasText: /^Analyze$/ }).click();
    const found = await notification(
      page,
      /Leak Lens found a leak: Leaky ×[\d,]+ \(\+[\d,]+ per round\) held by leakyItems/,
    );
    log(`notification: ${(await found.innerText()).replace(/\s+/g, ' ')}`);
    // The report opens in a panel of its own, beside the live timeline still open: its leaks view names the owner.
    const frames = page.locator('iframe.webview.ready');
    const deadline = Date.now() + waitLimit();
    for (let found = false; !found;) {
      for (let i = 0; i < (await frames.count()) && !found; i++) {
        const panel = frames.nth(i).contentFrame().frameLocator('#active-frame');
        found = (await panel.locator('#panel-leaks').getByText('leakyItems').count()) > 0;
      }
      if (!found && Date.now() > deadline) throw new Error('no webview shows the report naming leakyItems');
      if (!found) await page.waitForEvent('framenavigated', { timeout: 1_000 }).catch(() => undefined);
    }
    const tabs = (await page.locator('.tabs-container .tab .label-name').allInnerTexts()).map((t) => t.trim());
    assert(
      tabs.some((t) => t.startsWith('Leak report - ')) && tabs.some((t) => t.startsWith('Memory - ')),
      `the report and the memory timeline are both open: ${tabs.join(' | ')}`,
    );
    await clearNotifications(page);
    await page.keyboard.press('Escape');
    await page.screenshot({ path: path.join(outDir, 'ui-find-leaks.png') });
  });

  await check(
    'the Heap Snapshots view shows the Find Leaks run as a group, above the snapshot taken before it',
    async () => {
      await runFromPalette(page, 'View: Show Run and Debug');
      const pane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: /Heap Snapshots/i }) });
      const rows = pane.locator('.monaco-list-row');
      await pane
        .locator('.monaco-list-row', { hasText: /^Find Leaks at / })
        .first()
        .waitFor();
      const texts = (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
      log(`snapshot rows: ${texts.join(' | ')}`);
      const run = texts.findIndex((t) => t.startsWith('Find Leaks at'));
      assert(run === 0, `the newest (the run) comes first: ${texts.join(' | ')}`);
      assert(/^Find Leaks at .*3 snapshots$/.test(texts[0]), `the run group counts its 3 snapshots: ${texts[0]}`);
      // A row's text is its label, then its description (a time) with no space between.
      assert(
        /^baseline\d/.test(texts[1]) && /^after round 1\d/.test(texts[2]) && /^after round 2\d/.test(texts[3]),
        `the run's snapshots follow it in the order taken: ${texts.join(' | ')}`,
      );
      assert(texts.length === 5, `and then the snapshot taken before the run: ${texts.join(' | ')}`);
      await page.screenshot({ path: path.join(outDir, 'ui-snapshots-view.png') });
    },
  );
}
