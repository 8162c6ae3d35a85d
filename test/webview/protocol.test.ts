import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkFromWebview, LocationAllowList, MAX_PAGE } from '../../protocol/webview';
import { contentSecurityPolicy, escapeHtml, webviewHtml } from '../../src/extension/webview/html';

test('well-formed webview messages pass the check unchanged', () => {
  const good = [
    { type: 'ready' },
    { type: 'cancel', id: 3 },
    { type: 'openLocation', file: '/app/server.js', line: 28, column: 1 },
    {
      type: 'query',
      id: 1,
      query: {
        kind: 'summary',
        snapshot: 0,
        offset: 100,
        limit: 100,
        sort: { key: 'count', dir: 'desc' },
        filter: 'Conn',
      },
    },
    {
      type: 'query',
      id: 2,
      query: { kind: 'compare', base: 0, target: 2, offset: 0, limit: 50, sort: { key: 'sizeDelta', dir: 'asc' } },
    },
    { type: 'query', id: 3, query: { kind: 'objects', snapshot: 1, className: 'Connection', offset: 0, limit: 50 } },
    { type: 'query', id: 4, query: { kind: 'retainers', snapshot: 2, nodeId: 193025, offset: 50, limit: 50 } },
    { type: 'query', id: 5, query: { kind: 'retainerPath', snapshot: 2, nodeId: 193025 } },
  ];
  for (const m of good) {
    const r = checkFromWebview(m);
    assert.ok(r.ok, `${JSON.stringify(m)}: ${!r.ok ? r.error : ''}`);
    assert.deepEqual(JSON.parse(JSON.stringify(r.value)), m);
  }
});

test('malformed or hostile webview messages are refused with a reason', () => {
  const bad: [unknown, RegExp][] = [
    [null, /not an object/],
    ['ready', /not an object/],
    [{ type: 'exec', command: 'rm -rf /' }, /unknown message type/],
    [{ type: 'openLocation', file: '/etc/passwd', line: 0, column: 1 }, /line and column/],
    [{ type: 'openLocation', file: '', line: 1, column: 1 }, /file/],
    [{ type: 'openLocation', file: 42, line: 1, column: 1 }, /file/],
    [{ type: 'query', id: 'x', query: { kind: 'summary', snapshot: 0, offset: 0, limit: 10 } }, /id/],
    [
      { type: 'query', id: 1, query: { kind: 'summary', snapshot: '/tmp/a.heapsnapshot', offset: 0, limit: 10 } },
      /snapshot must be an index/,
    ],
    [{ type: 'query', id: 1, query: { kind: 'summary', snapshot: 0, offset: -1, limit: 10 } }, /offset/],
    [{ type: 'query', id: 1, query: { kind: 'summary', snapshot: 0, offset: 0, limit: MAX_PAGE + 1 } }, /limit/],
    [
      {
        type: 'query',
        id: 1,
        query: { kind: 'summary', snapshot: 0, offset: 0, limit: 10, sort: { key: '__proto__', dir: 'asc' } },
      },
      /sort/,
    ],
    [{ type: 'query', id: 1, query: { kind: 'retainers', snapshot: 0, nodeId: 1.5, offset: 0, limit: 10 } }, /nodeId/],
    [
      { type: 'query', id: 1, query: { kind: 'objects', snapshot: 0, className: '', offset: 0, limit: 10 } },
      /className/,
    ],
    [{ type: 'query', id: 1, query: { kind: 'analyze', files: ['/etc/passwd'] } }, /unknown query kind/],
  ];
  for (const [m, why] of bad) {
    const r = checkFromWebview(m);
    assert.equal(r.ok, false, JSON.stringify(m));
    assert.match(!r.ok ? r.error : '', why, JSON.stringify(m));
  }
});

test('the allow-list holds every location a report names, original and generated', () => {
  const allow = new LocationAllowList();
  allow.addReport({
    version: 1,
    tool: 'leak-lens',
    verdict: 'leak',
    createdAt: '',
    rounds: 1,
    snapshots: [],
    duplicateModules: [],
    classGrowth: [],
    warnings: [],
    timings: {},
    leaks: [
      {
        id: 'a',
        className: 'CachedUser',
        count: 1,
        growthPerRound: 1,
        newPerRound: [1],
        countSeries: [0, 1],
        retainedSize: 1,
        shallowSize: 1,
        nativeSize: 0,
        retains: [],
        alsoHeld: [],
        sampleIds: [1],
        owner: {
          name: 'UserStore.cache',
          kind: 'static-property',
          location: {
            file: '/p/src/store.ts',
            line: 37,
            column: 11,
            generated: { file: '/p/dist/store.js', line: 21, column: 5 },
          },
        },
        retainerPath: [
          {
            edge: '',
            edgeType: '',
            node: '',
            nodeType: 'synthetic',
            nodeId: 1,
            location: { file: '/p/src/path.ts', line: 1, column: 1 },
          },
        ],
        allocationSites: [
          { function: 'lookup', count: 1, location: { file: '/p/src/alloc.ts', line: 44, column: 18 } },
        ],
        classLocation: { file: '/p/src/class.ts', line: 29, column: 3 },
      },
    ],
  });
  for (const f of ['/p/src/store.ts', '/p/dist/store.js', '/p/src/path.ts', '/p/src/alloc.ts', '/p/src/class.ts'])
    assert.ok(allow.has(f), f);
  assert.equal(allow.has('/etc/passwd'), false);
  assert.equal(allow.find('/p/src/store.ts', 37, 11)?.generated?.file, '/p/dist/store.js');
});

test('the page has a strict content security policy with a nonce, and escapes what it interpolates', () => {
  const csp = contentSecurityPolicy('https://x.vscode-cdn.net', 'abc');
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'nonce-abc'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
  const html = webviewHtml({
    cspSource: 'https://x',
    nonce: 'n1',
    scriptUri: 'https://x/main.js',
    styleUri: 'https://x/style.css',
    title: '</title><script>alert(1)</script>.heapsnapshot',
  });
  assert.ok(html.includes('&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;.heapsnapshot'));
  assert.equal((html.match(/<script/g) ?? []).length, 1);
  assert.match(html, /<script nonce="n1" src="https:\/\/x\/main.js"><\/script>/);
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});
