/**
 * Static leak suspects, through the server: small sample files opened in a real LSP client get hints at exact
 * ranges for code shaped like known leaks, none for the same shapes done right, and a runtime report of the same
 * code raises them to warnings (merged into the runtime diagnostic when both mark the same name).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { basicLeak, fixtureReport, repoRoot, summary, tempDir } from './helpers';
import { LspClient } from './lspClient';

const samples: Record<string, string> = {
  'collections.js': [
    `const seen = [];`,
    `const bounded = new Map();`,
    `const shared = [];`,
    `const filled = new Set([1, 2]);`,
    `const weak = new WeakMap();`,
    `let reset = {};`,
    `function track(req) {`,
    `  seen.push(req.url);`,
    `  bounded.set(req.url, 1);`,
    `  if (bounded.size > 100) bounded.delete(bounded.keys().next().value);`,
    `  shared.push(req);`,
    `  weak.set(req, 1);`,
    `  reset[req.url] = true;`,
    `  if (Object.keys(reset).length > 10) reset = {};`,
    `}`,
    `filled.add(3);`,
    `module.exports = { track, shared };`,
    ``,
  ].join('\n'),
  'listeners.js': [
    `const { EventEmitter } = require('events');`,
    `const bus = new EventEmitter();`,
    `const tidy = new EventEmitter();`,
    `function handle(req, res) {`,
    `  bus.on('change', () => res.write(req.url));`,
    `  const onTidy = () => res.end();`,
    `  tidy.on('change', onTidy);`,
    `  res.on('close', () => tidy.off('change', onTidy));`,
    `  req.on('data', () => {});`,
    `  process.addListener('warning', () => req.destroy());`,
    `}`,
    `bus.on('boot', () => {});`,
    `module.exports = { handle };`,
    ``,
  ].join('\n'),
  'intervals.js': [
    `function startPolling(job) {`,
    `  setInterval(() => job.poll(), 1000).unref();`,
    `}`,
    `function startKept(job) {`,
    `  job.timer = setInterval(() => job.poll(), 1000);`,
    `}`,
    `function startStopped(job) {`,
    `  job.handle = setInterval(() => job.poll(), 1000);`,
    `}`,
    `function stop(job) {`,
    `  clearInterval(job.handle);`,
    `}`,
    `setInterval(() => {}, 60000);`,
    `module.exports = { startPolling, startKept, startStopped, stop };`,
    ``,
  ].join('\n'),
  'reloader.js': [
    `function freshDb() {`,
    `  delete require.cache[require.resolve('./db')];`,
    `  return require('./db');`,
    `}`,
    `async function freshPlugin() {`,
    '  return import(`./plugin.mjs?t=${Date.now()}`);',
    `}`,
    `const util = require('util');`,
    `module.exports = { freshDb, freshPlugin, util };`,
    ``,
  ].join('\n'),
  'db.js': [
    `class FakePool { constructor(url) { this.url = url; } }`,
    `const pool = new FakePool(process.env.DB_URL);`,
    `setInterval(() => pool.url, 1000);`,
    `process.on('exit', () => pool.url);`,
    `function query() { return pool.url; }`,
    `module.exports = { query };`,
    ``,
  ].join('\n'),
  'store.ts': [
    `interface Lookup { userId: string; requestId: string }`,
    `export class Store {`,
    `  private static readonly users = new Map<string, number>();`,
    `  static find(req: Lookup): number {`,
    '    const key = `${req.userId}:${req.requestId}`;',
    `    const hit = Store.users.get(key);`,
    `    if (hit !== undefined) return hit;`,
    `    Store.users.set(key, 1);`,
    `    return 1;`,
    `  }`,
    `}`,
    `const byUser = new Map<string, number>();`,
    `export function count(req: Lookup): void {`,
    `  byUser.set(req.userId, (byUser.get(req.userId) ?? 0) + 1);`,
    `}`,
    ``,
  ].join('\n'),
};

describe('language server: static leak suspects', () => {
  let dir: string;
  let client: LspClient;
  const file = (name: string): string => path.join(dir, name);

  before(async () => {
    dir = tempDir('lsp-static');
    for (const [name, text] of Object.entries(samples)) fs.writeFileSync(file(name), text);
    client = await LspClient.start({ roots: [dir, repoRoot], initializationOptions: { reportFiles: [] } });
  });

  after(async () => {
    assert.equal(await client.stop(), 0, client.stderr);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('module-level collections only ever added to; not those that evict, escape, reset, or are filled once', async () => {
    const ds = await client.open(file('collections.js'));
    assert.deepEqual(summary(ds), ['0:6-0:10 4 static/growing-collection']);
    assert.equal(
      ds[0].message,
      'seen is a module-level array that is only ever added to (push at line 8): nothing removes its entries, so it grows for the life of the process',
    );
    assert.deepEqual(
      ds[0].relatedInformation?.map((r) => [r.location.range.start.line, r.message]),
      [[7, 'seen: added to here']],
    );
  });

  test('listeners added per request to a module-level emitter and never removed', async () => {
    const ds = await client.open(file('listeners.js'));
    assert.deepEqual(summary(ds), [
      '4:2-4:8 4 static/listener-never-removed',
      '9:2-9:21 4 static/listener-never-removed',
    ]);
    assert.equal(
      ds[0].message,
      "a 'change' listener is added to module-level bus on every call of handle and never removed: each listener, and everything its closure holds, stays alive as long as bus does",
    );
    assert.equal(
      ds[1].message,
      "a 'warning' listener is added to module-level process on every call of handle and never removed: each listener, and everything its closure holds, stays alive as long as process does",
    );
  });

  test('intervals started per call and never cleared', async () => {
    const ds = await client.open(file('intervals.js'));
    assert.deepEqual(summary(ds), [
      '1:2-1:13 4 static/interval-never-cleared',
      '4:14-4:25 4 static/interval-never-cleared',
    ]);
    assert.equal(
      ds[0].message,
      'setInterval starts a new interval on every call of startPolling and its handle is dropped: each interval keeps its callback, and everything the callback captures, alive for good',
    );
    assert.match(ds[1].message, /on every call of startKept and nothing clears timer:/);
  });

  test('modules loaded again per call, and what their top level opens each time', async () => {
    const db = file('db.js');
    // Alone, db.js is an ordinary module: a pool at top level is fine when the module loads once.
    assert.deepEqual(summary(await client.open(db)), []);
    const ds = await client.open(file('reloader.js'));
    assert.deepEqual(summary(ds), ['2:9-2:16 4 static/module-reloaded', '5:9-5:15 4 static/module-reloaded']);
    assert.match(
      ds[0].message,
      /^\.\/db is loaded again on every call of freshDb \(its require\.cache entry is deleted\)/,
    );
    assert.match(ds[1].message, /^import\(\) of a URL with a query string on every call of freshPlugin/);
    // Now db.js is known to be reloaded: its top-level pool, interval and process listener are suspects.
    await client.waitFor(() => client.diagnosticsOf(db).length === 3, 'suspects in db.js');
    assert.deepEqual(summary(client.diagnosticsOf(db)), [
      '1:13-1:25 4 static/resource-in-reloaded-module',
      '2:0-2:11 4 static/resource-in-reloaded-module',
      '3:8-3:10 4 static/resource-in-reloaded-module',
    ]);
    assert.equal(
      client.diagnosticsOf(db)[0].message,
      'this module is loaded again and again (reloader.js:3 requires it again on every call) and opens a FakePool in its top-level code each time: every copy keeps its own alive',
    );
    // Closing the file that reloads it takes that knowledge away again.
    await client.close(file('reloader.js'));
    await client.waitFor(() => client.diagnosticsOf(db).length === 0, 'db.js suspects gone');
  });

  test('TypeScript: a static cache keyed by a per-request id', async () => {
    const ds = await client.open(file('store.ts'));
    assert.deepEqual(summary(ds), [
      '2:26-2:31 4 static/growing-collection',
      '7:20-7:23 4 static/per-request-cache-key',
      '11:6-11:12 4 static/growing-collection',
    ]);
    assert.equal(
      ds[1].message,
      'the key of Store.users includes req.requestId, which differs on every request: lookups never hit, and every entry stays',
    );
    assert.deepEqual(
      ds[1].relatedInformation?.map((r) => [r.location.range.start.line, r.location.range.start.character, r.message]),
      [[4, 33, 'req.requestId: differs on every request']],
    );
  });

  test('a runtime report confirms suspects: merged where both mark the same name, raised to warnings', async () => {
    const ds = await client.open(basicLeak);
    assert.deepEqual(summary(ds), ['12:6-12:18 4 static/growing-collection', '26:9-26:16 4 static/growing-collection']);
    await client.setReport({ report: fixtureReport(), source: 'fixture' });
    const confirmed = client.diagnosticsOf(basicLeak);
    assert.deepEqual(summary(confirmed), [
      '12:6-12:18 2 leak-owner',
      '14:15-14:29 3 leak-allocation',
      '26:9-26:16 2 leak-owner',
      '28:35-28:55 3 leak-allocation',
    ]);
    assert.match(
      confirmed[0].message,
      /^_connections holds \d+ Connection \(\+100 per round, [\d.]+ KB retained(, [\d.]+ KB of it outside the JS heap)?\)\nStatic check agrees: _connections is a module-level array that is only ever added to \(push at line 16\)/,
    );
    assert.equal((confirmed[0].data as { confirmed?: boolean }).confirmed, true);
    assert.match(
      confirmed[2].message,
      /\nStatic check agrees: TemplateCache\.entries is a static Map that is only ever added to/,
    );
  });

  test('the hints go away when static checks are turned off', async () => {
    await client.conn.sendNotification('workspace/didChangeConfiguration', {
      settings: { leakLens: { staticChecks: { enabled: false } } },
    });
    const open = ['collections.js', 'listeners.js', 'intervals.js', 'db.js', 'store.ts'].map(file);
    const runtimeOnly = (): boolean =>
      client.diagnosticsOf(basicLeak).every((d) => !d.message.includes('Static check'));
    await client.waitFor(
      () => open.every((f) => client.diagnosticsOf(f).length === 0) && runtimeOnly(),
      'hints cleared in every open file',
    );
    // Runtime markers stay.
    assert.deepEqual(summary(client.diagnosticsOf(basicLeak)), [
      '12:6-12:18 2 leak-owner',
      '14:15-14:29 3 leak-allocation',
      '26:9-26:16 2 leak-owner',
      '28:35-28:55 3 leak-allocation',
    ]);
  });
});
