'use strict';
// What V8 itself costs a program with a production-size heap, the floor under any snapshot technique:
//   generate   V8's snapshot generator alone (v8.getHeapSnapshot(), the stream destroyed unread: no JSON, no file),
//              then v8.writeHeapSnapshot() (generation plus writing the JSON) into a temporary folder, removed after;
//   tracking   HeapProfiler.startTrackingHeapObjects (what a one-snapshot technique needs to number objects as they
//              appear) through the in-process inspector: how many turns a 10 ms interval gets in 15 s, and the
//              longest stall.
// The heap is bench/e2e-service.js's catalogue of small objects, held by the global object.
// Usage: node bench/v8-limits.js <generate|tracking> [heapMB]   (prints one JSON line)
const fs = require('fs');
const os = require('os');
const path = require('path');
const v8 = require('v8');

const [mode, heapArg] = process.argv.slice(2);
const targetBytes = Number(heapArg || 300) * 1048576;
const catalogue = (globalThis.benchCatalogue = new Map());
let sku = 0;
while (process.memoryUsage().heapUsed < targetBytes) {
  for (let i = 0; i < 10000; i++, sku++) {
    catalogue.set(sku, { sku, name: `item-${sku}`, price: (sku % 997) / 10, stock: sku % 13, tags: [sku % 7, sku % 11] });
  }
}
const heapMB = Math.round(process.memoryUsage().heapUsed / 1048576);
const peakMB = () => Math.round(process.resourceUsage().maxRSS / 1024);

async function main() {
  if (mode === 'generate') {
    const rssBefore = Math.round(process.memoryUsage().rss / 1048576);
    let t = performance.now();
    v8.getHeapSnapshot().destroy();
    const generateS = (performance.now() - t) / 1000;
    const generatePeakMB = peakMB();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-lens-v8-limits-'));
    try {
      t = performance.now();
      const file = v8.writeHeapSnapshot(path.join(dir, 'probe.heapsnapshot'));
      const writeS = (performance.now() - t) / 1000;
      const fileMB = Math.round(fs.statSync(file).size / 1048576);
      return { heapMB, objects: catalogue.size, rssBefore, generateS, generatePeakMB, writeS, fileMB, peakMB: peakMB() };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  if (mode === 'tracking') {
    const inspector = require('inspector');
    const session = new inspector.Session();
    session.connect();
    const post = (m, p) => new Promise((res, rej) => session.post(m, p || {}, (e, r) => (e ? rej(e) : res(r))));
    await post('HeapProfiler.enable');
    let t = performance.now();
    await post('HeapProfiler.startTrackingHeapObjects', { trackAllocations: false });
    const startS = (performance.now() - t) / 1000;
    let last = performance.now();
    let turns = 0;
    let worstMs = 0;
    const interval = setInterval(() => {
      const now = performance.now();
      worstMs = Math.max(worstMs, now - last);
      last = now;
      turns++;
    }, 10);
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    clearInterval(interval);
    session.disconnect();
    return { heapMB, startS, seconds: 15, turns, turnsWithoutTracking: 1500, worstStallMs: Math.round(worstMs) };
  }
  throw new Error('usage: node bench/v8-limits.js <generate|tracking> [heapMB]');
}

main().then(
  (r) => {
    console.log(JSON.stringify(r));
    process.exit(0);
  },
  (e) => {
    console.error(e.message);
    process.exit(2);
  },
);
