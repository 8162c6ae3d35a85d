// Modelled on https://github.com/nodejs/help/issues/1518 (RSS keeps rising while heapUsed/heapTotal do not:
// memory held outside the JS heap, typically Buffers).
'use strict';
// Ingest endpoint: each request's body is copied into a 64 KiB chunk of an upload spool that is flushed to
// storage "later". The flush only runs when a batch is complete, which the uploads here never make, so the
// spool keeps every chunk. The chunks' bytes live outside the JS heap: the heap hardly grows, RSS does.
const express = require('express');

const CHUNK_SIZE = 64 * 1024;

class UploadSpool {
  constructor(batchId) {
    this.batchId = batchId;
    this.chunks = [];
    this.bytes = 0;
  }

  append(data) {
    const chunk = Buffer.alloc(CHUNK_SIZE);
    const n = Buffer.from(data).copy(chunk);
    this.chunks.push(chunk);
    this.bytes += n;
    return n;
  }

  flushIfComplete(expectedBytes) {
    if (this.bytes < expectedBytes) return false;
    this.chunks.length = 0;
    this.bytes = 0;
    return true;
  }
}

const spool = new UploadSpool(`batch-${process.pid}`);

const app = express();

app.get('/', (req, res) => {
  const id = req.get('x-request-id') || String(req.query.requestId || '');
  const written = spool.append(`upload ${id} ${req.get('user-agent') || ''}`);
  spool.flushIfComplete(1024 * 1024 * 1024);
  res.json({ written, spooledChunks: spool.chunks.length });
});

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`ingest listening on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
