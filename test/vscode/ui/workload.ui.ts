/**
 * Find Leaks as a person runs it on the demo (demo/leaky-server.js), started with VS Code's JavaScript debugger and
 * the launch configuration VS Code writes for Node.js (no `outputCapture`, so the program's URL is printed nowhere
 * the person sees): the round prompt says where the program listens; the person runs the load in a terminal against
 * it and comes back to Continue, which the status bar keeps in reach after the notification has gone; the report
 * names the leak. A workload command that fails shows its whole message, with a Show Log button that opens the log.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Locator, Page } from 'playwright-core';
import {
  assert,
  notification as centreNotification,
  repoRoot,
  setWaitLimit,
  waitLimit,
  type UiContext,
} from './common';

/**
 * Opens the command palette and runs a command by its title, as typed by a person (see palette.ui.ts); the row
 * picked is the command of exactly that title ("Debug: Start Debugging", not "... and Stop on Entry").
 */
async function runFromPalette(page: Page, title: string): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  const exact = new RegExp(`^\\s*${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
  const row = page
    .locator('.quick-input-list .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: exact }) })
    .first();
  const deadline = Date.now() + waitLimit();
  for (;;) {
    // Each look is short and starts over: with focus in a webview or the terminal, the palette may open late or close.
    try {
      await page.keyboard.press('Escape');
      await page.keyboard.press('F1');
      await input.waitFor({ state: 'visible', timeout: 5_000 });
      await input.fill(`>${title}`, { timeout: 5_000 });
      await row.waitFor({ timeout: 2_000 });
      break;
    } catch (e) {
      if (Date.now() > deadline)
        throw new Error(
          `no command "${title}" in the palette after ${waitLimit() / 1000} s: ${String((e as Error).message).split('\n')[0]}`,
        );
    }
  }
  // A click on that row: Enter would run the first row, which may be another command.
  await row.click();
}

/** A notification in the notification centre, opened with this file's exact-title palette step. */
function notification(page: Page, text: RegExp): Promise<Locator> {
  return centreNotification(page, text, runFromPalette);
}

/** Hides the notification centre with a click on the bell in the status bar, which toggles it. */
async function hideNotifications(page: Page): Promise<void> {
  const center = page.locator('.notifications-center');
  if (!(await center.isVisible().catch(() => false))) return;
  await page.locator('[id="status.notifications"]').click();
  await center.waitFor({ state: 'hidden' });
}

/** How many times the terminal's rows show `text` now (white space left out: a long line wraps onto the next row). */
async function terminalCount(page: Page, text: string): Promise<number> {
  // No terminal yet shows nothing (innerText would wait for one).
  const rows = page.locator('.part.panel .xterm-rows');
  if ((await rows.count()) === 0) return 0;
  const shown = (
    (await rows
      .first()
      .innerText()
      .catch(() => '')) || ''
  ).replace(/\s+/g, '');
  return shown.split(text.replace(/\s+/g, '')).length - 1;
}

/**
 * Types a command line into the terminal panel, as a person would after reading the URL in the prompt, and presses
 * Enter only once the terminal echoes the whole line. Keys typed while the focus is still on its way to the terminal
 * (the palette closing) can be lost: the line is then cleared (Ctrl+U) and typed again, as a person would.
 */
let typeLog: (line: string) => void = () => undefined;
async function typeInTerminal(page: Page, line: string): Promise<void> {
  const t0 = Date.now();
  const before = await terminalCount(page, line);
  for (let attempt = 1; ; attempt++) {
    await runFromPalette(page, 'Terminal: Focus Terminal');
    await page.locator('.part.panel .xterm').first().waitFor();
    await page.keyboard.press('Control+U');
    await page.keyboard.type(line);
    const echoed = Date.now() + 10_000;
    while ((await terminalCount(page, line)) <= before && Date.now() < echoed) await page.waitForTimeout(100);
    if ((await terminalCount(page, line)) > before) break;
    if (attempt === 3) throw new Error(`the terminal did not echo "${line}" after 3 tries`);
  }
  if (Date.now() - t0 > 20_000) typeLog(`the terminal echoed the line after ${Date.now() - t0} ms`);
  await page.keyboard.press('Enter');
}

/** Waits until the terminal shows `text` at least `times` times (the load prints one line per run). */
async function terminalShows(page: Page, text: string, times: number): Promise<void> {
  const rows = page.locator('.part.panel .xterm-rows').first();
  const deadline = Date.now() + waitLimit();
  for (;;) {
    const shown = ((await rows.innerText().catch(() => '')) || '').replace(/\u00a0/g, ' ');
    if (shown.split(text).length - 1 >= times) return;
    if (Date.now() > deadline)
      throw new Error(`the terminal did not show "${text}" ${times} time(s); it shows: ${shown.slice(-400)}`);
    // The terminal has no event a page can wait on; look again shortly (the limit above bounds failure).
    await page.waitForTimeout(250);
  }
}

let generation = 0;

/**
 * Writes the workspace settings, as a person editing settings.json would, and waits until VS Code has applied them:
 * a window title set in the same write shows in the page's title.
 */
async function applySettings(page: Page, file: string, settings: Record<string, unknown>): Promise<void> {
  const title = `leak-lens-flow-settings-${++generation}`;
  fs.writeFileSync(file, JSON.stringify({ ...settings, 'window.title': title }, null, 2));
  await page.waitForFunction(
    (t) => (globalThis as unknown as { document: { title: string } }).document.title.includes(t),
    title,
    { timeout: waitLimit() },
  );
}

export async function run({ page, check, outDir, workspace, log, waitLimitMs: limit }: UiContext): Promise<void> {
  setWaitLimit(limit);
  typeLog = (line) => log(line);
  // The demo as a person has it, with the launch configuration VS Code writes for a Node.js program (Run and
  // Debug > create a launch.json file > Node.js): no console, no outputCapture.
  fs.cpSync(path.join(repoRoot, 'demo'), path.join(workspace, 'demo'), { recursive: true });
  fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
  fs.writeFileSync(
    path.join(workspace, '.vscode', 'launch.json'),
    JSON.stringify(
      {
        version: '0.2.0',
        configurations: [
          {
            type: 'node',
            request: 'launch',
            name: 'Launch Program',
            skipFiles: ['<node_internals>/**'],
            program: '${workspaceFolder}/demo/leaky-server.js',
          },
        ],
      },
      null,
      2,
    ),
  );
  // Only so that this test can read the terminal (headless Chromium's WebGL renderer draws on a canvas).
  const settingsFile = path.join(workspace, '.vscode', 'settings.json');
  const settings: Record<string, unknown> = { 'terminal.integrated.gpuAcceleration': 'off' };
  fs.writeFileSync(settingsFile, JSON.stringify(settings, null, 2));

  await check('the workbench loads with the demo and its default launch configuration', async () => {
    await page.locator('.monaco-workbench .part.statusbar').waitFor();
    const restored = await page.evaluate(() =>
      (globalThis as unknown as { driver: { whenWorkbenchRestored(): Promise<void> } }).driver
        .whenWorkbenchRestored()
        .then(() => true),
    );
    assert(restored, 'workbench restored');
  });

  let url = '';
  await check(
    'Start Debugging (the default node configuration), then Find Leaks: the round prompt says where the program listens',
    async () => {
      await runFromPalette(page, 'Debug: Start Debugging');
      await page.locator('.statusbar-item', { hasText: /heap \d/ }).waitFor();
      await runFromPalette(page, 'Leak Lens: Find Leaks');
      const ask = await notification(page, /Leak Lens, round 1 of 2/);
      const text = (await ask.innerText()).replace(/\s+/g, ' ');
      log(`round prompt: ${text}`);
      const m = /your program listens on (http:\/\/127\.0\.0\.1:\d+)/.exec(text);
      assert(m, `the round prompt names the program's address: ${text}`);
      url = m[1];
      await page.screenshot({ path: path.join(outDir, 'workload-round-prompt.png') });
    },
  );

  // Leak Lens's own item (the window's progress item beside it repeats the step in words).
  const prompt = page.locator('.statusbar-item[id="leak-lens.leak-lens.leakLens.findLeaksPrompt"]');
  await check(
    'with the notification out of sight, the status bar keeps "Leak Lens: Continue round 1" in reach',
    async () => {
      await hideNotifications(page);
      await prompt.filter({ hasText: 'Leak Lens: Continue round 1' }).waitFor();
    },
  );

  await check(
    'the load runs in a terminal against that address, and Continue in the status bar goes on with each round',
    async () => {
      assert(url, 'the address is known');
      for (let round = 1; round <= 2; round++) {
        await hideNotifications(page);
        await typeInTerminal(page, `node demo/load.js 100 ${url}`);
        await terminalShows(page, `load: 100 requests to ${url}/`, round);
        const item = prompt.filter({ hasText: `Leak Lens: Continue round ${round}` });
        await item.waitFor();
        if (round === 1) await page.screenshot({ path: path.join(outDir, 'workload-continue-status.png') });
        await item.click();
        if (round === 1) {
          // The next round's prompt, with the address again.
          const next = await notification(
            page,
            /Leak Lens, round 2 of 2: your program listens on http:\/\/127\.0\.0\.1:\d+/,
          );
          log(`round 2 prompt: ${(await next.innerText()).replace(/\s+/g, ' ')}`);
        }
      }
      await hideNotifications(page);
      const analyze = prompt.filter({ hasText: 'Leak Lens: Analyze 3 snapshots' });
      await analyze.click();
      const found = await notification(
        page,
        /Leak Lens found a leak: Connection ×[\d,]+ \(\+[\d,]+ per round\) held by _connections/,
      );
      log(`notification: ${(await found.innerText()).replace(/\s+/g, ' ')}`);
      const panel = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
      await panel.getByText('_connections').first().waitFor();
      assert((await prompt.count()) === 0, 'the prompt is gone from the status bar once answered');
      await runFromPalette(page, 'Notifications: Clear All Notifications');
      await page.screenshot({ path: path.join(outDir, 'workload-report.png') });
    },
  );

  await check(
    'a failing workload command shows its whole message with a Show Log button, which opens the log at it',
    async () => {
      // A load pointed at a port nobody listens on: it fails with "cannot reach ...".
      settings['leakLens.findLeaks.workloadCommand'] = 'node demo/load.js 100 http://127.0.0.1:9';
      await applySettings(page, settingsFile, settings);
      await runFromPalette(page, 'Leak Lens: Find Leaks');
      const error = await notification(page, /The workload "node demo\/load\.js 100 http:\/\/127\.0\.0\.1:9" failed/);
      const message = error.locator('.notification-list-item-message');
      const text = (await message.innerText()).replace(/\s+/g, ' ');
      log(`error: ${text}`);
      const cut = await message.evaluate(
        (el) => el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1,
      );
      assert(!cut, `the whole message is shown, not cut with "...": ${text}`);
      assert(
        /Fix it so that it succeeds against the running program\./.test(text),
        `the message says what to do: ${text}`,
      );
      await page.screenshot({ path: path.join(outDir, 'workload-error.png') });
      await error.locator('.monaco-button', { hasText: /^Show Log$/ }).click();
      const output = page.locator('.part.panel .monaco-editor .view-lines');
      await output.filter({ hasText: 'ECONNREFUSED' }).first().waitFor();
      await page.screenshot({ path: path.join(outDir, 'workload-log.png') });
      delete settings['leakLens.findLeaks.workloadCommand'];
      await applySettings(page, settingsFile, settings);
      await runFromPalette(page, 'Notifications: Clear All Notifications');
    },
  );

  // A closed window's terminals outlive it in the VS Code server for a while: end what this test started here.
  await check('Stop ends the demo and Kill All Terminals the terminal', async () => {
    await runFromPalette(page, 'Debug: Stop');
    await page.locator('.statusbar-item', { hasText: /heap \d/ }).waitFor({ state: 'hidden' });
    await runFromPalette(page, 'Terminal: Kill All Terminals');
    await page.locator('.part.panel .xterm').first().waitFor({ state: 'detached' });
  });
}
