/**
 * The language server on reports of real runs of leak corpus apps, one per new fact of a leak group: a chain
 * (undo-history-chain), a growing Set of strings (dedupe-set, ESM), listeners that hold objects through a closure
 * (bus-listeners), a library owner held by an application variable (dataloader-cache), objects made inside a
 * library called from the application (winston-container) and a leak inside a worker thread (worker-jobs). A real
 * LSP client over stdio checks where the diagnostics go, their related information and the hovers. The last test
 * checks that the CLI text, the report markdown and the hover name the same owner line, adding line and link.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Diagnostic } from 'vscode-languageserver';
import { formatBytes } from '../../server/format';
import { formatReport } from '../../src/cli/format';
import { md, reportMarkdownWith } from '../../src/extension/ui/reportMarkdown';
import { LspClient, uri } from './lspClient';
import { corpusDir, hoverMarkdown, repoRoot, runCorpus, span, textAt } from './helpers';
import type { LeakGroup, LeakReport, SourceLocation } from '../../protocol/report';

const APPS = [
  'undo-history-chain',
  'dedupe-set',
  'bus-listeners',
  'dataloader-cache',
  'winston-container',
  'worker-jobs',
] as const;
type App = (typeof APPS)[number];

function group(report: LeakReport, className: string): LeakGroup {
  const g = report.leaks.find((x) => x.className === className);
  assert.ok(g, `no ${className} group in ${JSON.stringify(report.leaks.map((x) => x.id))}`);
  return g;
}

/** The one diagnostic of `code` on a (zero-based) line. */
function diagnosticAt(ds: Diagnostic[], code: string, line: number): Diagnostic {
  const d = ds.filter((x) => x.code === code && x.range.start.line === line);
  assert.equal(
    d.length,
    1,
    `one ${code} on line ${line + 1}: ${JSON.stringify(ds.map((x) => `${span(x.range)} ${String(x.code)}`))}`,
  );
  return d[0];
}

/** Related information as `file:line message` (one-based line, file relative to the repository). */
function relatedLines(d: Diagnostic): string[] {
  return (d.relatedInformation ?? []).map(
    (r) =>
      `${path.relative(repoRoot, new URL(r.location.uri).pathname)}:${r.location.range.start.line + 1} ${r.message}`,
  );
}

function rel(loc: SourceLocation | undefined): string {
  assert.ok(loc, 'a location');
  return `${path.relative(repoRoot, loc.file)}:${loc.line}`;
}

