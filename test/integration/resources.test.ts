/**
 * Leaks that are not growing classes, for real: `leak-lens run` starts each resource fixture (test/fixtures/apps) under
 * the inspector, drives it with the demo's load generator and must name the resource kind that grows, its growth per
 * round and the line that creates it: never-settled promises held by a map, promises awaited forever whose only holder
 * is their resolve function, open sockets (the side a server accepted is the server's), servers, uncleared intervals, open file handles, running child processes
 * and vm contexts. The control makes and releases each of them and must come out clean.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { LeakReport, ResourceGroup } from '../../protocol/report';
import { repoRoot } from '../helpers/fixtures';

const cli = path.join(repoRoot, 'bin', 'leak-lens.js');
const apps = path.join(repoRoot, 'test', 'fixtures', 'apps');
const REQUESTS = 10;

function run(
  app: string,
  format: 'json' | 'text' = 'json',
  track = true,
): { report?: LeakReport; stdout: string; status: number | null; stderr: string } {
  const r = spawnSync(
    process.execPath,
    [
      cli,
      'run',
      ...(track ? ['--track-allocations'] : []),
      '--format',
      format,
      '--action',
      `node demo/load.js ${REQUESTS}`,
      '--',
      'node',
      path.join(apps, app),
    ],
    { cwd: repoRoot, encoding: 'utf8', timeout: 150_000 },
  );
  return {
    report: format === 'json' && r.stdout ? (JSON.parse(r.stdout) as LeakReport) : undefined,
    stdout: r.stdout,
    status: r.status,
    stderr: r.stderr,
  };
}

/** The 1-based line of the fixture that contains `text` (the one place it appears). */
function lineOf(app: string, text: string): number {
  const lines = fs.readFileSync(path.join(apps, app), 'utf8').split('\n');
  const at = lines.findIndex((l) => l.includes(text));
  assert.ok(at >= 0 && lines.findIndex((l, i) => i > at && l.includes(text)) < 0, `${text} once in ${app}`);
  return at + 1;
}

function find(report: LeakReport, kind: ResourceGroup['kind'], created?: { app: string; text: string }): ResourceGroup {
  const all = report.resources ?? [];
  const g = all.find(
    (r) =>
      r.kind === kind &&
      (!created ||
        (r.createdAt?.location?.file === path.join(apps, created.app) &&
          r.createdAt.location.line === lineOf(created.app, created.text))),
  );
  assert.ok(
    g,
    `no ${kind} group${created ? ` created at ${created.app}:${lineOf(created.app, created.text)}` : ''}; got ${JSON.stringify(all.map((r) => [r.kind, r.growthPerRound, r.createdAt?.function, r.createdAt?.location?.line, r.owner.name]))}`,
  );
  return g;
}

void test('never-settled promises held by a map: kind, growth, creating line and holder', { timeout: 160_000 }, () => {
  const { report, status, stderr } = run('pending-map.js');
  assert.ok(report, stderr.slice(-2000));
  assert.equal(status, 1);
  const g = find(report, 'pending-promise', { app: 'pending-map.js', text: 'new Promise(' });
  assert.equal(g.growthPerRound, REQUESTS);
  assert.deepEqual(g.newPerRound, [REQUESTS, REQUESTS]);
  assert.ok(g.countSeries[2] - g.countSeries[0] >= 2 * REQUESTS, String(g.countSeries));
  assert.equal(g.owner.name, 'pendingReplies');
  assert.equal(g.owner.location?.line, lineOf('pending-map.js', 'const pendingReplies = new Map()'));
});

void test(
  'promises awaited forever, held only by their resolve function: the awaited promise and its awaiting function',
  { timeout: 160_000 },
  () => {
    const { report, stderr } = run('pending-await.js');
    assert.ok(report, stderr.slice(-2000));
    const g = find(report, 'pending-promise', { app: 'pending-await.js', text: 'new Promise(' });
    assert.equal(g.growthPerRound, REQUESTS);
    assert.equal(g.owner.name, 'owedReplies');
    assert.equal(g.awaitedBy?.function, 'finishJob');
    assert.equal(g.awaitedBy?.location?.line, lineOf('pending-await.js', 'async function finishJob('));
    // The async function's own promise never settles either: it is made where the function starts.
    const own = find(report, 'pending-promise', { app: 'pending-await.js', text: 'async function finishJob(' });
    assert.equal(own.growthPerRound, REQUESTS);
  },
);

