/**
 * Bad input must not crash the server or put a marker on a wrong line: reports naming files that are gone, source
 * files edited since the snapshot (on disk or unsaved in the editor), malformed messages and reports, and a report
 * with ten thousand groups. Each case ends with the server still answering, and a log line saying what was skipped.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MAX_REPORT_BYTES, sanitizeReport } from '../../server/reportInput';
import { basicLeak, fixtureReport, mapReportFiles, repoRoot, span, summary, tempDir, textAt } from './helpers';
import { LspClient } from './lspClient';
import type { LeakGroup, LeakReport } from '../../protocol/report';

const expected = [
  '12:6-12:18 2 leak-owner',
  '14:15-14:29 3 leak-allocation',
  '26:9-26:16 2 leak-owner',
  '28:35-28:55 3 leak-allocation',
];

describe('language server: bad input', () => {
  let report: LeakReport;
  let ws: string;
  let client: LspClient;

  /** A copy of the fixture app in the test workspace, with `edit` applied, and the report pointed at it. */
  function workspaceCopy(
    name: string,
    edit: (text: string) => string = (t) => t,
  ): { file: string; report: LeakReport } {
    const file = path.join(ws, name);
    fs.writeFileSync(file, edit(fs.readFileSync(basicLeak, 'utf8')));
    return { file, report: mapReportFiles(report, (f) => (f === basicLeak ? file : f)) };
  }

  before(async () => {
    report = fixtureReport();
    ws = tempDir('lsp-bad');
    client = await LspClient.start({ roots: [ws, repoRoot], initializationOptions: { reportFiles: [] } });
  });

  after(async () => {
    assert.equal(await client.stop(), 0, client.stderr);
    fs.rmSync(ws, { recursive: true, force: true });
  });

  test('a report naming files that no longer exist: nothing is marked, the log says what was skipped', async () => {
    const gone = mapReportFiles(report, (f) => (f === basicLeak ? '/no/such/dir/basic-leak.js' : f));
    const status = await client.setReport({ report: gone, source: 'gone' });
    assert.equal(status.markers, 0);
    assert.deepEqual(status.skipped.map((s) => `${s.groupId} ${s.at}: ${s.reason}`).sort(), [
      'CompiledTemplate@TemplateCache.entries allocation: /no/such/dir/basic-leak.js is not in the workspace',
      'CompiledTemplate@TemplateCache.entries owner: /no/such/dir/basic-leak.js is not in the workspace',
      'Connection@_connections allocation: /no/such/dir/basic-leak.js is not in the workspace',
      'Connection@_connections owner: /no/such/dir/basic-leak.js is not in the workspace',
    ]);
    assert.deepEqual(client.diagnosticsOf('/no/such/dir/basic-leak.js'), []);
    const line = client.logs.find((l) => l.startsWith('report gone:'));
    assert.ok(line?.startsWith('report gone: 2 leak groups, 0 markers in 0 files, 4 skipped\n  skipped '), line);
    await client.conn.sendNotification('leakLens/clearReport', { source: 'gone' });
  });

  test('new group facts of the wrong shape are dropped one by one; the group and its markers stay', async () => {
    const { file, report: copy } = workspaceCopy('facts.js');
    const raw = JSON.parse(JSON.stringify(copy)) as Record<string, unknown> & { leaks: Record<string, unknown>[] };
    const good = { file, line: 13, column: 7 };
    const g = raw.leaks.find((x) => x.id === 'Connection@_connections')!;
    Object.assign(g, {
      kind: 'leaky',
      chain: { link: 'prev' },
      collection: { entries: 'many', bytes: [1] },
      heldVia: 5,
      thread: 42,
    });
    (g.owner as Record<string, unknown>).related = [
      { label: 'no place' },
      { label: 'bad line', location: { file, line: 0 } },
      'text',
      { label: 'emitter declared', location: good },
    ];
    const site = (g.allocationSites as Record<string, unknown>[])[0];
    Object.assign(site, {
      caller: 'main()',
      stack: [
        null,
        { function: 3 },
        { function: 'make', app: 'yes', location: { file, line: -1 } },
        { function: 'handler', app: true, location: good },
      ],
      fromSource: 'true',
    });
    const other = raw.leaks.find((x) => x.id !== 'Connection@_connections')!;
    Object.assign(other, {
      kind: 'collection',
      collection: {
        className: 'Map',
        entries: [1, 'x', 3, null],
        bytes: [10, 20, Infinity],
        addedAt: { file, line: 'x' },
      },
      heldVia: { className: 'Timeout', location: { line: 3 } },
      chain: { link: ['next', 7, ''] },
      thread: 'worker 1 jobs',
    });
    raw.threads = [
      { name: 'main', snapshots: [] },
      { snapshots: [] },
      'worker',
      { name: 'worker 1 jobs', snapshots: 'none' },
    ];

    const input = sanitizeReport(raw);
    assert.ok(input.ok);
    const a = input.report.leaks.find((x) => x.id === 'Connection@_connections')!;
    assert.deepEqual(
      [a.kind, a.chain, a.collection, a.heldVia, a.thread],
      [undefined, undefined, undefined, undefined, undefined],
    );
    assert.deepEqual(a.owner.related, [{ label: 'emitter declared', location: good }]);
    const s = a.allocationSites[0];
    assert.deepEqual(
      [s.caller, s.fromSource, s.stack],
      [undefined, undefined, [{ function: 'make' }, { function: 'handler', app: true, location: good }]],
    );
    const b = input.report.leaks.find((x) => x.id !== 'Connection@_connections')!;
    assert.deepEqual(
      [b.kind, b.collection, b.heldVia, b.chain, b.thread],
      [
        'collection',
        { className: 'Map', entries: [1, 3], bytes: [10, 20] },
        { className: 'Timeout' },
        { link: ['next'] },
        'worker 1 jobs',
      ],
    );
    assert.deepEqual(input.report.threads, [
      { name: 'main', snapshots: [] },
      { name: 'worker 1 jobs', snapshots: [] },
    ]);
    assert.deepEqual(input.problems, [
      'leak group Connection@_connections: 3 related place(s) of the owner without a label or a file, line and column were left out',
      'leak group Connection@_connections: kind "leaky" is not objects, chain or collection; shown as objects',
      'leak group Connection@_connections: the collection has no class name; left out',
    ]);

    // Through the server: the report is applied, the owner keeps its warning with the one good related place.
    const status = await client.setReport({ report: raw as unknown as LeakReport, source: 'facts' });
    assert.equal(status.ok, true);
    // The second group is now a growing collection: the line that adds entries is related information, not a marker.
    assert.equal(status.markers, 3, JSON.stringify(status));
    const owner = client.diagnosticsOf(file).find((d) => d.code === 'leak-owner' && d.range.start.line === 12)!;
    assert.ok(
      owner.relatedInformation?.some((r) => r.message === 'emitter declared' && r.location.range.start.line === 12) ===
        false,
      'a related place on the marker itself is not repeated',
    );
    assert.ok(
      client.logs.some((l) =>
        l.includes(
          'report facts: leak group Connection@_connections: kind "leaky" is not objects, chain or collection',
        ),
      ),
      client.logs.join('\n'),
    );
    await client.conn.sendNotification('leakLens/clearReport', { source: 'facts' });
  });

  test('a file edited since the snapshot: markers follow their declarations to the new lines', async () => {
    const { file, report: moved } = workspaceCopy('stale.js', (t) => `// one\n// two\n// three\n${t}`);
    const status = await client.setReport({ report: moved, source: 'stale' });
    assert.deepEqual(
      { markers: status.markers, reanchored: status.reanchored, skipped: status.skipped },
      { markers: 4, reanchored: 4, skipped: [] },
    );
    const ds = client.diagnosticsOf(file);
    assert.deepEqual(summary(ds), [
      '15:6-15:18 2 leak-owner',
      '17:15-17:29 3 leak-allocation',
      '29:9-29:16 2 leak-owner',
      '31:35-31:55 3 leak-allocation',
    ]);
    assert.deepEqual(
      ds.map((d) => textAt(file, d.range)),
      ['_connections', 'new Connection', 'entries', 'new CompiledTemplate'],
    );
    const log = client.logs.find((l) => l.startsWith('report stale:'));
    assert.ok(
      log?.includes(
        `re-anchored Connection@_connections (owner) from ${file}:13 to line 16: the file changed since the snapshot`,
      ),
      log,
    );
  });

  test('a declaration that is gone since the snapshot: its marker is dropped, never put on the old line', async () => {
    const { file, report: renamed } = workspaceCopy('renamed.js', (t) => t.replace(/_connections/g, '_conns'));
    const status = await client.setReport({ report: renamed, source: 'renamed' });
    assert.deepEqual(status.skipped, [
      {
        groupId: 'Connection@_connections',
        at: 'owner',
        reason: `${file}:13: a declaration of \`_connections\` is no longer in the file`,
      },
    ]);
    // `new Connection` is still there; nothing at all is on line 13 (index 12), where `_conns` now is.
    assert.deepEqual(summary(client.diagnosticsOf(file)), [
      '14:15-14:29 3 leak-allocation',
      '26:9-26:16 2 leak-owner',
      '28:35-28:55 3 leak-allocation',
    ]);
    assert.ok(
      client.logs.some((l) =>
        l.includes(
          `skipped Connection@_connections (owner): ${file}:13: a declaration of \`_connections\` is no longer in the file`,
        ),
      ),
    );
  });

  test('unsaved edits in an open document move its markers with the text, and closing goes back to the file', async () => {
    const { file, report: copy } = workspaceCopy('edited.js');
    await client.setReport({ report: copy, source: 'edited' });
    assert.deepEqual(summary(client.diagnosticsOf(file)), expected);
    const text = fs.readFileSync(file, 'utf8');
    const opened = await client.open(file, text);
    // Opened, the static checks join in: the two growing collections are the runtime markers' own names.
    assert.deepEqual(summary(opened), expected);
    assert.match(
      opened[0].message,
      /\nStatic check agrees: _connections is a module-level array that is only ever added to/,
    );
    const lines = text.split('\n');
    lines.splice(13, 0, '// added above accept()', '');
    const edited = await client.change(file, lines.join('\n'));
    assert.deepEqual(summary(edited), [
      '12:6-12:18 2 leak-owner',
      '16:15-16:29 3 leak-allocation',
      '28:9-28:16 2 leak-owner',
      '30:35-30:55 3 leak-allocation',
    ]);
    // The name under a marker is gone from the buffer: that marker goes, the others stay.
    const without = await client.change(
      file,
      lines
        .join('\n')
        .replace('static entries = new Map();', 'static store = new Map();')
        .replace(/TemplateCache\.entries/g, 'TemplateCache.store'),
    );
    // (The renamed Map is still a growing collection: a static hint, with no runtime marker to confirm it.)
    assert.deepEqual(summary(without), [
      '12:6-12:18 2 leak-owner',
      '16:15-16:29 3 leak-allocation',
      '28:9-28:14 4 static/growing-collection',
      '30:33-30:53 3 leak-allocation',
    ]);
    const seen = client.published.length;
    await client.close(file);
    await client.waitFor(
      () => client.published.slice(seen).some((p) => p.uri.endsWith('/edited.js')),
      'diagnostics after closing',
    );
    assert.deepEqual(summary(client.diagnosticsOf(file)), expected);
  });

  test('malformed messages and reports are logged and ignored', async () => {
    const { file, report: good } = workspaceCopy('malformed.js');
    await client.setReport({ report: good, source: 'good' });
    // Invalid JSON on the wire, then parameters of every wrong shape.
    const body = '{"jsonrpc":"2.0","method":"leakLens/setReport","params":{bad json';
    client.proc.stdin!.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    await client.conn.sendNotification('leakLens/setReport', 42);
    await client.conn.sendNotification('leakLens/setReport', {});
    await client.conn.sendNotification('leakLens/setReport', { file: 'https://example.invalid/report.json' });
    await client.conn.sendNotification('leakLens/clearReport', 'everything');
    await client.conn.sendNotification('leakLens/unknown', { x: 1 });
    await client.conn.sendNotification('workspace/didChangeConfiguration', {
      settings: { leakLens: { pathMap: 'nope', reportFiles: [3], staticChecks: 'yes' } },
    });
    await client.conn.sendNotification('workspace/didChangeWatchedFiles', { changes: 'none' });
    const notObject = await client.setReport({ report: 'a string' as unknown as LeakReport, source: 'bad-1' });
    assert.deepEqual(
      { ok: notObject.ok, error: notObject.error },
      { ok: false, error: 'not a leak report (expected a JSON object)' },
    );
    const noLeaks = await client.setReport({ report: { leaks: 'none' } as unknown as LeakReport, source: 'bad-2' });
    assert.equal(noLeaks.ok, false);
    const odd = await client.setReport({
      report: {
        leaks: [7, { className: 3 }, { className: 'A', owner: { name: 'a', location: { file: 9, line: -1 } } }, null],
      } as unknown as LeakReport,
      source: 'bad-3',
    });
    assert.deepEqual(
      { ok: odd.ok, groups: odd.groups, markers: odd.markers, skipped: odd.skipped },
      {
        ok: true,
        groups: 1,
        markers: 0,
        skipped: [{ groupId: 'A@a', at: 'owner', reason: 'the report has no source location for its owner' }],
      },
    );
    for (const expectedLog of [
      'leakLens/setReport: ignored a message whose parameters are not an object',
      'leakLens/setReport: ignored a message with neither "report" nor "file"',
      'leakLens/setReport: ignored https://example.invalid/report.json: not a file path or file URL',
      'report bad-3: leak group #1 is not an object',
      'report bad-3: leak group #2 (no id) has no class name or owner name',
      'report bad-3: leak group #3: the owner location is not a file, line and column',
    ]) {
      assert.ok(client.logs.includes(expectedLog), `missing log line ${expectedLog}:\n${client.logs.join('\n')}`);
    }
    assert.equal(await client.hover(file, -5, 1e9), null);
    assert.equal(
      await client.conn.sendRequest('textDocument/hover', { textDocument: { uri: 7 }, position: null }),
      null,
    );
    assert.deepEqual(
      await client.conn.sendRequest('textDocument/codeLens', { textDocument: { uri: 'untitled:Untitled-1' } }),
      [],
    );
    await assert.rejects(client.conn.sendRequest('leakLens/noSuchRequest', {}), /Unhandled method/);
    // Still serving the good report, at the right lines.
    assert.deepEqual(summary(client.diagnosticsOf(file)), expected);
    assert.equal(span((await client.hover(file, 12, 7))!.range!), '12:6-12:18');
    assert.equal(client.proc.exitCode, null);
  });

  test('report files that cannot be used: missing, empty, over the size limit', async () => {
    const dir = path.join(ws, 'reports');
    fs.mkdirSync(dir, { recursive: true });
    const missing = await client.setReport({ file: path.join(dir, 'missing.json') });
    assert.deepEqual({ ok: missing.ok, error: missing.error }, { ok: false, error: 'the file does not exist' });
    fs.writeFileSync(path.join(dir, 'empty.json'), '');
    const empty = await client.setReport({ file: path.join(dir, 'empty.json') });
    assert.equal(empty.error, 'the file is empty (a run may still be writing it)');
    // A sparse file: the size is checked before anything is read.
    const huge = path.join(dir, 'huge.json');
    fs.writeFileSync(huge, '');
    fs.truncateSync(huge, MAX_REPORT_BYTES + 1);
    const tooBig = await client.setReport({ file: huge });
    assert.equal(tooBig.error, 'it is 256 MB, over the 256 MB limit for reports');
    assert.ok(client.logs.includes(`report ${huge} not used: it is 256 MB, over the 256 MB limit for reports`));
  });

  test('a report with 10,000 groups: requests are answered while it is applied, and every marker lands', async () => {
    // 100 files of 100 module-level arrays each; every group is owned by one array and allocated on the next line.
    const dir = path.join(ws, 'huge');
    fs.mkdirSync(dir, { recursive: true });
    const leaks: LeakGroup[] = [];
    const template = report.leaks.find((g) => g.id === 'Connection@_connections')!;
    for (let f = 0; f < 100; f++) {
      const file = path.join(dir, `m${f}.js`);
      const lines: string[] = [];
      for (let i = 0; i < 100; i++)
        lines.push(`const list${i} = [];`, `function add${i}(x) { list${i}.push(new Item${i}(x)); }`);
      fs.writeFileSync(file, lines.join('\n') + '\n');
      for (let i = 0; i < 100; i++) {
        leaks.push({
          ...template,
          id: `Item${i}@list${i}#${f}`,
          className: `Item${i}`,
          owner: { name: `list${i}`, kind: 'variable', location: { file, line: 2 * i + 1, column: 1 } },
          allocationSites: [{ function: `add${i}`, count: 100, location: { file, line: 2 * i + 2, column: 29 } }],
        });
      }
    }
    // And 500 groups in files that do not exist.
    for (let i = 0; i < 500; i++)
      leaks.push({
        ...template,
        id: `Lost${i}`,
        owner: {
          name: 'x',
          kind: 'variable',
          location: { file: path.join(dir, 'gone', `${i}.js`), line: 1, column: 1 },
        },
        allocationSites: [],
      });
    const big: LeakReport = { ...report, leaks };
    const seen = client.statuses.length;
    await client.conn.sendNotification('leakLens/setReport', { report: big, source: 'huge' });
    // Sent right behind the report, this hover is answered while the report is still being applied.
    const hover = await client.hover(path.join(dir, 'm0.js'), 0, 7);
    const answeredBeforeStatus = client.statuses.slice(seen).every((s) => s.source !== 'huge');
    assert.equal(hover, null, 'no markers yet');
    assert.ok(answeredBeforeStatus, 'the hover was answered before the report was applied');
    const status = await client.waitFor(
      () => client.statuses.slice(seen).find((s) => s.source === 'huge'),
      'the huge report applied',
    );
    console.log(`huge report: ${status.durationMs} ms from arrival to diagnostics`);
    assert.deepEqual(
      { groups: status.groups, markers: status.markers, files: status.files, skipped: status.skipped.length },
      { groups: 10_500, markers: 20_000, files: 100, skipped: 500 },
    );
    const m7 = path.join(dir, 'm7.js');
    const ds = client.diagnosticsOf(m7);
    assert.equal(ds.length, 200);
    assert.equal(span(ds[0].range), '0:6-0:11');
    assert.equal(span(ds[199].range), '199:32-199:42');
    assert.equal(textAt(m7, ds[199].range), 'new Item99');
    const log = client.logs.find((l) => l.startsWith('report huge:'))!;
    assert.ok(
      log.startsWith('report huge: 10500 leak groups, 20000 markers in 100 files, 500 skipped\n'),
      log.slice(0, 300),
    );
    assert.ok(log.endsWith('  ... and 475 more'), log.slice(-300));
    await client.conn.sendNotification('leakLens/clearReport', { source: 'huge' });
    await client.waitFor(() => client.diagnosticsOf(m7).length === 0, 'the huge report cleared');
  });
});
