/**
 * How reports reach the server and how their file names become workspace files: the engine's report on fixture
 * snapshots (test/fixtures/apps/basic-leak.js, made by a real Node process), sent inline, as a file, through a path
 * map (a report from a container), with file URLs, found and watched on disk, changed by settings, and opened as a
 * group by a client that has no webview.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { ShowGroupParams } from '../../protocol/lsp';
import {
  basicLeak,
  fixtureReport,
  hoverMarkdown,
  mapReportFiles,
  repoRoot,
  summary,
  tempDir,
  writeJson,
} from './helpers';
import { LspClient, uri } from './lspClient';
import type { LeakReport } from '../../protocol/report';

/** Both groups of the fixture, owner then allocation site, as `span severity code`. */
const expected = [
  '12:6-12:18 2 leak-owner',
  '14:15-14:29 3 leak-allocation',
  '26:9-26:16 2 leak-owner',
  '28:35-28:55 3 leak-allocation',
];

describe('language server: reports from the engine, paths and report files', () => {
  let report: LeakReport;
  const clients: LspClient[] = [];
  const dirs: string[] = [];

  async function start(options: Parameters<typeof LspClient.start>[0]): Promise<LspClient> {
    const c = await LspClient.start(options);
    clients.push(c);
    return c;
  }

  function dir(prefix: string): string {
    const d = tempDir(prefix);
    dirs.push(d);
    return d;
  }

  before(() => {
    report = fixtureReport();
    assert.deepEqual(report.leaks.map((g) => g.id).sort(), [
      'CompiledTemplate@TemplateCache.entries',
      'Connection@_connections',
    ]);
  });

  after(async () => {
    for (const c of clients) assert.equal(await c.stop(), 0, c.stderr);
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  test('an inline report marks the owners and allocation sites of both groups', async () => {
    const c = await start({ roots: [repoRoot], initializationOptions: { reportFiles: [] } });
    const status = await c.setReport({ report, source: 'fixture' });
    assert.deepEqual(
      { ok: status.ok, groups: status.groups, markers: status.markers, files: status.files, skipped: status.skipped },
      { ok: true, groups: 2, markers: 4, files: 1, skipped: [] },
    );
    assert.deepEqual(summary(c.diagnosticsOf(basicLeak)), expected);
    assert.ok(c.logs.includes('report fixture: 2 leak groups, 4 markers in 1 file'), c.logs.join('\n'));
    // A second report from the same source replaces the first; clearing it removes every marker.
    await c.setReport({
      report: { ...report, leaks: report.leaks.filter((g) => g.id === 'Connection@_connections') },
      source: 'fixture',
    });
    assert.deepEqual(summary(c.diagnosticsOf(basicLeak)), expected.slice(0, 2));
    await c.conn.sendNotification('leakLens/clearReport', { source: 'fixture' });
    await c.waitFor(() => c.diagnosticsOf(basicLeak).length === 0, 'the markers to clear');
  });

  test('a report from a container is mapped by leakLens.pathMap, or by the tail of its paths', async () => {
    const container = mapReportFiles(report, (f) => f.replace(repoRoot, '/app'));
    assert.equal(container.leaks[0].owner.location?.file.startsWith('/app/test/fixtures/apps/'), true);
    const mapped = await start({
      roots: [repoRoot],
      initializationOptions: { reportFiles: [], pathMap: { '/app': repoRoot } },
    });
    await mapped.setReport({ report: container, source: 'container' });
    assert.deepEqual(summary(mapped.diagnosticsOf(basicLeak)), expected);
    assert.deepEqual(mapped.diagnosticsOf('/app/test/fixtures/apps/basic-leak.js'), []);

    // Without a path map the longest existing tail is used, and the log says so and how to make it explicit.
    const guessing = await start({ roots: [repoRoot], initializationOptions: { reportFiles: [] } });
    const status = await guessing.setReport({ report: container, source: 'container' });
    assert.equal(status.markers, 4);
    assert.deepEqual(summary(guessing.diagnosticsOf(basicLeak)), expected);
    assert.ok(
      guessing.logs.some((l) =>
        l.includes(
          `mapped /app/test/fixtures/apps/basic-leak.js to ${basicLeak} by its last 4 path segments; set leakLens.pathMap to map /app explicitly`,
        ),
      ),
      guessing.logs.join('\n'),
    );

    // Windows paths from another machine, mapped by a path map written with backslashes.
    const windows = mapReportFiles(report, (f) => 'C:\\srv\\app' + f.slice(repoRoot.length).replace(/\//g, '\\'));
    await mapped.conn.sendNotification('workspace/didChangeConfiguration', {
      settings: { leakLens: { pathMap: { 'C:\\srv\\app': repoRoot } } },
    });
    await mapped.setReport({ report: windows, source: 'container' });
    assert.deepEqual(summary(mapped.diagnosticsOf(basicLeak)), expected);
  });

  test('file URLs in a report, and a report given as a file URL', async () => {
    const urls = mapReportFiles(report, (f) => pathToFileURL(f).href);
    const file = writeJson(path.join(dir('urls'), 'report.json'), urls);
    const c = await start({ roots: [repoRoot], initializationOptions: { reportFiles: [] } });
    const seen = c.statuses.length;
    await c.conn.sendNotification('leakLens/setReport', { file: pathToFileURL(file).href });
    const status = await c.waitFor(() => c.statuses.slice(seen)[0], 'a status');
    assert.deepEqual({ source: status.source, markers: status.markers }, { source: file, markers: 4 });
    assert.deepEqual(summary(c.diagnosticsOf(basicLeak)), expected);
  });

  test('report files in the workspace are loaded at start and followed with fs.watch when the client has no watcher', async () => {
    const ws = dir('watch');
    const app = path.join(ws, 'src', 'basic-leak.js');
    fs.mkdirSync(path.dirname(app), { recursive: true });
    fs.copyFileSync(basicLeak, app);
    const inWorkspace = mapReportFiles(report, (f) => (f === basicLeak ? app : f));
    const reportFile = writeJson(path.join(ws, '.leak-lens', 'report.json'), inWorkspace);
    const c = await start({ roots: [ws], initializationOptions: { hostCommands: true } });
    // The copy is newer than the snapshots, so the markers are found by parsing it; they are where they were.
    const first = await c.waitFor(() => c.statuses.find((s) => s.source === reportFile), 'the report found at start');
    assert.deepEqual({ markers: first.markers, reanchored: first.reanchored }, { markers: 4, reanchored: 0 });
    assert.deepEqual(summary(c.diagnosticsOf(app)), expected);

    const next = c.nextStatus(reportFile);
    writeJson(reportFile, {
      ...inWorkspace,
      leaks: inWorkspace.leaks.filter((g) => g.id === 'CompiledTemplate@TemplateCache.entries'),
    });
    assert.equal((await next).markers, 2);
    assert.deepEqual(summary(c.diagnosticsOf(app)), expected.slice(2));

    // A broken write leaves the last good report shown; deleting the file clears its markers.
    const broken = c.nextStatus(reportFile);
    fs.writeFileSync(reportFile, '{"leaks": [');
    const bad = await broken;
    assert.equal(bad.ok, false);
    assert.match(bad.error ?? '', /^not valid JSON/);
    assert.deepEqual(summary(c.diagnosticsOf(app)), expected.slice(2));
    fs.rmSync(reportFile);
    await c.waitFor(() => c.diagnosticsOf(app).length === 0, 'markers cleared after the report was deleted');
    assert.ok(
      c.logs.some((l) => l.includes(`report ${reportFile} was`) && l.includes('its markers are cleared')),
      c.logs.join('\n'),
    );
  });

  test('the same report as a file and through leakLens/setReport: each group is marked once, from the newer', async () => {
    const ws = dir('twice');
    const reportFile = writeJson(path.join(ws, '.leak-lens', 'report.json'), report);
    const c = await start({ roots: [ws], initializationOptions: {} });
    await c.waitFor(() => c.statuses.find((s) => s.source === reportFile), 'the report file found at start');
    assert.deepEqual(summary(c.diagnosticsOf(basicLeak)), expected);
    const status = await c.setReport({ report, source: 'vscode' });
    assert.equal(status.markers, 4);
    // One warning, one lens and one hover per place, and they are the newer report's (an inline one: no file).
    const ds = c.diagnosticsOf(basicLeak);
    assert.deepEqual(summary(ds), expected);
    assert.deepEqual(
      ds.map((d) => (d.data as { reportFile?: string }).reportFile),
      [undefined, undefined, undefined, undefined],
    );
    const lenses = (await c.codeLenses(basicLeak)) ?? [];
    assert.equal(lenses.length, 4, JSON.stringify(lenses));
    assert.equal(
      new Set(lenses.map((l) => `${l.range.start.line}:${l.range.start.character}`)).size,
      4,
      JSON.stringify(lenses),
    );
    const md = hoverMarkdown(await c.hover(basicLeak, 12, 8));
    assert.equal(md.split('**Leak Lens**').length - 1, 1, md);
    // Without the newer report, the file's markers are back.
    await c.conn.sendNotification('leakLens/clearReport', { source: 'vscode' });
    await c.waitFor(() => {
      const now = c.diagnosticsOf(basicLeak);
      return now.length === 4 && now.every((d) => (d.data as { reportFile?: string }).reportFile === reportFile);
    }, "the report file's markers again");
    assert.deepEqual(summary(c.diagnosticsOf(basicLeak)), expected);
  });

  test('a report folder that does not exist yet is waited for, then watched', async () => {
    const ws = dir('later');
    const c = await start({ roots: [ws], initializationOptions: {} });
    // Make sure the server has looked for reports (and found no folder) before the run writes one.
    await c.codeLenses(path.join(ws, 'x.js'));
    const reportFile = path.join(ws, '.leak-lens', 'report.json');
    const status = c.nextStatus(reportFile);
    writeJson(reportFile, report);
    assert.equal((await status).markers, 4);
    assert.deepEqual(summary(c.diagnosticsOf(basicLeak)), expected);
  });

  test('with a client that watches files, the server registers its report globs and follows didChangeWatchedFiles', async () => {
    const ws = dir('registered');
    const c = await start({
      roots: [ws],
      watchFiles: true,
      initializationOptions: { reportFiles: ['.leak-lens/*.json'] },
    });
    const reg = await c.waitFor(
      () => c.registrations.find((r) => r.method === 'workspace/didChangeWatchedFiles'),
      'a watcher registration',
    );
    assert.deepEqual(reg.registerOptions, { watchers: [{ globPattern: '**/.leak-lens/*.json' }] });
    const file = writeJson(path.join(ws, '.leak-lens', 'nightly.json'), report);
    const next = c.nextStatus(file);
    await c.conn.sendNotification('workspace/didChangeWatchedFiles', {
      changes: [
        { uri: uri(file), type: 1 },
        { uri: uri(path.join(ws, 'other.json')), type: 1 },
      ],
    });
    assert.equal((await next).markers, 4);
    assert.deepEqual(summary(c.diagnosticsOf(basicLeak)), expected);
    fs.rmSync(file);
    await c.conn.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: uri(file), type: 3 }] });
    await c.waitFor(() => c.diagnosticsOf(basicLeak).length === 0, 'markers cleared');
  });

  test('a client without a webview runs the lens command on the server and gets the group back', async () => {
    const c = await start({ roots: [repoRoot], initializationOptions: { reportFiles: [] } });
    assert.deepEqual(c.initializeResult?.capabilities.executeCommandProvider, { commands: ['leakLens.showLeakGroup'] });
    await c.setReport({ report, source: 'fixture' });
    const lenses = await c.codeLenses(basicLeak);
    assert.equal(lenses?.length, 4);
    const command = lenses![0].command!;
    const result = await c.conn.sendRequest<ShowGroupParams>('workspace/executeCommand', {
      command: command.command,
      arguments: command.arguments,
    });
    assert.equal(result.group.id, 'Connection@_connections');
    assert.match(result.markdown, /^\*\*Leak Lens\*\*: \d+ `Connection` held by `_connections`/);
    assert.ok(
      result.markdown.includes(`Owner declared at [test/fixtures/apps/basic-leak.js:13](${uri(basicLeak)}#L13)`),
      result.markdown,
    );
    assert.ok(
      result.markdown.includes(`at [test/fixtures/apps/basic-leak.js:15](${uri(basicLeak)}#L15)`),
      result.markdown,
    );
    const note = await c.waitFor(
      () => c.notifications.find((n) => n.method === 'leakLens/showGroup'),
      'the showGroup notification',
    );
    assert.deepEqual((note.params as ShowGroupParams).args, { groupId: 'Connection@_connections', at: 'owner' });
    // Without host commands, hovers carry no command link.
    assert.doesNotMatch(hoverMarkdown(await c.hover(basicLeak, 12, 8)), /command:/);
    assert.equal(
      await c.conn.sendRequest('workspace/executeCommand', {
        command: 'leakLens.showLeakGroup',
        arguments: [{ groupId: 'nope' }],
      }),
      null,
    );
  });
});
