/**
 * Capturing must not change what is measured. A promise-heavy leaking server (test/fixtures/apps/promise-leak.js)
 * is measured by `leak-lens run`, and the same program with the same workload writes a snapshot of itself with no
 * inspector at all: the retained size per leaked record must agree within a few percent, and nothing of a finished
 * request may be kept. The Debugger domain left on during the workload is measured too, to show that the check
 * does see the retainers V8 adds then (async stack-trace links between promises).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { consoleLog, consoleVariants, measureLeakLens, measureVariant, variants } from '../../bench/observer-effect';

const requests = 100;

function variant(name: string) {
  const v = variants.find((x) => x.name.startsWith(name));
  assert.ok(v, `no variant ${name}`);
  return v;
}

test(
  'leak-lens run measures the retained size per leaked object that the program alone has',
  { timeout: 300_000 },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-lens-observer-'));
    try {
      const alone = await measureVariant(variant('no inspector'), requests, dir);
      assert.equal(alone.alive.IncomingMessage, 0, 'the program keeps no request of its own');

      const run = measureLeakLens(requests, dir);
      const group = run.report.leaks.find((g) => g.className === 'RequestRecord')!;
      const ratio = run.fromReport / alone.retainedPerRecord;
      assert.ok(
        Math.abs(ratio - 1) < 0.05,
        `leak-lens: ${run.fromReport.toFixed(0)} B per record, the program alone: ${alone.retainedPerRecord.toFixed(0)} B`,
      );
      const kept = group.retains.map((r) => r.className);
      for (const cls of ['IncomingMessage', 'ServerResponse', 'Socket', 'Generator'])
        assert.ok(!kept.includes(cls), `the group retains ${cls}: ${kept.join(', ')}`);
      assert.equal(run.lastSnapshot.alive.IncomingMessage, 0, "no request alive in leak-lens run's own snapshot");
      assert.ok(Math.abs(run.lastSnapshot.retainedPerRecord / alone.retainedPerRecord - 1) < 0.05);
      // The sidecars still carry the scripts, learned with the Debugger domain on for a moment only.
      assert.ok(
        run.sidecarScripts.some((url) => url.endsWith('promise-leak.js')),
        'the app script is in the sidecar',
      );

      const debuggerOn = await measureVariant(variant('Debugger.enable'), requests, dir);
      assert.ok(
        debuggerOn.retainedPerRecord > 2 * alone.retainedPerRecord,
        `with the Debugger domain on: ${debuggerOn.retainedPerRecord.toFixed(0)} B per record`,
      );
      assert.ok(debuggerOn.alive.IncomingMessage >= requests, 'requests are kept alive while Debugger is on');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "objects the program logs are not kept by the inspector's console storage in leak-lens run",
  { timeout: 300_000 },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-lens-observer-'));
    try {
      // With --inspect, V8 keeps every console.log argument for replay: the check does see that.
      const kept = await measureVariant(
        consoleVariants.find((v) => v.noSession)!,
        requests,
        dir,
        consoleLog,
      );
      assert.ok(kept.records >= requests, `--inspect alone keeps the logged objects (${kept.records} alive)`);
      const run = measureLeakLens(requests, dir, consoleLog);
      assert.equal(
        run.report.verdict,
        'clean',
        JSON.stringify(run.report.leaks.map((g) => `${g.className} via ${g.owner.name}`)),
      );
      assert.equal(run.lastSnapshot.records, 0, "no logged object alive in leak-lens run's last snapshot");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
