/**
 * The class summary must show the numbers Chrome DevTools shows. heap-snapshot-toolkit packages DevTools' own heap
 * snapshot worker, so it is the reference: every class row (count, shallow size, retained size, distance) and the
 * total must be equal.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { loadAnalysis } from '../../engine/analysis';
import { summarizeClasses } from '../../engine/summary';
import { fixture } from '../helpers/fixtures';

interface Aggregate {
  name: string;
  count: number;
  self: number;
  maxRet: number;
  distance: number;
}

async function devtoolsAggregates(file: string): Promise<{ total: number; rows: Map<string, Aggregate> }> {
  // The toolkit is an ES module; load it without TypeScript turning the import into require().
  const load = new Function('p', 'return import(p)') as (p: string) => Promise<Record<string, unknown>>;
  const toolkit = (await load('heap-snapshot-toolkit')) as {
    parse: (
      s: fs.ReadStream,
    ) => Promise<{ totalSize: number; aggregatesWithFilter: (f: unknown) => Record<string, Aggregate> }>;
    DevToolsAPI: { HeapSnapshotModel: { NodeFilter: new () => unknown } };
  };
  const snapshot = await toolkit.parse(fs.createReadStream(file, 'utf-8'));
  const aggregates = snapshot.aggregatesWithFilter(new toolkit.DevToolsAPI.HeapSnapshotModel.NodeFilter());
  return { total: snapshot.totalSize, rows: new Map(Object.entries(aggregates)) };
}

for (const [app, opts] of [
  ['basic-leak', {}],
  ['basic-leak', { track: true }],
  ['clean-churn', {}],
] as const) {
  test(`class summary equals DevTools' for ${app}${'track' in opts ? ' (allocation tracking)' : ''}`, async () => {
    const file = fixture(app, opts).files[2];
    const reference = await devtoolsAggregates(file);
    const a = loadAnalysis(file);
    assert.equal(a.totalSize, reference.total, 'total size');
    const rows = summarizeClasses(a);
    const mine = new Map(
      rows.map((r) => [(r.scriptId !== undefined ? `${r.scriptId},${r.line},${r.column},` : ',') + r.className, r]),
    );
    assert.equal(mine.size, reference.rows.size, 'number of classes');
    for (const [key, ref] of reference.rows) {
      const row = mine.get(key);
      assert.ok(row, `class ${key} missing`);
      assert.deepEqual(
        [row.count, row.shallowSize, row.retainedSize, row.distance],
        [ref.count, ref.self, ref.maxRet, ref.distance],
        `class ${key}`,
      );
    }
  });
}
