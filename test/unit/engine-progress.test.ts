import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineService } from '../../engine/service';
import { progressText, STAGE_WORDS, type EngineProgress } from '../../protocol/progress';
import { fixture } from '../helpers/fixtures';

test('progress of a leak search names each snapshot of how many, in order, with stages in words', () => {
  const files = fixture('basic-leak').files;
  const seen: EngineProgress[] = [];
  const answer = new EngineService().handle({ kind: 'analyze', files }, { onProgress: (p) => seen.push(p) });
  assert.ok(answer.ok, !answer.ok ? answer.error : '');
  assert.ok(seen.length > 0);
  for (const p of seen) {
    assert.ok(p.stage in STAGE_WORDS, `stage ${p.stage} has words`);
    assert.equal(p.snapshots, 3, `${JSON.stringify(p)} says of how many snapshots`);
  }
  // Snapshot numbers never go back, and within one snapshot neither does the share read.
  for (let i = 1; i < seen.length; i++) {
    const [a, b] = [seen[i - 1], seen[i]];
    assert.ok(b.snapshot! >= a.snapshot!, `snapshot ${a.snapshot} then ${b.snapshot}`);
    if (
      a.done !== undefined &&
      b.done !== undefined &&
      a.stage === 'parse' &&
      b.stage === 'parse' &&
      a.snapshot === b.snapshot
    )
      assert.ok(b.done >= a.done, 'reading goes forward');
  }
  assert.deepEqual([...new Set(seen.filter((p) => p.stage === 'parse').map((p) => p.snapshot))], [1, 2, 3]);
  const texts = seen.map(progressText);
  assert.ok(texts.includes('Reading snapshot 3 of 3 — 100%'), texts.join(' | '));
  assert.ok(texts.includes('Computing retained sizes (snapshot 3 of 3)'), texts.join(' | '));
});

test('progress in words: one snapshot, several, a worker thread; never an internal stage name', () => {
  assert.equal(progressText({ stage: 'parse', done: 40, total: 100 }), 'Reading the snapshot — 40%');
  assert.equal(
    progressText({ stage: 'parse', done: 1, total: 3, snapshot: 2, snapshots: 3 }),
    'Reading snapshot 2 of 3 — 33%',
  );
  assert.equal(
    progressText({ stage: 'parse', done: 5, total: 10, snapshot: 1, snapshots: 2, thread: 'worker 2 jobs' }),
    'Reading snapshot 1 of 2 of worker 2 jobs — 50%',
  );
  assert.equal(progressText({ stage: 'dominators' }), 'Computing retained sizes');
  assert.equal(
    progressText({ stage: 'interfaces', snapshot: 3, snapshots: 3 }),
    'Recognising object shapes (snapshot 3 of 3)',
  );
  assert.equal(
    progressText({ stage: 'classes', thread: 'worker 2 jobs' }),
    'Grouping objects by class (worker 2 jobs)',
  );
  // A stage the words do not know yet (a newer engine) says something general, not its code name.
  assert.equal(progressText({ stage: 'somethingNew' as never }), 'Analysing');
});
