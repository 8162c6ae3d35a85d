'use strict';
// Worker side of the thumbnail service: renders a (fake) thumbnail for each job it is sent.
const { parentPort } = require('worker_threads');

class ThumbnailJob {
  constructor(id, payload) {
    this.id = id;
    this.requestId = payload.requestId;
    this.width = payload.width;
    this.height = payload.height;
    this.state = 'queued';
    this.startedAt = Date.now();
    this.pixels = new Array(256).fill(0);
  }
}

const jobs = new Map();

function render(job) {
  job.state = 'running';
  for (let i = 0; i < job.pixels.length; i++) job.pixels[i] = (i * job.width + job.height) & 0xff;
  job.state = 'done';
  return job.pixels.reduce((a, b) => a + b, 0);
}

parentPort.on('message', (msg) => {
  const job = new ThumbnailJob(msg.id, msg.payload);
  jobs.set(job.id, job);
  const checksum = render(job);
  parentPort.postMessage({ id: msg.id, checksum, jobsKnown: jobs.size });
});