describe('language server on reports of real corpus runs (chains, collections, callbacks, libraries, threads)', () => {
  const reports = {} as Record<App, LeakReport>;
  let client: LspClient;

  before(async () => {
    for (const app of APPS) reports[app] = runCorpus(app);
    client = await LspClient.start({
      roots: [repoRoot],
      initializationOptions: { hostCommands: false, reportFiles: [] },
    });
    for (const app of APPS) {
      const status = await client.setReport({ report: reports[app], source: app });
      assert.equal(status.ok, true, JSON.stringify(status));
    }
  });

  after(async () => {
    assert.equal(await client?.stop(), 0);
  });

  test('a chain: the warning on `head` says each Revision keeps the previous one through its link', async () => {
    const g = group(reports['undo-history-chain'], 'Revision');
    assert.equal(g.kind, 'chain');
    assert.ok(g.chain && g.chain.link.length > 0, JSON.stringify(g.chain));
    const file = path.join(corpusDir('undo-history-chain'), 'server.js');
    const d = diagnosticAt(client.diagnosticsOf(file), 'leak-owner', 19);
    assert.equal(textAt(file, d.range), 'head');
    const sentence = `each Revision keeps the previous one alive through .${g.chain.link.join(' -> ')}`;
    assert.equal(
      d.message,
      `head holds a chain of ${g.count} Revision (+${g.growthPerRound} per round, ${formatBytes(g.retainedSize)} retained): ${sentence}`,
    );
    const h = hoverMarkdown(await client.hover(file, d.range.start.line, d.range.start.character + 1));
    assert.ok(h.split('\n').includes(`E${sentence.slice(1)}`.replace(/>/g, '\\>')), h);
    assert.match(h, /^\*\*Leak Lens\*\*: \d+ `Revision` \(a chain\) held by `head`/);
  });

  test('a growing Set: the warning is on its declaration, the line that adds entries is related information', async () => {
    const g = group(reports['dedupe-set'], 'Set');
    assert.equal(g.kind, 'collection');
    const c = g.collection!;
    assert.equal(rel(c.addedAt), 'test/corpus/dedupe-set/main.mjs:28');
    const file = path.join(corpusDir('dedupe-set'), 'main.mjs');
    const ds = client.diagnosticsOf(file);
    const d = diagnosticAt(ds, 'leak-owner', 5);
    assert.equal(textAt(file, d.range), 'processedDeliveries');
    assert.equal(
      d.message,
      `processedDeliveries (Set) grows: +${g.growthPerRound} entries per round (${c.entries.join(' -> ')}), ${formatBytes(g.retainedSize)} retained`,
    );
    assert.ok(
      relatedLines(d).includes('test/corpus/dedupe-set/main.mjs:28 entries added here'),
      JSON.stringify(relatedLines(d)),
    );
    // The adding line is not an allocation of the collection: no marker of its own.
    assert.deepEqual(
      ds.filter((x) => x.range.start.line === 27),
      [],
    );
    const h = hoverMarkdown(await client.hover(file, d.range.start.line, d.range.start.character + 1));
    assert.ok(h.includes(`Entries added at [test/corpus/dedupe-set/main.mjs:28](${uri(file)}#L28)`), h);
    assert.ok(
      h.startsWith(
        `**Leak Lens**: \`processedDeliveries\` (\`Set\`) grows: +${g.growthPerRound} entries per round (${c.entries.join(' -\\> ')})`,
      ),
      h,
    );
  });

  test('listeners: the warning at `.on(`, the emitter declaration and the closure as related information', async () => {
    const g = group(reports['bus-listeners'], 'PriceView');
    assert.equal(g.owner.kind, 'listeners');
    assert.deepEqual(
      g.owner.related?.map((r) => `${r.label} ${rel(r.location)}`),
      ['emitter declared test/corpus/bus-listeners/bus.js:6'],
    );
    const file = path.join(corpusDir('bus-listeners'), 'routes', 'pricing.js');
    const d = diagnosticAt(client.diagnosticsOf(file), 'leak-owner', 32);
    assert.match(textAt(file, d.range), /^bus/);
    assert.ok(d.message.includes(`, each through a callback ${g.heldVia!.className}`), d.message);
    const related = relatedLines(d);
    assert.ok(related.includes('test/corpus/bus-listeners/bus.js:6 emitter declared'), JSON.stringify(related));
    assert.ok(
      related.includes(
        `test/corpus/bus-listeners/routes/pricing.js:33 each through a callback ${g.heldVia!.className}`,
      ),
      JSON.stringify(related),
    );
    const h = hoverMarkdown(await client.hover(file, d.range.start.line, d.range.start.character + 1));
    const bus = path.join(corpusDir('bus-listeners'), 'bus.js');
    assert.ok(h.includes(`Emitter declared: [test/corpus/bus-listeners/bus.js:6](${uri(bus)}#L6)`), h);
    assert.ok(
      h.includes(
        `Each through a callback ${g.heldVia!.className} at [test/corpus/bus-listeners/routes/pricing.js:33](${uri(file)}#L33)`,
      ),
      h,
    );
  });

  test('a library owner: marked in node_modules and at the application variable that holds the library object', async () => {
    const g = group(reports['dataloader-cache'], 'UserProfile');
    assert.equal(rel(g.owner.location), 'node_modules/dataloader/index.js:39');
    const holder = g.owner.related?.find((r) => !r.location.file.includes('node_modules'));
    assert.ok(holder, JSON.stringify(g.owner.related));
    const app = path.join(corpusDir('dataloader-cache'), 'server.js');
    const lib = path.join(repoRoot, 'node_modules', 'dataloader', 'index.js');
    const d = diagnosticAt(client.diagnosticsOf(app), 'leak-holder', holder.location.line - 1);
    assert.equal(textAt(app, d.range), 'profileLoader');
    assert.equal((d.data as { groupId?: string }).groupId, g.id);
    assert.equal(d.severity, 2);
    assert.ok(
      d.message.startsWith(
        `${holder.label}: DataLoader._cacheMap holds ${g.count} UserProfile (+${g.growthPerRound} per round, `,
      ),
      d.message,
    );
    assert.ok(
      relatedLines(d).includes(`node_modules/dataloader/index.js:39 the library's owner: DataLoader._cacheMap`),
      JSON.stringify(relatedLines(d)),
    );
    const owner = diagnosticAt(client.diagnosticsOf(lib), 'leak-owner', 38);
    assert.ok(
      relatedLines(owner).includes(`test/corpus/dataloader-cache/server.js:${holder.location.line} ${holder.label}`),
      JSON.stringify(relatedLines(owner)),
    );
    // The code lens is where the user edits, too; it opens the same group.
    const lenses = (await client.codeLenses(app)) ?? [];
    const lens = lenses.find((l) => l.range.start.line === holder.location.line - 1);
    assert.ok(lens, JSON.stringify(lenses));
    assert.deepEqual(lens.command?.arguments, [{ groupId: g.id, at: 'owner' }]);
    const h = hoverMarkdown(await client.hover(app, d.range.start.line, d.range.start.character + 1));
    // Link text is escaped markdown: `node\_modules`.
    assert.ok(h.includes(`Owner declared at [node\\_modules/dataloader/index.js:39](${uri(lib)}#L39)`), h);
    // A site found in the source, not in V8's stacks, says so.
    for (const s of g.allocationSites.slice(0, 5).filter((x) => x.fromSource))
      assert.ok(
        h.includes(`- ${s.count} in \`${s.function}()\``) && h.includes('(found in the source'),
        `${JSON.stringify(g.allocationSites)}\n${h}`,
      );
  });

  test('objects made inside a library: the application line that called it is related information, the creating stack is in the hover', async () => {
    const g = group(reports['winston-container'], 'DerivedLogger');
    const site = g.allocationSites.find((s) => s.caller);
    assert.ok(site?.caller?.location && site.location && site.stack, JSON.stringify(g.allocationSites));
    assert.equal(rel(site.caller.location), 'test/corpus/winston-container/server.js:10');
    const libFile = site.location.file;
    const d = diagnosticAt(client.diagnosticsOf(libFile), 'leak-allocation', site.location.line - 1);
    const callerLine = `test/corpus/winston-container/server.js:10 called from ${site.caller.function}(), which made ${site.count} DerivedLogger in ${site.function}()`;
    assert.ok(relatedLines(d).includes(callerLine), JSON.stringify(relatedLines(d)));
    const owner = diagnosticAt(client.diagnosticsOf(g.owner.location!.file), 'leak-owner', g.owner.location!.line - 1);
    assert.ok(relatedLines(owner).includes(callerLine), JSON.stringify(relatedLines(owner)));
    const h = hoverMarkdown(
      await client.hover(g.owner.location!.file, owner.range.start.line, owner.range.start.character + 1),
    );
    const server = path.join(corpusDir('winston-container'), 'server.js');
    assert.ok(
      h.includes(
        `  - Called from ${site.caller.function}() at [test/corpus/winston-container/server.js:10](${uri(server)}#L10)`,
      ),
      h,
    );
    const appFrame = site.stack.find((f) => f.app);
    assert.ok(appFrame?.location, JSON.stringify(site.stack));
    assert.ok(
      h.includes(
        `    - \`${appFrame.function}() (application)\` at [test/corpus/winston-container/server.js:${appFrame.location.line}](${uri(server)}#L${appFrame.location.line})`,
      ),
      h,
    );
    assert.equal(h.split('\n').filter((l) => l.startsWith('    - `')).length, Math.min(10, site.stack.length));
  });

  test('a worker thread: messages and hovers name the thread', async () => {
    const r = reports['worker-jobs'];
    assert.ok((r.threads?.length ?? 0) > 1, JSON.stringify(r.threads));
    const g = group(r, 'ThumbnailJob');
    assert.match(g.thread ?? '', /^worker \d+/);
    const file = path.join(corpusDir('worker-jobs'), 'worker.js');
    const d = diagnosticAt(client.diagnosticsOf(file), 'leak-owner', 16);
    assert.equal(textAt(file, d.range), 'jobs');
    assert.ok(d.message.includes(` (thread: ${g.thread!.slice(0, 60)}`), d.message);
    const h = hoverMarkdown(await client.hover(file, d.range.start.line, d.range.start.character + 1));
    assert.ok(h.includes('Thread: `worker '), h);
  });

  test('one report, three views: the CLI text, the markdown and the hover show the same owner line, adding line and link', async () => {
    const r = reports['dedupe-set'];
    const g = group(r, 'Set');
    const file = path.join(corpusDir('dedupe-set'), 'main.mjs');
    const ownerAt = 'test/corpus/dedupe-set/main.mjs:6';
    const addedAt = 'test/corpus/dedupe-set/main.mjs:28';
    const addedLink = `${pathToFileURL(file).href}#L28`;
    const growth = `+${g.growthPerRound} entries per round (${g.collection!.entries.join(' -> ')})`;

    const cli = formatReport(r, repoRoot).split('\n');
    assert.ok(cli.includes(`   held by processedDeliveries [variable]  ${ownerAt}`), cli.join('\n'));
    assert.ok(cli.includes(`   entries added at  ${addedAt}`), cli.join('\n'));
    assert.ok(
      cli.some((l) => l.includes(`processedDeliveries (Set) grows: ${growth}`)),
      cli.join('\n'),
    );

    // The markdown as the extension renders it, with links as VS Code's (file URI and #L line); escapes undone.
    const link = (loc: SourceLocation | undefined): string =>
      loc
        ? `[${md(`${path.relative(repoRoot, loc.file)}:${loc.line}`)}](${pathToFileURL(loc.file).href}#L${loc.line})`
        : '';
    const markdown = reportMarkdownWith(r, link).replace(/\\(.)/g, '$1').split('\n');
    assert.ok(
      markdown.includes(
        `- **Held by** \`processedDeliveries\` (variable) at [${ownerAt}](${pathToFileURL(file).href}#L6)`,
      ),
      markdown.join('\n'),
    );
    assert.ok(markdown.includes(`- **Entries added at** [${addedAt}](${addedLink})`), markdown.join('\n'));
    assert.ok(
      markdown.some((l) => l.includes(`processedDeliveries (Set) grows: ${growth}`)),
      markdown.join('\n'),
    );

    const d = diagnosticAt(client.diagnosticsOf(file), 'leak-owner', 5);
    const hover = await client.hover(file, d.range.start.line, d.range.start.character + 1);
    const h = hoverMarkdown(hover).replace(/\\(.)/g, '$1');
    assert.equal(`${path.relative(repoRoot, file)}:${hover!.range!.start.line + 1}`, ownerAt);
    assert.ok(h.includes(`Entries added at [${addedAt}](${addedLink})`), h);
    assert.ok(h.includes(`grows: ${growth}`), h);
  });
});
