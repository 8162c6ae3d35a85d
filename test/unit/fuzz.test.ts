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

/** Runs the fuzzer with these arguments; resolves to its exit code and parsed JSON result. */
async function fuzz(args: string[]): Promise<{ code: number | null; result: FuzzResult }> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'scripts', 'fuzz.js'), ...args, '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.ok(out, `the fuzzer printed nothing (exit ${code}): ${err}`);
  return { code, result: JSON.parse(out) as FuzzResult };
}

test('the fuzzer calls a command that sleeps forever a hang, and says where its threads wait', async () => {
  const bin = path.join(repoRoot, 'test', 'fixtures', 'tools', 'sleeping-cli.js');
  const { code, result } = await fuzz(['--cases', '1', '--idle', '1', '--bin', bin]);
  assert.equal(code, 1, `exit 1 on a bad outcome: ${JSON.stringify(result.counts)}`);
  assert.ok(result.counts.hang >= 1, `a hang counted: ${JSON.stringify(result.counts)}`);
  const example = (result.examples.hang ?? []).join('\n');
  assert.match(example, /asleep with no CPU for 1 s; node S /, example);
  assert.ok(result.tempRemoved, 'the fuzzer removed its temporary folder');
});

test('150 fuzzed snapshots and sidecars: only reports and clean errors', async () => {
  const { code, result } = await fuzz(['--cases', '150']);
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
