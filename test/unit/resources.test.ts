/**
 * The engine's counting of resources that are not growing classes (engine/resources.ts), on snapshots a real Node
 * process wrote (test/fixtures/apps/resource-counts.js): pending promises, active timers and native contexts per
 * snapshot, and the report's groups for what grows every round; settled promises (kept or dropped), never-settled
 * promises that nothing holds, cleared intervals and dropped contexts are never counted.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadAnalysis } from '../../engine/analysis';
import { buildLeakReport } from '../../engine/report';
import { countResources, findResources } from '../../engine/resources';
import { fixture, repoRoot } from '../helpers/fixtures';

void test('pending promises, active timers and contexts are counted per snapshot; settled, dropped and cleared ones are not', () => {
  const { files } = fixture('resource-counts');
  const counts = files.map((f) => countResources(findResources(loadAnalysis(f, { light: true }))));
  for (let r = 1; r < counts.length; r++) {
    // 20 kept pending per round; the 20 kept settled, 20 settled-and-dropped and 20 unheld never-settled add none.
    assert.equal(counts[r]['pending-promise'] - counts[r - 1]['pending-promise'], 20, JSON.stringify(counts));
    assert.equal(counts[r].timer - counts[r - 1].timer, 3, JSON.stringify(counts));
    assert.equal(counts[r]['vm-context'] - counts[r - 1]['vm-context'], 5, JSON.stringify(counts));
    assert.equal(counts[r].socket - counts[r - 1].socket, 0);
  }
  // The main context is always there.
  assert.ok(counts[0]['vm-context'] >= 1);
});

void test('the report gives each growing kind with its growth, holder and creating line', () => {
  const app = path.join(repoRoot, 'test', 'fixtures', 'apps', 'resource-counts.js');
  const lines = fs.readFileSync(app, 'utf8').split('\n');
  const lineOf = (text: string) => lines.findIndex((l) => l.includes(text)) + 1;
  const tracked = buildLeakReport(fixture('resource-counts', { track: true }).files);
  const byKind = new Map((tracked.resources ?? []).map((g) => [g.kind, g]));
  // Every figure checked below, in one line, so that a failure says what the report held.
  const seen = JSON.stringify(
    (tracked.resources ?? []).map((g) => [g.kind, g.newPerRound, g.owner.name, g.createdAt, g.createdNote]),
  );
  assert.deepEqual([...byKind.keys()].sort(), ['pending-promise', 'timer', 'vm-context'], seen);
  const promises = byKind.get('pending-promise')!;
  assert.deepEqual(promises.newPerRound, [20, 20], seen);
  assert.equal(promises.owner.name, 'heldPending', seen);
  assert.deepEqual(
    [promises.createdAt?.location?.file, promises.createdAt?.location?.line],
    [app, lineOf('heldPending.set(seq++, new Promise(')],
    seen,
  );
  const contexts = byKind.get('vm-context')!;
  assert.equal(contexts.growthPerRound, 5, seen);
  assert.equal(contexts.owner.name, 'contexts', seen);
  assert.equal(contexts.createdAt?.location?.line, lineOf('contexts.push(vm.createContext('), seen);
  const timers = byKind.get('timer')!;
  // The housekeeping timer replaced every round is new in each round too, but it runs another callback: not these.
  assert.deepEqual([timers.count, timers.newPerRound], [6, [3, 3]], seen);
  assert.equal(timers.growthPerRound, 3, seen);
  assert.equal(timers.createdAt?.location?.line, lineOf('intervals.push(setInterval('), seen);
  assert.equal(tracked.verdict, 'leak');
  // Without allocation stacks: two createContext calls and two `new Promise(` in the file, but the one on the line that
  // adds them to their holder is the one that makes them.
  const untracked = buildLeakReport(fixture('resource-counts').files);
  const c = (untracked.resources ?? []).find((g) => g.kind === 'vm-context');
  assert.deepEqual([c?.createdAt?.function, c?.createdAt?.location?.line], ['work', lineOf('contexts.push(vm.')]);
  // A timer's line is the `setInterval(` around its callback, in the function that calls it.
  const t = (untracked.resources ?? []).find((g) => g.kind === 'timer');
  assert.deepEqual([t?.createdAt?.function, t?.createdAt?.location?.line], ['work', lineOf('intervals.push(setInt')]);
  const p = (untracked.resources ?? []).find((g) => g.kind === 'pending-promise');
  assert.deepEqual([p?.createdAt?.function, p?.createdAt?.location?.line], ['work', lineOf('heldPending.set(')]);
});

void test('a resource kept through a field of an anonymous entry in a collection is held by the collection', () => {
  // `pendingReplies.set(id, { resolve, reject, topic })`: the entry's `resolve` is how it holds the promise, the Map is
  // what keeps the entry. The resource group names the Map's holder, as the group of the entries does.
  const report = buildLeakReport(fixture('entry-fields').files);
  const entries = report.leaks.find((l) => l.className === '{resolve, reject, topic}');
  const pending = (report.resources ?? []).filter((g) => g.kind === 'pending-promise');
  const seen = JSON.stringify(pending.map((g) => [g.newPerRound, g.owner.name, g.owner.location?.line]));
  assert.ok(entries, JSON.stringify(report.leaks.map((l) => [l.className, l.owner.name])));
  assert.equal(entries.owner.name, 'Broker.pendingReplies');
  assert.equal(pending.length, 1, seen);
  assert.deepEqual(pending[0].newPerRound, [20, 20], seen);
  assert.equal(pending[0].owner.name, entries.owner.name, seen);
  assert.deepEqual(pending[0].owner.location, entries.owner.location, seen);
  // The path still shows the entry and its field, under the owner.
  const steps = pending[0].retainerPath.map((st) => st.edge);
  assert.ok(steps.includes('pendingReplies') && (steps.includes('resolve') || steps.includes('reject')), seen);
  // A timer in an entry whose callback captures that entry: held by the array, whichever way its path goes.
  const timers = (report.resources ?? []).filter((g) => g.kind === 'timer');
  const timersSeen = JSON.stringify(timers.map((g) => [g.newPerRound, g.owner.name]));
  assert.equal(timers.length, 1, timersSeen);
  assert.deepEqual(timers[0].newPerRound, [20, 20], timersSeen);
  assert.equal(timers[0].owner.name, 'feeds', timersSeen);
});

void test('promises kept through an entry holding both their resolve and reject functions are one group', () => {
  // Which of the two functions a retainer path goes through is up to V8's node order; it must not split the group
  // (a part that falls below a round's minimum would be dropped and the growth under-counted).
  const app = path.join(repoRoot, 'test', 'fixtures', 'apps', 'reply-entries.js');
  const line =
    fs
      .readFileSync(app, 'utf8')
      .split('\n')
      .findIndex((l) => l.includes('return new Promise(')) + 1;
  for (const track of [false, true]) {
    const report = buildLeakReport(fixture('reply-entries', { track }).files);
    const groups = (report.resources ?? []).filter((g) => g.kind === 'pending-promise');
    const seen = JSON.stringify(groups.map((g) => [g.newPerRound, g.owner.name, g.createdAt?.location?.line]));
    assert.equal(groups.length, 1, seen);
    assert.deepEqual(groups[0].newPerRound, [40, 40], seen);
    // Without stacks too: the `.set(` that stores the resolving functions runs in that `new Promise(`'s executor.
    assert.deepEqual([groups[0].createdAt?.function, groups[0].createdAt?.location?.line], ['request', line], seen);
  }
});

void test('a cleared timer that the program still holds (a closed connection kept) is no active timer', () => {
  // exports-weakmap-timers.js keeps 100 connections per round, each with a timer it cleared: off Node's timer list,
  // its `_idlePrev` is null, not absent.
  const { files } = fixture('exports-weakmap-timers');
  const counts = files.map((f) => countResources(findResources(loadAnalysis(f, { light: true }))));
  for (let r = 1; r < counts.length; r++) assert.equal(counts[r].timer, counts[0].timer, JSON.stringify(counts));
  const report = buildLeakReport(files);
  assert.deepEqual(
    (report.resources ?? []).map((g) => g.kind),
    [],
    JSON.stringify(report.resources?.map((g) => [g.kind, g.owner.name])),
  );
  assert.ok(report.leaks.some((l) => l.className === 'ClosedConnection'));
});

test('resource groups that share an owner get ids of their own, the same in another run; each timer kind its own line', () => {
  // One list holds intervals, timeouts (each with its callback) and promises: both timer groups were `timer@jobs`, and
  // both were said to be made on the line of the list's first push.
  const file = path.join(repoRoot, 'test', 'fixtures', 'apps', 'shared-owner-resources.js');
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const lineOf = (text: string) => lines.findIndex((l) => l.includes(text)) + 1;
  const idsOf = (variant?: string) => {
    const report = buildLeakReport(fixture('shared-owner-resources', { variant }).files);
    const all = [...report.leaks, ...(report.resources ?? [])].map((g) => g.id);
    assert.equal(new Set(all).size, all.length, JSON.stringify(all));
    return report.resources ?? [];
  };
  const first = idsOf();
  const timers = first.filter((g) => g.kind === 'timer');
  assert.equal(timers.length, 2, JSON.stringify(first.map((g) => g.id)));
  for (const g of timers) assert.match(g.id, /^timer@jobs#[0-9a-f]{8}$/);
  assert.deepEqual(
    timers.map((g) => g.createdAt?.location?.line).sort(),
    [lineOf('setInterval('), lineOf('setTimeout(')].sort(),
  );
  // A second run of the program names its groups the same way.
  const again = idsOf('again');
  assert.deepEqual(again.map((g) => g.id).sort(), first.map((g) => g.id).sort());
});
