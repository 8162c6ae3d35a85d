// Modelled on https://github.com/andywer/threads.js/issues/27 (a thread pool whose job objects keep their
// arguments after the job is done).
'use strict';
// Thumbnail service: the HTTP thread hands every request to a worker thread as a job and answers with the
// worker's result. The worker keeps its job objects in a table for status queries and never removes them.
const http = require('http');
const path = require('path');
const { Worker } = require('worker_threads');

const worker = new Worker(path.join(__dirname, 'worker.js'));
const waiting = new Map();
let nextId = 1;

worker.on('message', (msg) => {
  const done = waiting.get(msg.id);
  if (done) {
    waiting.delete(msg.id);
    done(msg);
  }
});

function submit(payload) {
  const id = nextId++;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    worker.postMessage({ id, payload });
  });
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const requestId = req.headers['x-request-id'] || url.searchParams.get('requestId') || 'anonymous';
  const result = await submit({ requestId, width: 320, height: 200 });
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(result));
});

server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`thumbnail service listening on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => {
  server.close();
  worker.terminate().then(() => process.exit(0));
});