void test(
  'sockets, servers, intervals, file handles and child processes that are never closed',
  { timeout: 160_000 },
  () => {
    const { report, stderr } = run('handle-leak.js');
    assert.ok(report, stderr.slice(-2000));
    // Each request connects (a socket on each side of the connection) and opens one of everything else. The side the
    // upstream server accepts is made by that server, not by the program's `net.connect(`.
    const sockets = find(report, 'socket', { app: 'handle-leak.js', text: 'net.connect(' });
    assert.equal(sockets.growthPerRound, REQUESTS);
    assert.equal(sockets.native, 'TCPSocketWrap');
    const accepted = find(report, 'socket', { app: 'handle-leak.js', text: 'const upstream = net.createServer(' });
    // A connection of the load generator that the server has not closed yet at a snapshot can add a few.
    assert.ok(
      accepted.growthPerRound >= REQUESTS && accepted.growthPerRound <= REQUESTS + 3,
      String(accepted.growthPerRound),
    );
    const servers = find(report, 'server', { app: 'handle-leak.js', text: 'net.createServer(() => {})' });
    assert.equal(servers.growthPerRound, REQUESTS);
    const timers = find(report, 'timer', { app: 'handle-leak.js', text: 'setInterval(' });
    // Node's own timers on the same list (a connection's idle timeout) can add one.
    assert.ok(
      timers.growthPerRound >= REQUESTS && timers.growthPerRound <= REQUESTS + 2,
      String(timers.growthPerRound),
    );
    const children = find(report, 'child-process', { app: 'handle-leak.js', text: "spawn('sleep'" });
    assert.equal(children.growthPerRound, REQUESTS);
    assert.equal(children.name, 'ChildProcess');
    // A file handle is made after an await, where V8's stacks are often stale; the one `open(` call of the program's
    // files is then its creating line.
    const files = find(report, 'file-handle', { app: 'handle-leak.js', text: 'fs.promises.open(' });
    assert.equal(files.growthPerRound, REQUESTS);
    assert.equal(files.owner.name, 'openLogs');
    assert.equal(files.owner.location?.line, lineOf('handle-leak.js', 'const openLogs = []'));
  },
);

void test(
  'without allocation stacks, the source names where each kind of handle is made, the same every run',
  { timeout: 160_000 },
  () => {
    const { report, stderr } = run('handle-leak.js', 'json', false);
    assert.ok(report, stderr.slice(-2000));
    const made = (kind: ResourceGroup['kind'], text: string, fn: string) => {
      const g = find(report, kind, { app: 'handle-leak.js', text });
      assert.equal(g.createdAt?.function, fn, kind);
    };
    // The one `net.connect(`, `spawn(` and `open(` of the program; the `createServer(` around the side channel's
    // listener (the program has three); the `setInterval(` around the timer's callback.
    made('socket', 'net.connect(', 'connectUpstream');
    made('server', 'net.createServer(() => {})', 'openSideChannel');
    made('timer', 'setInterval(', 'pollStatus');
    made('file-handle', 'fs.promises.open(', 'openLog');
    made('child-process', "spawn('sleep'", 'startHelper');
  },
);

void test(
  "a socket a server accepted is the server's, and a timer is held by the program, not by Node's timer list",
  { timeout: 160_000 },
  () => {
    const app = 'feed-subscriptions.js';
    for (const track of [true, false]) {
      const { report, stderr } = run(app, 'json', track);
      assert.ok(report, stderr.slice(-2000));
      const seen = JSON.stringify(
        (report.resources ?? []).map((g) => [g.kind, g.newPerRound, g.owner.name, g.createdAt?.location?.line]),
      );
      // The side the program connects, held by its subscription; the side the feed server accepts, held by Node.
      const connected = find(report, 'socket', { app, text: 'this.conn = net.connect(' });
      assert.deepEqual(connected.newPerRound, [REQUESTS, REQUESTS], seen);
      assert.equal(connected.owner.name, 'Subscription.conn', seen);
      const accepted = find(report, 'socket', { app, text: 'const feed = net.createServer(' });
      assert.deepEqual(accepted.newPerRound, [REQUESTS, REQUESTS], seen);
      // Every interval in one group, held where the program keeps it, even those Node's timer list reaches first.
      const timers = (report.resources ?? []).filter((g) => g.kind === 'timer');
      assert.equal(timers.length, 1, seen);
      const refresh = find(report, 'timer', { app, text: 'this.refresh = setInterval(' });
      assert.deepEqual(refresh.newPerRound, [REQUESTS, REQUESTS], seen);
      assert.equal(refresh.owner.name, 'Subscription.refresh', seen);
    }
  },
);

void test('a vm context per request, kept in a list', { timeout: 160_000 }, () => {
  const { report, stderr } = run('vm-contexts.js');
  assert.ok(report, stderr.slice(-2000));
  const g = find(report, 'vm-context', { app: 'vm-contexts.js', text: 'vm.createContext(' });
  assert.equal(g.growthPerRound, REQUESTS);
  assert.equal(g.owner.name, 'templateContexts');
});

void test(
  'the control makes and releases every kind of resource: no resource is reported',
  { timeout: 160_000 },
  () => {
    const { report, status, stderr } = run('resources-clean.js');
    assert.ok(report, stderr.slice(-2000));
    assert.deepEqual(report.resources, []);
    assert.equal(
      report.verdict,
      'clean',
      JSON.stringify(report.leaks.map((l) => `${l.className} via ${l.owner.name}`)),
    );
    assert.equal(status, 0);
  },
);

void test('the text report names the resource, its growth and its creating line', { timeout: 160_000 }, () => {
  const { stdout, stderr } = run('vm-contexts.js', 'text');
  assert.match(stdout, /Resources that grow every round/, stderr.slice(-2000));
  const line = lineOf('vm-contexts.js', 'vm.createContext(');
  assert.match(stdout, new RegExp(`vm contexts \\(vm context\\) x${2 * REQUESTS}, \\+${REQUESTS} per round`));
  assert.ok(stdout.includes(`created in render()  test/fixtures/apps/vm-contexts.js:${line}`), stdout);
  assert.ok(stdout.includes('held by templateContexts [variable]'), stdout);
});
