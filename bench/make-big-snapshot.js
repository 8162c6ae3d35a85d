#!/usr/bin/env node
// Makes large, realistic heap snapshots for the benchmark: a Node process fills its heap with a mix of what services
// hold (records with nested objects, strings, arrays, maps, closures, buffers) and writes snapshots of itself.
// Usage: node --max-old-space-size=16000 bench/make-big-snapshot.js <out.heapsnapshot> <millions-of-records>
//        node bench/make-big-snapshot.js --series <out-prefix> <millions-of-records>   (3 snapshots, growing 5% each)
'use strict';
const v8 = require('v8');
const fs = require('fs');
const series = process.argv[2] === '--series';
const args = series ? process.argv.slice(3) : process.argv.slice(2);
const out = args[0];
const records = Math.round(Number(args[1] || 1) * 1e6);
if (!out) { console.error('usage: make-big-snapshot.js [--series] <out> <millions>'); process.exit(2); }

class Customer { constructor(i) { this.id = i; this.name = 'customer-' + i; this.tags = ['t' + (i % 97), 't' + (i % 13)]; this.address = { city: 'c' + (i % 1000), zip: i % 100000 }; } }
class Order { constructor(i, c) { this.id = i; this.customer = c; this.total = i * 1.5; this.lines = [{ sku: 's' + (i % 5000), qty: i % 7 }]; } }
const customers = new Map();
const orders = [];
const handlers = [];
const blobs = [];
let next = 0;
function fill(count) {
  const buckets = records >> 2 || 1;
  for (const end = next + count; next < end; next++) {
    const i = next;
    let c = customers.get(i % buckets);
    if (!c) { c = new Customer(i); customers.set(i % buckets, c); }
    const o = new Order(i, c);
    orders.push(o);
    if (i % 10 === 0) handlers.push(() => o.total + c.id);
    if (i % 1000 === 0) blobs.push(Buffer.alloc(4096, i & 255));
  }
}
function write(file) {
  const t = Date.now();
  v8.writeHeapSnapshot(file + '.part');
  fs.renameSync(file + '.part', file);
  console.log(`wrote ${file}: ${(fs.statSync(file).size / 1048576).toFixed(0)} MiB in ${((Date.now() - t) / 1000).toFixed(1)} s`);
}
globalThis.__keep = { customers, orders, handlers, blobs };
fill(records);
if (series) {
  for (let i = 1; i <= 3; i++) {
    if (i > 1) fill(Math.round(records * 0.05));
    write(`${out}-${i}.heapsnapshot`);
  }
} else {
  write(out);
}
