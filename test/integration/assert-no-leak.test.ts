/**
 * `assertNoLeak` from `leak-lens/test` in the three runners it supports, each run for real as a child process on its
 * example file (test/fixtures/runners): node:test, mocha and jest. In each, the leaking test must fail with the leak
 * group's text (class, owner file:line, allocation file:line) and the clean test must pass; the snapshots taken in
 * the test process must be gone from its TMPDIR afterwards. Then, in this process: two calls at once take turns, and
 * a function that throws rejects with its own error.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { assertNoLeak, LeakError } from '../../src/testing';
import { repoRoot } from '../helpers/fixtures';
import { tempDir } from '../helpers/temp';

const runners = path.join(repoRoot, 'test', 'fixtures', 'runners');

interface Result {
  status: number | null;
  output: string;
}

/** Runs a test runner in the repository (so `leak-lens/test` resolves to this package) with its own TMPDIR. */
function runRunner(tmp: string, args: string[]): Promise<Result> {
  // A node:test parent tells its children to report to it; these runs report on their own.
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp, CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0' };
  delete env.NODE_TEST_CONTEXT;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, output }));
  });
}

/** The leak group's text, as assertNoLeak's error message gives it, for the example file `file`. */
function assertLeakText(output: string, file: string, ownerLine: number, allocationLine: number): void {
  const shown = `test/fixtures/runners/${file}`.replace(/[./]/g, (c) => `\\${c}`);
  assert.match(output, /1 leak found across 3 snapshots \(2 rounds;/);
  assert.match(output, /1\. Subscription x20 \(\+10 per round\)/);
  assert.match(output, new RegExp(`held by subscriptions \\[variable\\] {2}${shown}:${ownerLine}\\b`));
  assert.match(output, new RegExp(`allocated in subscribe\\(\\) {2}${shown}:${allocationLine}\\b`));
}

test('node:test: the leaking test fails with the leak text, the clean one passes', async (t) => {
  const tmp = tempDir(t, 'assert-node-test');
  const r = await runRunner(tmp, ['--test', '--test-reporter', 'tap', path.join(runners, 'node-test.test.js')]);
  assert.equal(r.status, 1, r.output);
  assert.match(r.output, /^not ok 1 - leaking: subscribe keeps every Subscription$/m);
  assert.match(r.output, /^ok 2 - clean: subscribeOnce keeps one per topic$/m);
  assert.match(r.output, /name: 'LeakError'/);
  assertLeakText(r.output, 'node-test.test.js', 13, 15);
  assert.deepEqual(fs.readdirSync(tmp), [], 'snapshots left in TMPDIR');
});

test('mocha: the leaking test fails with the leak text, the clean one passes', async (t) => {
  const tmp = tempDir(t, 'assert-mocha');
  const r = await runRunner(tmp, [
    path.join(repoRoot, 'node_modules', 'mocha', 'bin', 'mocha.js'),
    '--no-config',
    '--reporter',
    'spec',
    path.join(runners, 'mocha.spec.js'),
  ]);
  assert.equal(r.status, 1, r.output);
  assert.match(r.output, /^ {2}1 passing/m);
  assert.match(r.output, /^ {2}1 failing/m);
  assert.match(r.output, /✔ clean: subscribeOnce keeps one per topic/);
  assert.match(r.output, /1\) leaking: subscribe keeps every Subscription/);
  assert.match(r.output, /LeakError: 1 leak found/);
  assertLeakText(r.output, 'mocha.spec.js', 12, 14);
  assert.deepEqual(fs.readdirSync(tmp), [], 'snapshots left in TMPDIR');
});

test('jest (babel-jest transform): the leaking test fails with the leak text at the lines of the file, the clean one passes', async (t) => {
  const tmp = tempDir(t, 'assert-jest');
  const cacheDir = tempDir(t, 'assert-jest-cache');
  const r = await runRunner(tmp, [
    path.join(repoRoot, 'node_modules', 'jest', 'bin', 'jest.js'),
    '--rootDir',
    runners,
    '--testMatch',
    '**/jest.test.js',
    '--cacheDirectory',
    cacheDir,
    '--ci',
  ]);
  assert.equal(r.status, 1, r.output);
  assert.match(r.output, /Tests: {7}1 failed, 1 passed, 2 total/);
  assert.match(r.output, /✕ leaking: subscribe keeps every Subscription/);
  assert.match(r.output, /✓ clean: subscribeOnce keeps one per topic/);
  assert.match(r.output, /LeakError: 1 leak found/);
  // babel-jest re-prints the file: these lines are right only through the code that ran and its source map.
  assertLeakText(r.output, 'jest.test.js', 12, 14);
  assert.deepEqual(fs.readdirSync(tmp), [], 'snapshots left in TMPDIR');
});

class Ticket {
  constructor(readonly n: number) {}
}
const issued: Ticket[] = [];
let lastTicket: Ticket | undefined;

test('in this process: two calls at once take turns (the clean one passes, the leaking one names its class and owner)', async (t) => {
  const tmp = tempDir(t, 'assert-inprocess');
  const clean = assertNoLeak(
    () => {
      lastTicket = new Ticket(issued.length);
    },
    { iterations: 5, trackAllocations: false, tmpDir: tmp },
  );
  const leaking = assertNoLeak(
    () => {
      issued.push(new Ticket(issued.length));
    },
    { iterations: 5, trackAllocations: false, tmpDir: tmp },
  );
  const [a, b] = await Promise.allSettled([clean, leaking]);
  assert.equal(a.status, 'fulfilled', a.status === 'rejected' ? String(a.reason) : '');
  assert.equal(b.status, 'rejected');
  const error = (b as PromiseRejectedResult).reason as LeakError;
  assert.ok(error instanceof LeakError);
  assert.equal(error.report.leaks[0]?.className, 'Ticket');
  assert.match(error.message, /^1\. Ticket x10 \(\+5 per round\)/m);
  // Through this test's source map, the owner is the TypeScript line of `const issued`.
  assert.match(error.message, /held by issued \[variable\] {2}.*assert-no-leak\.test\.ts:\d+$/m);
  assert.ok(lastTicket);
  assert.deepEqual(fs.readdirSync(tmp), [], 'snapshots left behind');
});

test('in this process: an error of the function rejects as it is, and bad options are refused', async (t) => {
  const tmp = tempDir(t, 'assert-throws');
  const boom = new RangeError('no more tickets');
  await assert.rejects(
    assertNoLeak(
      () => {
        throw boom;
      },
      { tmpDir: tmp },
    ),
    (e) => e === boom,
  );
  assert.deepEqual(fs.readdirSync(tmp), [], 'snapshots left behind');
  await assert.rejects(
    assertNoLeak(() => undefined, { iterations: 0 }),
    /^TypeError: assertNoLeak: options\.iterations must be a whole number of at least 1, not 0$/,
  );
  // The session of the failed call is closed: the next call measures normally.
  await assertNoLeak(() => undefined, { iterations: 2, rounds: 1, trackAllocations: false, tmpDir: tmp });
});
