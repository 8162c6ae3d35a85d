#!/usr/bin/env node
// Load generator shared by the demo apps: sends a bounded number of GET requests, each with its own
// request id (`?requestId=<uuid>` and an `x-request-id` header, no cookies), with bounded
// concurrency and an overall time limit.
//
// Usage: node demo/load.js [requests] [url]
//   requests  how many requests (default: $REQUESTS or 100)
//   url       target (default: $TARGET_URL, else http://127.0.0.1:<port> with the port read from
//             the file named by $LEAK_LENS_PORT_FILE)
// Env: CONCURRENCY (default 8), LOAD_TIMEOUT_MS overall limit (default 30000).
// Exit status: 0 when every request got a 2xx/3xx answer, 1 when some failed or the time ran out,
// 2 when the target is unknown or unreachable.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');

const PER_REQUEST_TIMEOUT_MS = 10000;

function fail(code, message) {
  process.stderr.write(`load: ${message}\n`);
  process.exit(code);
}

function positiveInt(value, what) {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) fail(2, `${what} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

function targetUrl(arg) {
  if (arg) return arg;
  if (process.env.TARGET_URL) return process.env.TARGET_URL;
  const portFile = process.env.LEAK_LENS_PORT_FILE;
  if (!portFile) fail(2, 'no target: set TARGET_URL, pass a URL, or set LEAK_LENS_PORT_FILE to the file holding the port');
  let text;
  try {
    text = fs.readFileSync(portFile, 'utf8').trim();
  } catch (err) {
    fail(2, `cannot read the port file ${portFile}: ${err.code || err.message}`);
  }
  const port = Number(text);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) fail(2, `port file ${portFile} holds no port: ${JSON.stringify(text)}`);
  return `http://127.0.0.1:${port}/`;
}

const total = positiveInt(process.argv[2] || process.env.REQUESTS || 100, 'requests');
const concurrency = Math.min(total, positiveInt(process.env.CONCURRENCY || 8, 'CONCURRENCY'));
const overallTimeout = positiveInt(process.env.LOAD_TIMEOUT_MS || 30000, 'LOAD_TIMEOUT_MS');
const rawTarget = targetUrl(process.argv[3]);
let base;
try {
  base = new URL(rawTarget);
} catch {
  fail(2, `not a URL: ${rawTarget}`);
}
if (base.protocol !== 'http:') fail(2, `only http:// targets are supported, got ${rawTarget}`);

const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });

function once() {
  const requestId = crypto.randomUUID();
  const url = new URL(base);
  url.searchParams.set('requestId', requestId);
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers: { 'x-request-id': requestId, 'user-agent': 'leak-lens-demo-load/1.0' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', reject);
    });
    req.setTimeout(PER_REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${PER_REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
  });
}

async function main() {
  const started = Date.now();
  let sent = 0;
  let ok = 0;
  const failures = [];
  let unreachable = null;

  async function worker() {
    while (sent < total && !unreachable) {
      sent++;
      try {
        const status = await once();
        if (status >= 200 && status < 400) ok++;
        else failures.push(`HTTP ${status}`);
      } catch (err) {
        if (['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND', 'EADDRNOTAVAIL'].includes(err.code) && ok === 0) {
          unreachable = err;
        } else {
          failures.push(err.code || err.message);
        }
      }
    }
  }

  const timer = setTimeout(() => {
    agent.destroy();
    fail(1, `gave up after ${overallTimeout} ms: ${ok}/${total} requests to ${base.origin} done`);
  }, overallTimeout);

  await Promise.all(Array.from({ length: concurrency }, worker));
  clearTimeout(timer);
  agent.destroy();

  if (unreachable) fail(2, `cannot reach ${base.origin}: ${unreachable.code || unreachable.message}`);
  const ms = Date.now() - started;
  if (failures.length > 0) {
    fail(1, `${failures.length}/${total} requests to ${base.origin} failed (first: ${failures[0]})`);
  }
  process.stdout.write(`load: ${ok} requests to ${base.href} in ${ms} ms (concurrency ${concurrency})\n`);
}

main().catch((err) => fail(1, err && err.stack ? err.stack : String(err)));
