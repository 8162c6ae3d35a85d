import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineClient } from '../../engine/client';
import { fixture } from '../helpers/fixtures';

test('the engine worker answers paged queries off the caller thread, with progress and clean errors', async () => {
  const client = new EngineClient(512);
  try {
    const files = fixture('basic-leak').files;
    const stages: string[] = [];
    const report = await client.request({ kind: 'analyze', files }, { onProgress: (p) => stages.push(p.stage) });
    assert.ok(report.ok, !report.ok ? report.error : '');
    assert.equal(report.value.verdict, 'leak');
    assert.ok(stages.includes('parse') && stages.includes('dominators'), `progress stages: ${stages.join(',')}`);
    const conn = report.value.leaks.find((l) => l.className === 'Connection')!;
    // Follow up on the last snapshot: retainers of the leaked object and its retainer path.
    const retainers = await client.request({ kind: 'retainers', file: files[2], nodeId: conn.sampleIds[0] });
    assert.ok(retainers.ok);
    assert.ok(retainers.value.items.some((r) => r.node === 'Array' && r.edgeType === 'element'));
    // Retainers with a known function or constructor carry its source location.
    const ctxRetainers = await client.request({
      kind: 'retainers',
      file: files[2],
      nodeId: retainers.value.items.find((r) => r.node === 'Array')!.nodeId,
    });
    assert.ok(ctxRetainers.ok);
    const located = await client.request({ kind: 'retainerPath', file: files[2], nodeId: conn.sampleIds[0] });
    assert.ok(located.ok && located.value.some((st) => st.location && /basic-leak\.js$/.test(st.location.file)));
    const path = await client.request({ kind: 'retainerPath', file: files[2], nodeId: conn.sampleIds[0] });
    assert.ok(path.ok);
    assert.equal(path.value[path.value.length - 1].node, 'Connection');
    const summary = await client.request({ kind: 'summary', file: files[2], offset: 0, limit: 5 });
    assert.ok(summary.ok);
    assert.equal(summary.value.items.length, 5);
    assert.ok(summary.value.total > 100);
    const objects = await client.request({ kind: 'objects', file: files[2], className: 'Connection', limit: 10 });
    assert.ok(objects.ok);
    // 300 instances plus the class's prototype objects, which carry the same name.
    assert.ok(objects.value.total >= 300 && objects.value.total <= 302, String(objects.value.total));
    const cmp = await client.request({ kind: 'compare', base: files[0], target: files[2] });
    assert.ok(cmp.ok);
    const connDelta = cmp.value.items.find((r) => r.className === 'Connection');
    assert.equal(connDelta?.countDelta, 200);
    const bad = await client.request({ kind: 'load', file: '/nonexistent.heapsnapshot' });
    assert.equal(bad.ok, false);
    assert.ok(!bad.ok && bad.code === 'parse' && /no such file/.test(bad.error));
  } finally {
    await client.dispose();
  }
});

test('a cancelled load stops with a cancelled answer', async () => {
  const client = new EngineClient(512);
  try {
    const controller = new AbortController();
    controller.abort();
    const answer = await client.request(
      { kind: 'load', file: fixture('basic-leak').files[1] },
      { signal: controller.signal },
    );
    assert.equal(answer.ok, false);
    assert.ok(!answer.ok && answer.code === 'cancelled');
  } finally {
    await client.dispose();
  }
});
