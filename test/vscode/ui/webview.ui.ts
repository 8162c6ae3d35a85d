/**
 * The memory webview in real VS Code (scripts/vscode-test.js loads out/test/vscode/ui/*.ui.js and drives the web
 * workbench with playwright). Snapshots of the workspace's leaky server, taken by `leak-lens run`, open in the Leak
 * Lens custom editor (through Explorer > Open With..., since js-debug's heap snapshot viewer is the default for these
 * files); in its webview a person goes Summary -> Session -> an object -> its retainer path, and a click on
 * a step of the path that names a source line opens the editor at that file and line. Its snapshot pickers name the
 * snapshot by the label in its sidecar, with the file name as the tooltip.
 *
 * Needs from the extension: the `customEditors` contribution for `leakLens.snapshotEditor` on `*.heapsnapshot`, and
 * `SnapshotEditorProvider.register` in `activate`.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { FrameLocator, Page } from 'playwright-core';
import { assert, repoRoot, type UiContext } from './common';

/** The document inside the webview: VS Code nests it in an iframe within the webview's iframe. */
function webview(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
}

export async function run({ page, check, outDir, workspace, log }: UiContext): Promise<void> {
  const snapshots = path.join(workspace, 'snapshots');
  await check('leak-lens run writes snapshots of the workspace server', async () => {
    const r = spawnSync(
      process.execPath,
      [
        path.join(repoRoot, 'bin', 'leak-lens.js'),
        'run',
        '--snapshots',
        '2',
        '--out',
        snapshots,
        '--action',
        'node load.js',
        '--',
        'node',
        'leaky-server.js',
      ],
      { cwd: workspace, encoding: 'utf8', timeout: 120_000 },
    );
    if (r.status !== 0 && r.status !== 1) log(`leak-lens run's stderr:\n${r.stderr}`);
    // Its error is its last `leak-lens:` line (the inspector's own lines come first).
    const error =
      r.stderr
        .split('\n')
        .filter((l) => l.startsWith('leak-lens: '))
        .pop() ??
      r.error?.message ??
      r.stderr.trim().split('\n').pop();
    assert(
      r.status === 0 || r.status === 1,
      `leak-lens run failed (${r.status === null ? r.signal : r.status}): ${error}`,
    );
    assert(
      fs.existsSync(path.join(snapshots, 's2.heapsnapshot')),
      `no s2.heapsnapshot in ${snapshots}: ${fs.readdirSync(snapshots).join(', ')}`,
    );
  });

  await check('a .heapsnapshot opens in the Leak Lens editor with its summary', async () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
      contributes?: { customEditors?: { viewType: string }[] };
    };
    assert(
      manifest.contributes?.customEditors?.some((e) => e.viewType === 'leakLens.snapshotEditor'),
      'package.json contributes no custom editor leakLens.snapshotEditor for *.heapsnapshot (see src/extension/webview/snapshotEditor.ts)',
    );
    await page.locator('.monaco-workbench').waitFor();
    const explorer = page.locator('.explorer-folders-view');
    await explorer.waitFor();
    // js-debug's own heap snapshot viewer is the default for *.heapsnapshot; choose Leak Lens as a person would.
    await explorer.locator('.monaco-list-row', { hasText: /^snapshots$/ }).click();
    await explorer.locator('.monaco-list-row', { hasText: /^s2\.heapsnapshot$/ }).click({ button: 'right' });
    // The context menu has the keyboard: walk down to "Open With..." and take it.
    const openWith = page.getByRole('menuitem', { name: /^Open With/ });
    await openWith.waitFor();
    for (let i = 0; i < 20 && !(await openWith.evaluate((e) => e.matches(':focus, :focus-within'))); i++)
      await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Leak Lens' }).click();
    const view = webview(page);
    await view.locator('#panel-summary tbody tr[data-index]').first().waitFor();
    assert(
      (await view.locator('#tab-summary').getAttribute('aria-selected')) === 'true',
      'the summary is the first view',
    );
    await page.screenshot({ path: path.join(outDir, 'webview-vscode-summary.png') });
  });

  await check('the editor names the snapshot by the label it was given, with the file name beside it', async () => {
    // leak-lens run labels its second snapshot "after round 1" in the sidecar; the file is s2.heapsnapshot.
    const view = webview(page);
    for (const panel of ['summary', 'retainers']) {
      const option = view.locator(`#panel-${panel} select[aria-label="Snapshot"] option`).first();
      await option.waitFor({ state: 'attached' });
      const text = (await option.innerText()).trim();
      assert(
        text === 'after round 1',
        `the ${panel} view's snapshot picker shows "${text}", not the label "after round 1" from the sidecar`,
      );
      const title = await option.getAttribute('title');
      assert(
        title === 's2.heapsnapshot',
        `the ${panel} view's snapshot picker gives the file name as "${title}", not s2.heapsnapshot`,
      );
    }
  });

  await check('a click on a retainer step opens the editor at that file and line', async () => {
    const view = webview(page);
    await view.locator('#panel-summary input[type=search]').fill('Session');
    const row = view.locator('#panel-summary tbody tr[data-index]', {
      has: view.locator('span.cls', { hasText: /^Session$/ }),
    });
    await row.first().click();
    const object = view.locator('#panel-summary section.objects tbody tr[data-index]').first();
    await object.waitFor();
    await object.click();
    const link = view.locator('#panel-retainers ol.path > li a.loc').last();
    await link.waitFor();
    const file = await link.getAttribute('data-file');
    const line = Number(await link.getAttribute('data-line'));
    log(`retainer step link: ${file}:${line}`);
    assert(
      file === path.join(workspace, 'leaky-server.js'),
      `the last located step names ${file}, not the workspace's leaky-server.js`,
    );
    // The step is the Session object; V8 places it at its class's constructor.
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const enclosing = lines
      .slice(0, line)
      .reverse()
      .find((l) => /^class /.test(l));
    assert(
      enclosing?.startsWith('class Session'),
      `line ${line} of leaky-server.js is not in class Session: ${lines[line - 1]}`,
    );
    await page.screenshot({ path: path.join(outDir, 'webview-vscode-retainers.png') });
    await link.click();
    await page.locator('.tabs-container .tab.active', { hasText: 'leaky-server.js' }).waitFor();
    const position = page.locator('[id="status.editor.selection"]');
    await position.filter({ hasText: new RegExp(`^Ln ${line}, Col \\d+`) }).waitFor();
    await page.screenshot({ path: path.join(outDir, 'webview-vscode-opened.png') });
  });
}
