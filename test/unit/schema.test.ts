import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import Ajv from 'ajv';
import { buildLeakReport } from '../../engine/report';
import { fixture, repoRoot } from '../helpers/fixtures';

test('JSON reports follow schema/leak-report.schema.json', () => {
  const schema = JSON.parse(fs.readFileSync(path.join(repoRoot, 'schema', 'leak-report.schema.json'), 'utf8')) as object;
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
  for (const report of [buildLeakReport(fixture('basic-leak', { track: true }).files), buildLeakReport(fixture('clean-churn').files)]) {
    const plain = JSON.parse(JSON.stringify(report)) as unknown;
    assert.ok(validate(plain), JSON.stringify(validate.errors));
  }
  // The schema is not vacuous: a report without an owner is rejected.
  const broken = JSON.parse(JSON.stringify(buildLeakReport(fixture('basic-leak').files))) as { leaks: { owner?: unknown }[] };
  delete broken.leaks[0].owner;
  assert.equal(validate(broken), false);
});
