// Modelled on https://github.com/gopaljilab/Clinical-Insight-Engine/pull/376 (a rate limiter's per-client store grew without bound: entries of clients that never came back stayed forever)
'use strict';
const http = require('http');

const WINDOW_MS = 60 * 1000;
const LIMIT_PER_WINDOW = 120;

class RateLimiter {
  constructor(limit, windowMs) {
    this.limit = limit;
    this.windowMs = windowMs;
    this.hits = new Map();
  }

  allow(clientId, now = Date.now()) {
    const windowStart = now - (now % this.windowMs);
    const key = `${clientId}|${windowStart}`;
    const count = (this.hits.get(key) || 0) + 1;
    this.hits.set(key, count);
    return count <= this.limit;
  }
}

const limiter = new RateLimiter(LIMIT_PER_WINDOW, WINDOW_MS);

function clientIdOf(req) {
  return req.headers['x-api-key'] || req.headers['x-request-id'] || req.socket.remoteAddress;
}

const server = http.createServer((req, res) => {
  if (!limiter.allow(clientIdOf(req))) {
    res.writeHead(429, { 'retry-after': String(WINDOW_MS / 1000) }).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ quote: 'EUR/USD', bid: 1.0841, ask: 1.0843 }));
});

server.listen(0, '127.0.0.1', () => {
  console.log(`quotes api listening on http://127.0.0.1:${server.address().port}/`);
});
