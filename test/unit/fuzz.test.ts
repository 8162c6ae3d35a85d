/**
 * A slice of the hostile-input fuzzer (scripts/fuzz.js, `npm run fuzz` runs thousands of cases): its first 150
 * fixed-seed cases, each run through `leak-lens summary` and `analyze` in child processes watched for hangs and
 * memory. Every outcome must be a report or a clean one-line error, and the fuzzer must leave no file behind.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/fixtures';

interface FuzzResult {
  cases: number;
  runs: number;
  counts: Record<string, number>;
  examples: Record<string, string[]>;
  bad: number;
  tempRemoved: boolean;
}

test('150 fuzzed snapshots and sidecars: only reports and clean errors', async () => {
  const child = spawn(process.execPath, [path.join(repoRoot, 'scripts', 'fuzz.js'), '--cases', '150', '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.ok(out, `the fuzzer printed nothing (exit ${code}): ${err}`);
  const result = JSON.parse(out) as FuzzResult;
  assert.equal(result.cases, 150);
  assert.ok(result.runs >= 150);
  assert.ok(result.tempRemoved, 'the fuzzer removed its temporary folder');
  assert.ok(
    result.counts.ok > 0 && result.counts['clean error'] > 0,
    `both outcomes occur: ${JSON.stringify(result.counts)}`,
  );
  assert.equal(
    result.bad,
    0,
    `bad outcomes: ${JSON.stringify(result.counts)}\n${Object.values(result.examples).flat().join('\n')}`,
  );
  assert.equal(code, 0);
});
