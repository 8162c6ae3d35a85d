#!/usr/bin/env node
// Makes a large, realistic heap snapshot for the benchmark: a Node process fills its heap with a mix of what services
// hold (records with nested objects, strings, arrays, maps, closures, buffers) and writes a snapshot of itself.
// Usage: node --max-old-space-size=16000 bench/make-big-snapshot.js <out.heapsnapshot> <millions-of-records>
'use strict';
const v8 = require('v8');
const fs = require('fs');
const out = process.argv[2];
const records = Math.round(Number(process.argv[3] || 1) * 1e6);
if (!out) { console.error('usage: make-big-snapshot.js <out> <millions>'); process.exit(2); }

class Customer { constructor(i) { this.id = i; this.name = 'customer-' + i; this.tags = ['t' + (i % 97), 't' + (i % 13)]; this.address = { city: 'c' + (i % 1000), zip: i % 100000 }; } }
class Order { constructor(i, c) { this.id = i; this.customer = c; this.total = i * 1.5; this.lines = [{ sku: 's' + (i % 5000), qty: i % 7 }]; } }
const customers = new Map();
const orders = [];
const handlers = [];
const blobs = [];
for (let i = 0; i < records; i++) {
  let c = customers.get(i % (records >> 2 || 1));
  if (!c) { c = new Customer(i); customers.set(i % (records >> 2 || 1), c); }
  const o = new Order(i, c);
  orders.push(o);
  if (i % 10 === 0) handlers.push(() => o.total + c.id);
  if (i % 1000 === 0) blobs.push(Buffer.alloc(4096, i & 255));
}
globalThis.__keep = { customers, orders, handlers, blobs };
const t = Date.now();
const tmp = out + '.part';
v8.writeHeapSnapshot(tmp);
fs.renameSync(tmp, out);
console.log(`wrote ${out}: ${(fs.statSync(out).size / 1048576).toFixed(0)} MiB in ${((Date.now() - t) / 1000).toFixed(1)} s`);
