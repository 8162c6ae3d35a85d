'use strict';
// Boot code shared by the demo apps: listen on 127.0.0.1:$PORT (default 0, a free port), print one
// `listening on http://127.0.0.1:<port>` line, write the port to $LEAK_LENS_PORT_FILE when it is set,
// and stop cleanly on SIGTERM/SIGINT (some demos leave timers behind on purpose, so exit explicitly).
const fs = require('fs');
const http = require('http');

function writePortFile(file, port) {
  // Write then rename, so whoever polls the file never reads it half-written.
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${port}\n`);
  fs.renameSync(tmp, file);
}

function serve(handler) {
  const server = http.createServer((req, res) => {
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((err) => {
        process.stderr.write(`${req.method} ${req.url} failed: ${err && err.stack ? err.stack : err}\n`);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error\n');
      });
  });

  const port = Number.parseInt(process.env.PORT || '0', 10);
  server.on('error', (err) => {
    process.stderr.write(`cannot listen on 127.0.0.1:${port}: ${err.message}\n`);
    process.exit(1);
  });
  server.listen(Number.isFinite(port) ? port : 0, '127.0.0.1', () => {
    const actual = server.address().port;
    if (process.env.LEAK_LENS_PORT_FILE) writePortFile(process.env.LEAK_LENS_PORT_FILE, actual);
    process.stdout.write(`listening on http://127.0.0.1:${actual}\n`);
  });

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return server;
}

module.exports = { serve };
