'use strict';
// Connection-tracking API front end. Every request is registered as a Connection so that
// `/connections` can show what is in flight... but finished connections are only marked
// closed, never removed from `_connections`, so the list grows by one per request.
const { serve } = require('./lib/serve');

class Connection {
  constructor(req, id) {
    this.id = id;
    this.remoteAddress = req.socket.remoteAddress;
    this.method = req.method;
    this.url = req.url;
    this.headers = { ...req.headers };
    this.openedAt = Date.now();
    this.closed = false;
    // Per-connection trace kept for debugging (a few KB of strings).
    this.trace = [];
    for (let i = 0; i < 24; i++) {
      this.trace.push(`${new Date(this.openedAt).toISOString()} conn=${id} ${req.method} ${req.url} step=${i}`);
    }
  }

  summary() {
    return { id: this.id, method: this.method, url: this.url, closed: this.closed };
  }
}

const _connections = [];
let nextConnectionId = 1;

function accept(req) {
  const conn = new Connection(req, nextConnectionId++);
  _connections.push(conn);
  req.on('close', () => {
    conn.closed = true;
  });
  return conn;
}

serve((req, res) => {
  const conn = accept(req);
  if (req.url === '/connections') {
    const open = _connections.filter((c) => !c.closed).map((c) => c.summary());
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ open }));
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ ok: true, connection: conn.id }));
});
