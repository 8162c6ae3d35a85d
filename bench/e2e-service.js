'use strict';
// The end-to-end benchmark's target: a service whose heap is mostly a product catalogue of small objects (the kind of
// heap that makes snapshots costly: many objects, few bytes each), plus a small leak: every request's audit entry is
// kept in a module-level array.
// Usage: node bench/e2e-service.js [heapMB]   (default 300; the catalogue is built until the heap holds about that)
const http = require('http');

const targetBytes = Number(process.argv[2] || 300) * 1048576;
const catalogue = new Map();
let sku = 0;
while (process.memoryUsage().heapUsed < targetBytes) {
  for (let i = 0; i < 10000; i++, sku++) {
    catalogue.set(sku, { sku, name: `item-${sku}`, price: (sku % 997) / 10, stock: sku % 13, tags: [sku % 7, sku % 11] });
  }
}

class AuditEntry {
  constructor(req, n) {
    this.n = n;
    this.url = req.url;
    this.at = Date.now();
    this.headers = { ...req.headers };
  }
}
const auditLog = [];

function audit(req) {
  auditLog.push(new AuditEntry(req, auditLog.length));
}

const server = http.createServer((req, res) => {
  audit(req);
  const item = catalogue.get(auditLog.length % sku);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(item));
});
server.listen(0, '127.0.0.1', () => {
  const heapMB = Math.round(process.memoryUsage().heapUsed / 1048576);
  console.log(`listening on http://127.0.0.1:${server.address().port} (${catalogue.size} items, heap ${heapMB} MB)`);
});
