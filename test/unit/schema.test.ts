import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import Ajv from 'ajv';
import { buildLeakReport } from '../../engine/report';
import { mergeThreadReports } from '../../engine/threads';
import { fixture, repoRoot } from '../helpers/fixtures';

test('JSON reports follow schema/leak-report.schema.json', () => {
  const schema = JSON.parse(
    fs.readFileSync(path.join(repoRoot, 'schema', 'leak-report.schema.json'), 'utf8'),
  ) as object;
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
  for (const report of [
    buildLeakReport(fixture('basic-leak', { track: true }).files),
    buildLeakReport(fixture('clean-churn').files),
  ]) {
    const plain = JSON.parse(JSON.stringify(report)) as unknown;
    assert.ok(validate(plain), JSON.stringify(validate.errors));
  }
  // A report over threads (leak-lens run on a program with workers): groups name their thread.
  const threaded = mergeThreadReports(buildLeakReport(fixture('clean-churn').files), [
    { name: 'worker 1 jobs', report: buildLeakReport(fixture('basic-leak').files) },
  ]);
  assert.equal(threaded.verdict, 'leak');
  assert.ok(threaded.leaks.every((g) => g.thread === 'worker 1 jobs'));
  assert.ok(validate(JSON.parse(JSON.stringify(threaded)) as unknown), JSON.stringify(validate.errors));
  const noSnapshots = JSON.parse(JSON.stringify(threaded)) as { threads: { snapshots?: unknown }[] };
  delete noSnapshots.threads[1].snapshots;
  assert.equal(validate(noSnapshots), false);
  // The schema is not vacuous: a report without an owner is rejected.
  const broken = JSON.parse(JSON.stringify(buildLeakReport(fixture('basic-leak').files))) as {
    leaks: { owner?: unknown }[];
  };
  delete broken.leaks[0].owner;
  assert.equal(validate(broken), false);
});
