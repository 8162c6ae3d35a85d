// Modelled on https://github.com/nodejs/node/issues/49442 (ESM "hot reload" through a query string on the
// specifier: every busted import loads the module again and the old copies are never freed).
// Orders API that reloads its database module on every request, "so that config changes apply without a
// restart": the query string makes Node load and evaluate a fresh copy of db.mjs each time.
import http from 'node:http';
import process from 'node:process';
import { URL } from 'node:url';

let generation = 0;

async function freshDb() {
  generation++;
  return import(`./db.mjs?v=${generation}`);
}

const server = http.createServer(async (req, res) => {
  try {
    const db = await freshDb();
    const url = new URL(req.url, 'http://localhost');
    const rows = db.query('select * from orders where request_id = $1', [url.searchParams.get('requestId')]);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ generation, rows }));
  } catch (err) {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(`${err.message}\n`);
  }
});

server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  process.stdout.write(`orders API listening on http://127.0.0.1:${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
