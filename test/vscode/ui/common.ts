/**
 * What the UI test files (`*.ui.ts`, loaded by scripts/vscode-test.js, which hands each a playwright page) share:
 * their context, assert, and the palette and notification-centre steps a person takes. This file is no test itself
 * (vscode-test.js runs only files ending in `.ui.js`).
 */
import * as path from 'path';
import type { Locator, Page } from 'playwright-core';

export interface UiContext {
  page: Page;
  check(name: string, fn: () => Promise<void>): Promise<void>;
  outDir: string;
  workspace: string;
  log(...args: unknown[]): void;
  /** How long any one wait may take before it counts as a failure (scripts/vscode-test.js; also the page's default). */
  waitLimitMs: number;
}

/** The repository (out/test/vscode/ui -> the root), where demo/ lives. */
export const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

let limitMs = 180_000;

/** Each file's run() sets the limit from its context; every wait below is bounded by it. */
export function setWaitLimit(ms: number): void {
  limitMs = ms;
}

export function waitLimit(): number {
  return limitMs;
}

/** Opens the command palette and runs a command by its title, as typed by a person. */
export async function runFromPalette(page: Page, title: string): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  // The development extension's commands appear once the workbench has its manifest, however long that takes on a
  // loaded machine. The palette lists the commands known when it opens, so each look reopens it (typing again into an
  // open palette never shows a command registered since); 2 s per look, and the limit bounds failure.
  const deadline = Date.now() + limitMs;
  for (;;) {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    await input.waitFor({ state: 'visible' });
    await input.fill(`>${title}`);
    try {
      await row.waitFor({ timeout: 2_000 });
      break;
    } catch (e) {
      if (Date.now() > deadline)
        throw new Error(
          `no command "${title}" in the palette after ${limitMs / 1000} s: ${String((e as Error).message).split('\n')[0]}`,
        );
    }
  }
  await page.keyboard.press('Enter');
}

/**
 * A notification in the notification centre (under the smoke-test driver, notifications show only there). `run`
 * opens the centre; a file with its own way of running commands passes it.
 */
export async function notification(
  page: Page,
  text: RegExp,
  run: (page: Page, title: string) => Promise<void> = runFromPalette,
): Promise<Locator> {
  const item = page.locator('.notifications-center .notification-list-item', { hasText: text }).first();
  const deadline = Date.now() + limitMs;
  for (;;) {
    if (
      !(await page
        .locator('.notifications-center')
        .isVisible()
        .catch(() => false))
    )
      await run(page, 'Notifications: Show Notifications');
    try {
      await item.waitFor({ timeout: 2_000 });
      return item;
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
  }
}
