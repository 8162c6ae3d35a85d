/**
 * The language server on reports of real runs: `leak-lens run` profiles the JavaScript demo (demo/leaky-server.js)
 * and the TypeScript demo (demo/ts-app, run from dist/ with source maps), and a real LSP client over stdio checks
 * the exact ranges of the diagnostics, code lenses, hovers and definitions the server derives from them.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Diagnostic } from 'vscode-languageserver';
import { pathToFileURL } from 'node:url';
import { stepText } from '../../render/steps';
import { formatBytes } from '../../server/format';
import { formatReport } from '../../src/cli/format';
import { md, reportMarkdownWith } from '../../src/extension/ui/reportMarkdown';
import { LspClient, uri } from './lspClient';
import { hoverMarkdown, mapReportFiles, repoRoot, runDemo, span, summary, tempDir, textAt, writeJson } from './helpers';
import type { LeakReport, SourceLocation } from '../../protocol/report';

const leakyServer = path.join(repoRoot, 'demo', 'leaky-server.js');
const storeTs = path.join(repoRoot, 'demo', 'ts-app', 'src', 'store.ts');
const storeJs = path.join(repoRoot, 'demo', 'ts-app', 'dist', 'store.js');

describe('language server on reports of real demo runs', () => {
  let jsReport: LeakReport;
  let tsReport: LeakReport;
  let dir: string;
  let client: LspClient;

  before(async () => {
    jsReport = runDemo('demo/leaky-server.js');
    tsReport = runDemo('demo/ts-app/dist/server.js', 'demo/ts-app/build.js');
    dir = tempDir('lsp-demos');
    client = await LspClient.start({
      roots: [repoRoot],
      initializationOptions: { hostCommands: true, reportFiles: [] },
    });
  });

  after(async () => {
    assert.equal(await client.stop(), 0);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('leaky-server.js: a warning on the `_connections` name and an information at `new Connection`', async () => {
    const file = writeJson(path.join(dir, 'leaky.json'), jsReport);
    const status = await client.setReport({ file });
    const g = jsReport.leaks.find((x) => x.id === 'Connection@_connections');
    assert.ok(g, JSON.stringify(jsReport.leaks.map((x) => x.id)));
    assert.deepEqual(
      {
        ok: status.ok,
        markers: status.markers,
        files: status.files,
        skipped: status.skipped,
        reanchored: status.reanchored,
      },
      { ok: true, markers: 2, files: 1, skipped: [], reanchored: 0 },
    );
    const ds = client.diagnosticsOf(leakyServer);
    assert.deepEqual(summary(ds), ['27:6-27:18 2 leak-owner', '31:15-31:29 3 leak-allocation']);
    assert.equal(textAt(leakyServer, ds[0].range), '_connections');
    assert.equal(textAt(leakyServer, ds[1].range), 'new Connection');
    assert.equal(
      ds[0].message,
      `_connections holds ${g.count} Connection (+${g.growthPerRound} per round, ${formatBytes(g.retainedSize)} retained)`,
    );
    assert.equal(
      ds[1].message,
      `${g.allocationSites[0].count} Connection allocated here in accept() leak through _connections (+${g.growthPerRound} per round)`,
    );
    assert.equal(ds[0].source, 'leak-lens');
    assert.deepEqual(ds[0].data, { groupId: 'Connection@_connections', reportFile: file });

    // Related information walks the retainer path: every step it shows is on a line that shows that step.
    const related = ds[0].relatedInformation ?? [];
    assert.ok(
      related.some(
        (r) =>
          r.location.uri === uri(leakyServer) &&
          span(r.location.range) === '31:15-31:29' &&
          r.message === `allocated here: ${g.allocationSites[0].count} in accept()`,
      ),
      JSON.stringify(related),
    );
    const handler = related.find((r) => r.message.includes('handler -> anonymous() (demo/leaky-server.js:40)'));
    assert.ok(handler, JSON.stringify(related));
    assert.equal(span(handler.location.range), '39:0-39:21');
    assert.equal(textAt(leakyServer, handler.location.range), 'serve((req, res) => {');
    // A class's place in a heap snapshot is its constructor.
    const connectionStep = related.find((r) => r.message.endsWith('-> Connection (demo/leaky-server.js:8)'));
    assert.ok(
      connectionStep &&
        textAt(leakyServer, connectionStep.location.range) === 'constructor' &&
        connectionStep.location.range.start.line === 7,
      JSON.stringify(connectionStep),
    );
    assert.deepEqual(ds[1].relatedInformation, [
      { location: { uri: uri(leakyServer), range: ds[0].range }, message: 'held by _connections' },
    ]);
  });

  test('leaky-server.js: code lenses above both lines run leakLens.showLeakGroup with the group', async () => {
    const g = jsReport.leaks.find((x) => x.id === 'Connection@_connections')!;
    const file = path.join(dir, 'leaky.json');
    const lenses = await client.codeLenses(leakyServer);
    assert.deepEqual(lenses, [
      {
        range: { start: { line: 27, character: 6 }, end: { line: 27, character: 18 } },
        command: {
          title: `${g.count} Connection leaked, ${formatBytes(g.retainedSize)}, show retainers`,
          command: 'leakLens.showLeakGroup',
          arguments: [{ groupId: g.id, reportFile: file, at: 'owner' }],
        },
      },
      {
        range: { start: { line: 31, character: 15 }, end: { line: 31, character: 29 } },
        command: {
          title: `${g.allocationSites[0].count} Connection allocated here leaked, show retainers`,
          command: 'leakLens.showLeakGroup',
          arguments: [{ groupId: g.id, reportFile: file, at: 'allocation' }],
        },
      },
    ]);
  });

  test('leaky-server.js: the hover shows the retainer path with links to the lines', async () => {
    const g = jsReport.leaks.find((x) => x.id === 'Connection@_connections')!;
    assert.equal(await client.hover(leakyServer, 27, 5), null, 'just before the name');
    const h = await client.hover(leakyServer, 27, 10);
    const md = hoverMarkdown(h);
    assert.equal(span(h!.range!), '27:6-27:18');
    const lines = md.split('\n');
    assert.equal(
      lines[0],
      `**Leak Lens**: ${g.count} \`Connection\` held by \`_connections\` (+${g.growthPerRound} per round, ${formatBytes(g.retainedSize)} retained)`,
    );
    assert.ok(lines.includes('- `_connections -> Array` **← owner**'), md);
    assert.ok(lines.includes(`- \`handler -> anonymous()\` ([demo/leaky-server.js:40](${uri(leakyServer)}#L40))`), md);
    assert.ok(
      lines.includes(
        `- ${g.allocationSites[0].count} in \`accept()\` at [demo/leaky-server.js:32](${uri(leakyServer)}#L32)`,
      ),
      md,
    );
    const args = encodeURIComponent(
      JSON.stringify([{ groupId: g.id, reportFile: path.join(dir, 'leaky.json'), at: 'owner' }]),
    );
    assert.equal(lines[lines.length - 1], `[Show retainers](command:leakLens.showLeakGroup?${args})`);
    // The allocation site hovers too, with the same group.
    const h2 = await client.hover(leakyServer, 31, 20);
    assert.ok(h2 && span(h2.range!) === '31:15-31:29');
  });

  test('leaky-server.js: each retainer step reads the same in the CLI, the markdown, the hover and the related information, the file open or not', async () => {
    const g = jsReport.leaks.find((x) => x.id === 'Connection@_connections')!;
    const steps = g.retainerPath;
    const rel = (f: string): string => path.relative(repoRoot, f);
    const serveJs = path.join(repoRoot, 'demo', 'lib', 'serve.js');
    // The demo's path, as every view must say it: the global object reads `global` (V8 names it `global / ` in a
    // snapshot the inspector takes and `global` in one the program writes itself, as `run` has it do), a closure's
    // variable has no dot, each function or constructor with its line (a class's place in a heap snapshot is its
    // constructor, line 8).
    const expected = new Map<number, string>();
    steps.forEach((s, i) => {
      if (s.edge === '2' && (s.node === 'global / ' || s.node === 'global')) expected.set(i, '[2] -> global');
      if (s.edge === 'handler') expected.set(i, 'handler -> anonymous() (demo/leaky-server.js:40)');
      if (s.edge === 'listener' && s.location)
        expected.set(i, `.listener -> stop() (demo/lib/serve.js:${s.location.line})`);
      if (s.node === 'Connection' && i === steps.length - 1)
        expected.set(i, `${s.edge} -> Connection (demo/leaky-server.js:8)`);
    });
    assert.equal(expected.size, 4, JSON.stringify(steps));
    const texts = steps.map((s, i) => stepText(s, i, rel));
    for (const [i, text] of expected) assert.equal(texts[i], text);

    // The CLI: one line per step it shows.
    const cli = formatReport(jsReport, repoRoot).split('\n');
    const cliSteps = steps
      .map((s, i) => i)
      .filter((i) => cli.includes(`     ${texts[i]}${steps[i].owner ? '   <- owner' : ''}`));
    assert.ok(cliSteps.length >= 4 && cliSteps.includes(steps.length - 1), cli.join('\n'));
    // The VS Code markdown (links undone): the same words, the same lines.
    const link = (loc: SourceLocation | undefined): string =>
      loc ? `[${md(`${rel(loc.file)}:${loc.line}`)}](${pathToFileURL(loc.file).href}#L${loc.line})` : '';
    const markdown = reportMarkdownWith(jsReport, link)
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/\*\*/g, '')
      .replace(/\\(.)/g, '$1')
      .split('\n');
    for (const i of cliSteps)
      assert.ok(
        markdown.includes(`1. ${texts[i]}${steps[i].owner ? ' ← owner' : ''}`),
        `${texts[i]}\n${markdown.join('\n')}`,
      );

    // The language server, with the file closed and then open in the editor (as in VS Code): hover lines and related
    // information say each step as the CLI does, and link it to the line the report gives.
    const file = writeJson(path.join(dir, 'leaky.json'), jsReport);
    await client.setReport({ file });
    const check = async (state: string): Promise<void> => {
      const hover = hoverMarkdown(await client.hover(leakyServer, 27, 10)).split('\n');
      const related = diagnosticAtLine(client.diagnosticsOf(leakyServer), 27).relatedInformation ?? [];
      for (const i of cliSteps) {
        const s = steps[i];
        const label = stepText(s, i, rel).replace(/ \([^)]*\)$/, '');
        const owner = s.owner ? ' **← owner**' : '';
        if (!s.location) {
          assert.ok(hover.includes(`- \`${label}\`${owner}`), `${state}: ${label}\n${hover.join('\n')}`);
          continue;
        }
        const where = `${rel(s.location.file)}:${s.location.line}`;
        const hoverLine = `- \`${label}\` ([${where.replace(/[\\`*_[\]<>|~]/g, (c) => '\\' + c)}](${uri(s.location.file)}#L${s.location.line}))${owner}`;
        assert.ok(hover.includes(hoverLine), `${state}: ${hoverLine}\n${hover.join('\n')}`);
        const r = related.find(
          (x) =>
            x.message === `retainer path step ${i + 1} of ${steps.length}: ${texts[i]}${s.owner ? ' (owner)' : ''}`,
        );
        assert.ok(
          r,
          `${state}: no related information for ${texts[i]}: ${JSON.stringify(related.map((x) => x.message))}`,
        );
        assert.equal(r.location.uri, uri(s.location.file));
        assert.equal(r.location.range.start.line + 1, s.location.line, `${state}: ${texts[i]}`);
      }
      assert.ok(!hover.some((l) => l.includes('global / ')), hover.join('\n'));
    };
    await check('closed');
    await client.open(leakyServer);
    await client.open(serveJs);
    try {
      await check('open');
    } finally {
      await client.close(leakyServer);
      await client.close(serveJs);
    }
  });

  test('leaky-server.js: go to definition leads from the owner to the allocation and back', async () => {
    assert.deepEqual(await client.definition(leakyServer, 27, 6), [
      {
        originSelectionRange: { start: { line: 27, character: 6 }, end: { line: 27, character: 18 } },
        targetUri: uri(leakyServer),
        targetRange: { start: { line: 31, character: 15 }, end: { line: 31, character: 29 } },
        targetSelectionRange: { start: { line: 31, character: 15 }, end: { line: 31, character: 29 } },
      },
    ]);
    const back = await client.definition(leakyServer, 31, 29);
    assert.equal(back?.length, 1);
    assert.equal(span(back[0].targetRange), '27:6-27:18');
    assert.equal(await client.definition(leakyServer, 33, 2), null);
  });

  test('ts-app: markers land in src/store.ts through the source maps', async () => {
    const g = tsReport.leaks.find((x) => x.id === 'CachedUser@UserStore.cache');
    assert.ok(g, JSON.stringify(tsReport.leaks.map((x) => x.id)));
    const file = writeJson(path.join(dir, 'ts.json'), tsReport);
    const status = await client.setReport({ file });
    assert.equal(status.markers, 2);
    const ds = client.diagnosticsOf(storeTs);
    assert.deepEqual(summary(ds), ['36:26-36:31 2 leak-owner', '43:17-43:31 3 leak-allocation']);
    assert.equal(textAt(storeTs, ds[0].range), 'cache');
    assert.equal(textAt(storeTs, ds[1].range), 'new CachedUser');
    assert.equal(
      ds[0].message,
      `UserStore.cache holds ${g.count} CachedUser (+${g.growthPerRound} per round, ${formatBytes(g.retainedSize)} retained)${
        g.alsoHeld.length
          ? `; also ${g.alsoHeld
              .slice(0, 3)
              .map((a) => `${a.count} ${a.className}`)
              .join(', ')}`
          : ''
      }`,
    );
    assert.deepEqual(client.diagnosticsOf(storeJs), [], 'nothing in the generated file');
    const lenses = await client.codeLenses(storeTs);
    assert.deepEqual(
      lenses?.map((l) => span(l.range)),
      ['36:26-36:31', '43:17-43:31'],
    );
    const md = hoverMarkdown(await client.hover(storeTs, 36, 28));
    assert.ok(md.includes(`at [demo/ts-app/src/store.ts:44](${uri(storeTs)}#L44)`), md);
  });

  test('ts-app: opened, its static suspects are merged into the runtime marker or raised to warnings by it', async () => {
    const opened = await client.open(storeTs);
    assert.deepEqual(summary(opened), [
      '36:26-36:31 2 leak-owner',
      '43:17-43:31 3 leak-allocation',
      '44:24-44:27 2 static/per-request-cache-key',
    ]);
    assert.match(
      opened[0].message,
      /\nStatic check agrees: UserStore\.cache is a static Map that is only ever added to \(set at line 45\)/,
    );
    assert.equal(textAt(storeTs, opened[2].range), 'key');
    assert.match(
      opened[2].message,
      /^the key of UserStore\.cache includes req\.requestId, which differs on every request: lookups never hit, and every entry stays \(confirmed by the runtime report: UserStore\.cache holds \d+ CachedUser/,
    );
    await client.close(storeTs);
  });

  test("ts-app: a report that points into the generated JavaScript is mapped to the TypeScript by the file's source map", async () => {
    // As a capture without source map support would write it: generated positions only.
    const generatedOnly = JSON.parse(JSON.stringify(tsReport)) as LeakReport;
    const toGenerated = (
      l:
        | { file: string; line: number; column: number; generated?: { file: string; line: number; column: number } }
        | undefined,
    ): void => {
      if (l?.generated) Object.assign(l, l.generated, { generated: undefined });
    };
    for (const g of generatedOnly.leaks) {
      toGenerated(g.owner.location);
      g.allocationSites.forEach((s) => toGenerated(s.location));
      g.retainerPath.forEach((s) => toGenerated(s.location));
    }
    assert.equal(generatedOnly.leaks[0].owner.location?.file, storeJs);
    await client.conn.sendNotification('leakLens/clearReport', {});
    const status = await client.setReport({ report: generatedOnly, source: 'generated-only' });
    assert.equal(status.markers, 2);
    assert.deepEqual(summary(client.diagnosticsOf(storeTs)), [
      '36:26-36:31 2 leak-owner',
      '43:17-43:31 3 leak-allocation',
    ]);
    assert.deepEqual(client.diagnosticsOf(storeJs), []);
  });

  test('ts-app: when the TypeScript source is not in the workspace, the generated file is marked', async () => {
    const moved = mapReportFiles(tsReport, (f) =>
      f.replace(path.join(repoRoot, 'demo', 'ts-app', 'src'), '/elsewhere/src'),
    );
    await client.conn.sendNotification('leakLens/clearReport', {});
    const status = await client.setReport({ report: moved, source: 'no-sources' });
    assert.equal(status.markers, 2, JSON.stringify(status));
    assert.deepEqual(client.diagnosticsOf(storeTs), []);
    const ds = client.diagnosticsOf(storeJs);
    assert.deepEqual(summary(ds), ['20:11-20:16 2 leak-owner', '27:21-27:35 3 leak-allocation']);
    assert.equal(textAt(storeJs, ds[0].range), 'cache');
    assert.ok(
      client.logs.some((l) =>
        l.includes('/elsewhere/src/store.ts is not in the workspace; marking its generated file'),
      ),
      client.logs.join('\n'),
    );
  });
});

/** The runtime diagnostic (owner or allocation) that starts on a zero-based line. */
function diagnosticAtLine(ds: Diagnostic[], line: number): Diagnostic {
  const d = ds.find((x) => x.range.start.line === line && String(x.code).startsWith('leak-'));
  assert.ok(d, JSON.stringify(ds.map((x) => [x.range.start.line, x.code])));
  return d;
}
