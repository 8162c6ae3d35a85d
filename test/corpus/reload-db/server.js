// Modelled on https://github.com/nodejs/node/issues/8443 (modules uncached from require.cache and required again stay on the heap)
'use strict';
const http = require('http');

const dbPath = require.resolve('./db');

// Pick up edited database settings without a restart: load db.js afresh for every request.
function freshDb() {
  delete require.cache[dbPath];
  return require('./db');
}

const server = http.createServer((req, res) => {
  const db = freshDb();
  const result = db.query('SELECT id, name FROM products WHERE id = $1', [1]);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(result.rows));
});

server.listen(0, '127.0.0.1', () => {
  console.log(`catalog service listening on http://127.0.0.1:${server.address().port}/`);
});
