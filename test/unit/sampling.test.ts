/**
 * The sampling analysis (engine/sampling.ts) on small profiles: which round allocated each survivor, from the
 * ordinals alone, and which stacks count as growing. The whole mode runs on real programs in
 * test/integration/sampling.test.ts; these profiles only pin the arithmetic.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineClient } from '../../engine/client';
import { analyzeSampling } from '../../engine/sampling';
import type { SamplingProfile, SamplingProfileNode } from '../../protocol/report';

const frame = (functionName: string, line: number) => ({
  functionName,
  scriptId: '1',
  url: '/app/server.js',
  lineNumber: line - 1,
  columnNumber: 0,
});
const node = (id: number, fn: string, line: number, children: SamplingProfileNode[] = []): SamplingProfileNode => ({
  id,
  callFrame: frame(fn, line),
  selfSize: 0,
  children,
});
const tree = (): SamplingProfileNode => ({
  id: 1,
  callFrame: { functionName: '(root)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 },
  selfSize: 0,
  children: [node(2, 'handler', 10, [node(3, 'accept', 20), node(4, 'cache', 30)])],
});
/** A profile whose live samples are [nodeId, ordinal] pairs. */
const profile = (samples: [number, number][]): SamplingProfile => ({
  head: tree(),
  samples: samples.map(([nodeId, ordinal]) => ({ nodeId, ordinal, size: 64 })),
});

test('a stack whose objects survive from every round and grow leaks; one whose old objects are replaced does not', () => {
  // accept (node 3) keeps everything; cache (node 4) keeps only what the latest round made.
  const profiles = [
    profile([
      [3, 1],
      [4, 2],
    ]),
    profile([
      [3, 1],
      [3, 5],
      [4, 6],
    ]),
    profile([
      [3, 1],
      [3, 5],
      [3, 9],
      [4, 10],
    ]),
    profile([
      [3, 1],
      [3, 5],
      [3, 9],
      [3, 13],
      [3, 14],
      [4, 15],
    ]),
  ];
  const f = analyzeSampling(profiles, 1024);
  assert.equal(f.rounds, 3);
  assert.equal(f.growth.length, 1, JSON.stringify(f.growth));
  const g = f.growth[0];
  assert.deepEqual(
    g.stack.map((s) => s.function),
    ['accept', 'handler'],
  );
  assert.deepEqual(g.liveSamples, [1, 2, 3, 5]);
  // Ordinal 1 was alive at the first boundary (before the rounds); 5, 9 and 13-14 came from rounds 1, 2 and 3.
  assert.deepEqual(g.survivorsPerRound, [1, 1, 2]);
  assert.equal(g.estimatedBytes, 4 * 1024);
});

test('a round that left no survivor of a stack means no leak there, and an empty round list is refused', () => {
  const profiles = [
    profile([[3, 1]]),
    profile([
      [3, 1],
      [3, 4],
    ]),
    profile([
      [3, 1],
      [3, 4],
    ]),
    profile([
      [3, 1],
      [3, 4],
      [3, 12],
    ]),
  ];
  assert.deepEqual(analyzeSampling(profiles, 1024).growth, []);
  assert.throws(() => analyzeSampling([profile([])], 1024), /two boundaries/);
});

test('the engine worker answers analyzeSampling with a report of the sampling mode, and refuses one boundary in one line', async () => {
  const client = new EngineClient(256);
  try {
    const profiles = [
      profile([[3, 1]]),
      profile([
        [3, 1],
        [3, 5],
      ]),
      profile([
        [3, 1],
        [3, 5],
        [3, 9],
      ]),
    ];
    const answer = await client.request({ kind: 'analyzeSampling', profiles, interval: 512, pid: 42 });
    assert.ok(answer.ok, answer.ok ? '' : answer.error);
    assert.equal(answer.value.verdict, 'leak');
    assert.equal(answer.value.pid, 42);
    assert.deepEqual(answer.value.snapshots, []);
    assert.deepEqual(
      answer.value.sampling?.growth.map((g) => [g.site.function, g.liveSamples]),
      [['accept', [1, 2, 3]]],
    );
    const one = await client.request({ kind: 'analyzeSampling', profiles: profiles.slice(0, 1), interval: 512 });
    assert.deepEqual(one, {
      ok: false,
      code: 'input',
      error: 'the sampling mode needs allocation samples from two round boundaries at least; run at least one round',
    });
  } finally {
    await client.dispose();
  }
});
