// Modelled on https://github.com/nodejs/node/issues/6673 (a tail-recursive promise loop: each step resolves
// with the next step's promise, so the chain of pending promises never settles and never shrinks).
'use strict';
// Audit trail: every request queues an audit event and a background writer drains the queue one event at a
// time. The writer is written as a promise loop that resolves each step with the next one.
const http = require('http');

class AuditEvent {
  constructor(requestId, path) {
    this.requestId = requestId;
    this.path = path;
    this.at = Date.now();
  }
}

const queue = [];
let wake = null;
let written = 0;

function nextEvent() {
  if (queue.length > 0) return Promise.resolve(queue.shift());
  return new Promise((resolve) => {
    wake = resolve;
  });
}

function writeEvent(event) {
  written++;
  return `${new Date(event.at).toISOString()} ${event.requestId} ${event.path}`.length;
}

function drain() {
  return new Promise((settle) => {
    nextEvent().then((event) => {
      writeEvent(event);
      settle(drain());
    });
  });
}

const writer = drain();

function enqueue(event) {
  if (wake) {
    const w = wake;
    wake = null;
    w(event);
  } else {
    queue.push(event);
  }
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const id = req.headers['x-request-id'] || url.searchParams.get('requestId') || 'anonymous';
  enqueue(new AuditEvent(id, url.pathname));
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ queued: queue.length, written }));
});

server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`audit service listening on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => {
  void writer;
  server.close(() => process.exit(0));
});
