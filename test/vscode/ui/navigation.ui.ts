/**
 * Going somewhere from the editor, in the real workbench (scripts/vscode-test.js loads this file and hands it a
 * playwright page; `--only ui --grep navigation` runs it alone). With no debug session and nothing of Leak Lens used
 * yet, opening a JavaScript file shows its static leak hint (the extension activates on the language). A report
 * written by `leak-lens run` puts a code lens on the owner's line; a click on it opens the report panel on that
 * group with its retainer path, and again from another tab of the panel, keeping the report's title. The status
 * bar's heap opens the live memory timeline in a panel of its own: the report stays open beside it.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Frame, Page } from 'playwright-core';
import { assert, repoRoot, runFromPalette, setWaitLimit, waitLimit, type UiContext } from './common';

interface ReportGroup {
  id: string;
  className: string;
  owner: { location?: { file: string; line: number } };
}

const REPORT_TITLE = 'Leak report - .leak-lens/report.json';

/** Opens a workspace file through Quick Open, as a person would, and waits for its editor tab. */
async function openFile(page: Page, name: string): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first();
  // A webview that takes the focus back (a panel just clicked) can close the palette as it opens: each look reopens
  // it, 2 s per look, and the wait limit bounds failure.
  const deadline = Date.now() + waitLimit();
  for (;;) {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    try {
      await input.waitFor({ state: 'visible', timeout: 2_000 });
      // Without the ">" the palette is Quick Open.
      await input.fill(name, { timeout: 2_000 });
      await row.waitFor({ timeout: 2_000 });
      break;
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
  }
  await page.keyboard.press('Enter');
  await page.locator('.tabs-container .tab.active', { hasText: name }).waitFor();
}

/**
 * The document of the memory webview whose title matches, once it shows `selector`. VS Code nests each webview's
 * document in an iframe within the webview's iframe; with two panels open there are two, told apart by title.
 */
async function panelFrame(page: Page, title: RegExp, selector: string): Promise<Frame> {
  const deadline = Date.now() + waitLimit();
  let seen: string[] = [];
  for (;;) {
    seen = [];
    for (const f of page.frames()) {
      if (f.isDetached()) continue;
      const t = await f.title().catch(() => '');
      if (!t) continue;
      seen.push(t);
      if (
        title.test(t) &&
        (await f
          .locator(selector)
          .count()
          .catch(() => 0)) > 0
      )
        return f;
    }
    if (Date.now() > deadline)
      throw new Error(`no webview titled ${title} showing ${selector} (frames: ${seen.join(' | ')})`);
    // The next look comes when the page has something new (a frame attached or navigated), or after a moment.
    await Promise.race([
      page.waitForEvent('framenavigated', { timeout: 1_000 }).catch(() => undefined),
      page.waitForEvent('frameattached', { timeout: 1_000 }).catch(() => undefined),
    ]);
  }
}

/** The titles of the editor tabs. */
async function tabTitles(page: Page): Promise<string[]> {
  return (await page.locator('.tabs-container .tab .label-name').allInnerTexts()).map((t) => t.trim());
}

