// Modelled on https://github.com/v8/sampling-heap-profiler/issues/16 (allocations attributed to another
// function than the one that made them, once V8 has optimized the code).
'use strict';
// GPS track service: each request generates a track of 2000 points, smooths it, and keeps a few key points
// for the overview map. The key points are appended to a list that is never trimmed. Points come from a tiny
// factory that TurboFan inlines into the hot loop of sampleTrack.
const http = require('http');

class Point {
  constructor(x, y) {
    this.x = x;
    this.y = y;
  }
}

function makePoint(x, y) {
  return new Point(x, y);
}

const overviewPoints = [];

function sampleTrack(seed) {
  let length = 0;
  let prev = null;
  for (let i = 0; i < 2000; i++) {
    const p = makePoint(Math.cos((seed + i) / 50) * 100, Math.sin((seed + i) / 50) * 100);
    if (prev !== null) length += Math.hypot(p.x - prev.x, p.y - prev.y);
    if (i % 400 === 0) overviewPoints.push(p);
    prev = p;
  }
  return length;
}

let requests = 0;

const server = http.createServer((req, res) => {
  requests++;
  const length = sampleTrack(requests * 7);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ length: Math.round(length), overview: overviewPoints.length }));
});

server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`track service listening on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
