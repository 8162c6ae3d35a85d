/** The capture estimate and the refusal (src/capture/budget.ts), on the figures a target reports about itself. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BYTES_PER_OBJECT,
  checkCapture,
  estimateCapture,
  isCaptureTooBig,
  WORST_OBJECTS_PER_BYTE,
} from '../../src/capture/budget';

const MB = 1024 * 1024;

test('the estimate uses the previous snapshot objects per byte when there is one, the worst density otherwise', () => {
  assert.deepEqual(estimateCapture(100 * MB), {
    estimateBytes: Math.round(100 * MB * WORST_OBJECTS_PER_BYTE * BYTES_PER_OBJECT),
    objectsFrom: 'heap size',
  });
  // A heap of big objects: 100k objects in 100 MB, so the next capture of 200 MB needs 200k objects' worth.
  assert.deepEqual(estimateCapture(200 * MB, { objects: 100_000, heapUsed: 100 * MB }), {
    estimateBytes: 200_000 * BYTES_PER_OBJECT,
    objectsFrom: 'previous snapshot',
  });
});

test('a capture larger than the tighter of the container headroom and the machine memory is refused, unless forced', () => {
  const facts = {
    heapUsed: 150 * MB,
    limit: { bytes: 1024 * MB, usage: 400 * MB, source: '/sys/fs/cgroup/memory.max' },
    available: 20_000 * MB,
  };
  assert.throws(
    () => checkCapture(facts, undefined, false, 'capture anyway with --force-capture'),
    (e: Error) =>
      isCaptureTooBig(e) &&
      /would need about 2\.13 GB more memory in it \(heap 150\.0 MB, estimated from the heap size\), but its container's limit 1\.00 GB with 400\.0 MB in use \(\/sys\/fs\/cgroup\/memory\.max\) leaves 624\.0 MB: the process could be killed; give it more memory, find leaks without snapshots \(leak-lens run --sampling\), or capture anyway with --force-capture$/.test(
        e.message,
      ),
  );
  const forced = checkCapture(facts, undefined, true, 'x');
  assert.equal(forced.roomBytes, 624 * MB);
  // Without a container, the machine's available memory is the room; a heap that fits is taken.
  const fits = checkCapture({ heapUsed: 10 * MB, available: 4096 * MB }, undefined, false, 'x');
  assert.match(fits.roomFrom ?? '', /machine's available memory 4\.00 GB/);
  // Nothing known about the room: nothing to refuse on.
  assert.equal(checkCapture({ heapUsed: 10_000 * MB }, undefined, false, 'x').roomBytes, undefined);
  assert.ok(
    isCaptureTooBig(new Error('snapshot 1 failed: ... the process could be killed; ...')),
    'a refusal that crossed the debug adapter is still known',
  );
});
