/**
 * One report, four views: the retainer path of the demo's leak as the CLI prints it, as the VS Code markdown shows it,
 * as the language server says it (hover and related information, over a real LSP client on stdio) and as the report
 * panel draws it (the real webview bundle in headless Chromium). The CLI shows a window of the path (the steps near the
 * owner and the object); every other view shows at least those steps, each with the same words and the same file and
 * line, because every view renders them with render/steps.ts; the panel shows the whole path.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { EngineClient } from '../../engine/client';
import type { LeakReport, RetainerStep, SourceLocation } from '../../protocol/report';
import { STEP_ARROW, stepLabel, stepText, stepWhere } from '../../render/steps';
import { formatReport } from '../../src/cli/format';
import { md, reportMarkdownWith } from '../../src/extension/ui/reportMarkdown';
import { LspClient, uri } from '../server/lspClient';
import { launchBrowser, repoRoot, serveWebview, Server, WebviewPage } from './harness';
import { demoReport } from './reports';

const rel = (f: string): string => path.relative(repoRoot, f);

/** A step as every view must say it: its words and, when located, its file and line. */
interface Said {
  text: string;
  where?: string;
}

describe('one report in every view', () => {
  let report: LeakReport;
  let reportFile: string;
  let browser: Browser;
  let server: Server;
  let engine: EngineClient;
  let client: LspClient;

  before(async () => {
    const run = demoReport('leaky-server');
    report = run.report;
    reportFile = path.join(run.dir, 'report.json');
    assert.ok(fs.existsSync(reportFile), reportFile);
    browser = await launchBrowser();
    server = await serveWebview();
    engine = new EngineClient(1024);
    client = await LspClient.start({
      roots: [repoRoot],
      initializationOptions: { hostCommands: true, reportFiles: [] },
    });
  });

  after(async () => {
    assert.equal(await client?.stop(), 0);
    await browser?.close();
    await server?.close();
    await engine?.dispose();
  });

  test('the CLI, the markdown, the hover, the related information and the panel show the same steps and lines', async () => {
    const g = report.leaks.find((x) => x.className === 'Connection');
    assert.ok(g, JSON.stringify(report.leaks.map((x) => x.id)));
    const steps = g.retainerPath;
    const expected: Said[] = steps.map((s, i) => ({
      text: stepLabel(s, i),
      where: s.location ? stepWhere(s.location, rel) : undefined,
    }));
    const full = steps.map((s, i) => stepText(s, i, rel));

    // The CLI shows a window of the path (the steps nearest the owner and the object); each line is one step.
    const cli = formatReport(report, repoRoot).split('\n');
    const shown = steps
      .map((_, i) => i)
      .filter((i) => cli.includes(`     ${full[i]}${steps[i].owner ? '   <- owner' : ''}`));
    const ownerIndex = steps.findIndex((s) => s.owner);
    assert.ok(
      shown.length >= 4 && shown.includes(steps.length - 1) && shown.includes(ownerIndex),
      `the CLI's steps ${JSON.stringify(shown)}:\n${cli.join('\n')}`,
    );

    // The VS Code markdown, links undone: the same steps, in the same words.
    const link = (loc: SourceLocation | undefined): string =>
      loc ? `[${md(`${rel(loc.file)}:${loc.line}`)}](${pathToFileURL(loc.file).href}#L${loc.line})` : '';
    const markdown = reportMarkdownWith(report, link)
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/\*\*/g, '')
      .replace(/\\(.)/g, '$1')
      .split('\n');
    const inMarkdown = steps
      .map((_, i) => i)
      .filter((i) => markdown.includes(`1. ${full[i]}${steps[i].owner ? ' ← owner' : ''}`));
    // The markdown may show more of the path than the CLI's window, never less, and never other words.
    for (const i of shown) assert.ok(inMarkdown.includes(i), `the markdown lacks ${full[i]}:\n${markdown.join('\n')}`);

    // The language server, on the same report file: the owner's hover and its diagnostic's related information.
    const status = await client.setReport({ file: reportFile });
    assert.ok(status.ok, JSON.stringify(status));
    const owner = g.owner.location!;
    const ownerLine = fs.readFileSync(owner.file, 'utf8').split('\n')[owner.line - 1];
    const hover = (await client.hover(owner.file, owner.line - 1, ownerLine.indexOf(g.owner.name) + 1))?.contents;
    const hoverText = (typeof hover === 'object' && hover && 'value' in hover ? hover.value : '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/\\(.)/g, '$1')
      .split('\n');
    const diagnostic = client
      .diagnosticsOf(owner.file)
      .find((d) => d.range.start.line === owner.line - 1 && String(d.code).startsWith('leak-'));
    assert.ok(diagnostic, JSON.stringify(client.diagnosticsOf(owner.file)));
    const related = diagnostic.relatedInformation ?? [];
    for (const i of shown) {
      const s: RetainerStep = steps[i];
      const said = expected[i];
      const mark = s.owner ? ' ← owner' : '';
      const hoverLine = `- \`${said.text}\`${said.where ? ` (${said.where})` : ''}${mark ? ' **← owner**' : ''}`;
      assert.ok(
        hoverText.includes(hoverLine.replace(/\*\*/g, '')) || hoverText.includes(hoverLine),
        `hover lacks ${hoverLine}:\n${hoverText.join('\n')}`,
      );
      if (!s.location) continue;
      const r = related.find(
        (x) => x.message === `retainer path step ${i + 1} of ${steps.length}: ${full[i]}${s.owner ? ' (owner)' : ''}`,
      );
      assert.ok(r, `no related information for ${full[i]}: ${JSON.stringify(related.map((x) => x.message))}`);
      assert.equal(r.location.uri, uri(s.location.file));
      assert.equal(r.location.range.start.line + 1, s.location.line, full[i]);
    }

    // The panel, given the same report: every step of the path, each in the same words and with the same line.
    const w = await WebviewPage.open(browser, server, {
      engine,
      input: { title: 'Leak Lens report', report, root: repoRoot },
    });
    try {
      await w.page.locator('table.leaks tbody tr[data-index]').first().waitFor();
      const items = w.page.locator('section.detail ol.path > li');
      assert.equal(await items.count(), steps.length);
      for (const [i, s] of steps.entries()) {
        const li = items.nth(i);
        const node = await li.locator('.node').innerText();
        const text = i === 0 && !s.edge ? node : `${await li.locator('.edge').innerText()}${STEP_ARROW}${node}`;
        const where = s.location ? await li.locator('a.loc').innerText() : undefined;
        assert.deepEqual({ text, where }, expected[i], `step ${i + 1} of the panel's path`);
      }
    } finally {
      await w.close();
    }
  });
});