export async function run({ page, check, outDir, workspace, log, waitLimitMs: limit }: UiContext): Promise<void> {
  setWaitLimit(limit);
  const reportFile = path.join(workspace, '.leak-lens', 'report.json');
  let group: ReportGroup | undefined;

  await check('the workbench loads with Leak Lens as a development extension', async () => {
    await page.locator('.monaco-workbench .part.statusbar').waitFor();
    const restored = await page.evaluate(() =>
      (globalThis as unknown as { driver: { whenWorkbenchRestored(): Promise<void> } }).driver
        .whenWorkbenchRestored()
        .then(() => true),
    );
    assert(restored, 'workbench restored');
  });

  await check('leak-lens run writes a report of the workspace server to .leak-lens/report.json', async () => {
    const snapshots = path.join(workspace, 'snapshots-navigation');
    const r = spawnSync(
      process.execPath,
      [
        path.join(repoRoot, 'bin', 'leak-lens.js'),
        'run',
        '--format',
        'json',
        '--out',
        snapshots,
        '--action',
        'node load.js',
        '--',
        'node',
        'leaky-server.js',
      ],
      { cwd: workspace, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
    );
    const error =
      r.stderr
        .split('\n')
        .filter((l) => l.startsWith('leak-lens: '))
        .pop() ?? r.error?.message;
    assert(
      r.status === 1,
      `leak-lens run exited ${r.status === null ? r.signal : r.status} (1 is "leaks found"): ${error}`,
    );
    fs.mkdirSync(path.dirname(reportFile), { recursive: true });
    fs.writeFileSync(reportFile, r.stdout);
    const report = JSON.parse(r.stdout) as { leaks: ReportGroup[] };
    group = report.leaks.find(
      (g) => g.className === 'Session' && g.owner.location?.file === path.join(workspace, 'leaky-server.js'),
    );
    assert(
      group,
      `the report has a Session group owned in leaky-server.js: ${report.leaks.map((g) => g.id).join(', ')}`,
    );
    log(`report: ${report.leaks.map((g) => g.id).join(', ')}`);
  });

  await check('opening a JavaScript file, with no debug session, shows the static leak hint of Leak Lens', async () => {
    await openFile(page, 'leaky-array.js');
    const editor = page.locator('.editor-instance .monaco-editor').first();
    const hints = editor.locator('.squiggly-hint');
    await hints.first().waitFor({ state: 'attached' });
    const hover = page.locator('.monaco-hover:visible', { hasText: /leak-lens/ });
    // Hints of other extensions may be there too: hover each until one is Leak Lens's.
    const deadline = Date.now() + waitLimit();
    let text = '';
    for (let i = 0; !text; i = (i + 1) % Math.max(1, await hints.count())) {
      const box = await hints.nth(i).boundingBox();
      if (box) {
        await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
        text = await hover
          .first()
          .innerText({ timeout: 3_000 })
          .catch(() => '');
      }
      if (!text && Date.now() > deadline)
        throw new Error(`no hint hover names leak-lens (${await hints.count()} hints)`);
      if (!text) await page.mouse.move(0, 0);
    }
    log(`hint: ${text.replace(/\s+/g, ' ').slice(0, 200)}`);
    assert(/leakyItems/.test(text), `the hint is about leakyItems: ${text}`);
    await page.screenshot({ path: path.join(outDir, 'ui-static-hint.png') });
    await page.mouse.move(0, 0);
  });

  const lens = page.locator('.codelens-decoration a', { hasText: /Session leaked, .*show retainers/ }).first();

  await check(
    "a click on the code lens opens the report on that group, with its retainer path, under the report's title",
    async () => {
      await openFile(page, 'leaky-server.js');
      await lens.waitFor();
      log(`code lens: ${await lens.innerText()}`);
      await lens.click();
      const frame = await panelFrame(page, /^Leak report - /, `section.detail[data-group="${group!.id}"]`);
      assert((await frame.title()) === REPORT_TITLE, `the panel's title: ${await frame.title()}`);
      assert((await frame.locator('#tab-leaks').getAttribute('aria-selected')) === 'true', 'the leaks view is shown');
      const selected = (await frame.locator('table.leaks tbody tr[aria-selected=true] td').first().innerText()).trim();
      assert(selected.startsWith('Session'), `the selected row is the Session group: ${selected}`);
      await frame.locator('section.detail h3', { hasText: 'Retainer path' }).waitFor();
      assert((await frame.locator('section.detail ol.path > li').count()) > 0, 'the retainer path has steps');
      const tabs = await tabTitles(page);
      assert(tabs.includes(REPORT_TITLE), `an editor tab titled ${REPORT_TITLE}: ${tabs.join(' | ')}`);
      await page.screenshot({ path: path.join(outDir, 'ui-lens-group.png') });
    },
  );

  await check('from another tab of the panel, the code lens goes back to that group and the title stays', async () => {
    const frame = await panelFrame(page, /^Leak report - /, '#tab-summary');
    await frame.locator('#tab-summary').click();
    await frame.locator('#tab-summary[aria-selected=true]').waitFor();
    await lens.click();
    const back = await panelFrame(page, /^Leak report - /, `#tab-leaks[aria-selected=true]`);
    await back.locator(`section.detail[data-group="${group!.id}"]`).waitFor();
    await back.locator('#panel-leaks').waitFor({ state: 'visible' });
    const tabs = await tabTitles(page);
    assert(
      tabs.includes(REPORT_TITLE) && !tabs.includes('Leak Lens'),
      `the panel keeps its title: ${tabs.join(' | ')}`,
    );
  });

  await check(
    'with the panel hidden behind another editor (its webview gone), the code lens brings it back on that group',
    async () => {
      const frame = await panelFrame(page, /^Leak report - /, '#tab-summary');
      await frame.locator('#tab-summary').click();
      await frame.locator('#tab-summary[aria-selected=true]').waitFor();
      // Another file opened in the panel's editor group hides the panel; VS Code drops a hidden panel's webview.
      await page.locator('.tabs-container .tab', { hasText: REPORT_TITLE }).click();
      await openFile(page, 'load.js');
      await page.locator('.tabs-container .tab.active', { hasText: 'leaky-server.js' }).first().waitFor();
      const source = page
        .locator('.editor-group-container', { has: page.locator('.tab', { hasText: 'leaky-server.js' }) })
        .first();
      await source
        .locator('.codelens-decoration a', { hasText: /Session leaked, .*show retainers/ })
        .first()
        .click();
      const back = await panelFrame(page, /^Leak report - /, `section.detail[data-group="${group!.id}"]`);
      assert(
        (await back.locator('#tab-leaks').getAttribute('aria-selected')) === 'true',
        'the leaks view is shown, not the Summary the panel was left on',
      );
      await page.locator('.tabs-container .tab.active', { hasText: REPORT_TITLE }).waitFor();
    },
  );

  await check(
    'the heap in the status bar opens the live memory timeline in its own panel; the report stays open',
    async () => {
      await runFromPalette(page, 'Leak Lens: Launch Program for Memory Work...');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible' });
      await input.fill('leaky-array');
      await page.locator('.quick-input-list .monaco-list-row', { hasText: 'leaky-array.js' }).first().waitFor();
      await page.keyboard.press('Enter');
      const heap = page.locator('.statusbar-item', { hasText: /heap \d/ });
      await heap.waitFor();
      await heap.click();
      const memory = await panelFrame(page, /^Memory - /, '#tab-timeline[aria-selected="true"]');
      await memory.locator('#panel-timeline').waitFor({ state: 'visible' });
      assert((await memory.locator('#tab-leaks').count()) === 0, 'the memory panel is the timeline alone');
      const tabs = await tabTitles(page);
      log(`editor tabs: ${tabs.join(' | ')}`);
      assert(
        tabs.includes(REPORT_TITLE),
        `the report's tab is still open beside the memory timeline: ${tabs.join(' | ')}`,
      );
      assert(
        tabs.some((t) => t.startsWith('Memory - ')),
        `a Memory tab: ${tabs.join(' | ')}`,
      );
      await page.screenshot({ path: path.join(outDir, 'ui-report-and-memory.png') });
      // The report's tab still shows the report.
      await page.locator('.tabs-container .tab', { hasText: REPORT_TITLE }).click();
      const report = await panelFrame(page, /^Leak report - /, 'table.leaks tbody tr[data-index]');
      const rows = (await report.locator('table.leaks tbody tr[data-index] td:first-child').allInnerTexts()).map((t) =>
        t.trim(),
      );
      assert(
        rows.some((r) => r.startsWith('Session')),
        `the report lists the Session group: ${rows.join(', ')}`,
      );
      await page.screenshot({ path: path.join(outDir, 'ui-report-back.png') });
    },
  );
}
