'use strict';
// Chunked upload endpoint. Every request opens an Upload with a staging buffer sized for the
// largest chunk the protocol allows, copies the request body into it and waits for a "commit"
// that finishes the upload. Clients that never commit leave their Upload in `chunks` forever:
// the JS objects are tiny, but each holds 128 KiB of buffer memory outside the JS heap.
const { serve } = require('./lib/serve');

const MAX_CHUNK_BYTES = 128 * 1024;

class Upload {
  constructor(id, contentType, staging) {
    this.id = id;
    this.contentType = contentType;
    this.staging = staging;
    this.length = 0;
    this.startedAt = Date.now();
    this.committed = false;
  }
}

const chunks = [];
let nextUploadId = 1;

function readBody(req) {
  return new Promise((resolve, reject) => {
    const parts = [];
    req.on('data', (d) => parts.push(d));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

serve(async (req, res) => {
  const body = await readBody(req);
  if (req.url.startsWith('/commit/')) {
    const id = Number(req.url.slice('/commit/'.length));
    const i = chunks.findIndex((u) => u.id === id);
    if (i >= 0) chunks.splice(i, 1);
    res.writeHead(i >= 0 ? 204 : 404);
    res.end();
    return;
  }
  const staging = Buffer.alloc(MAX_CHUNK_BYTES);
  const upload = new Upload(nextUploadId++, req.headers['content-type'] || 'application/octet-stream', staging);
  upload.length = body.copy(upload.staging, 0, 0, MAX_CHUNK_BYTES);
  chunks.push(upload);
  res.writeHead(201, { 'content-type': 'application/json', location: `/commit/${upload.id}` });
  res.end(JSON.stringify({ id: upload.id, received: upload.length }));
});
