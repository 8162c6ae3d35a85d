// Modelled on https://github.com/PianoNic/Snepilatch/issues/376 (a logger that adds every entry to an in-memory buffer that is never drained, so it grows for the life of the process)
'use strict';
const http = require('http');

// Lines wait here for the log shipper; the shipper only starts when LOG_SHIP_URL is set.
const pendingLines = [];
// Last user agent seen per user, for the "where am I signed in" page.
const lastAgentByUser = {};
let shipper = null;

function logAccess(req, status, ms) {
  const line = `${new Date().toISOString()} ${req.method} ${req.url} ${status} ${ms.toFixed(1)}ms user=${req.headers['x-user-id']} agent="${req.headers['user-agent']}"`;
  if (shipper) shipper.write(line);
  else pendingLines.push(line);
}

function rememberAgent(userId, req) {
  lastAgentByUser[userId] = `${req.headers['user-agent']} via ${req.socket.remoteAddress}`;
}

if (process.env.LOG_SHIP_URL) {
  shipper = { write: (line) => process.stdout.write(`${line}\n`) };
}

const server = http.createServer((req, res) => {
  const started = process.hrtime.bigint();
  const userId = req.headers['x-user-id'] || req.headers['x-request-id'] || 'anonymous';
  req.headers['x-user-id'] = userId;
  rememberAgent(userId, req);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ user: userId, devices: 1 }));
  logAccess(req, 200, Number(process.hrtime.bigint() - started) / 1e6);
});

server.listen(0, '127.0.0.1', () => {
  console.log(`account api listening on http://127.0.0.1:${server.address().port}/`);
});
