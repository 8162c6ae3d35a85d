#!/usr/bin/env node
// Load generator for the corpus apps: a bounded number of HTTP requests to one route, each with its own request
// id (an `x-request-id` header and `?requestId=<uuid>`), no cookies, bounded concurrency and an overall time limit.
// Unlike demo/load.js it can send other methods and a JSON body, where `{{id}}` stands for the request id.
//
// Usage: node ../load.js [requests] [--method M] [--path /route] [--json '{"user":"{{id}}"}'] [--url URL]
//   requests  how many requests (default 100)
//   --url     target (default $TARGET_URL, the first URL the app printed)
// Env: CONCURRENCY (default 8), LOAD_TIMEOUT_MS overall limit (default 60000).
// Exit status: 0 when every request got a 2xx/3xx answer, 1 when some failed or time ran out, 2 on bad usage
// or an unreachable target.
'use strict';
const { randomUUID } = require('crypto');
const http = require('http');

const PER_REQUEST_TIMEOUT_MS = 10000;

function fail(code, message) {
  process.stderr.write(`load: ${message}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const opts = { total: 100, method: 'GET', path: null, json: null, url: process.env.TARGET_URL };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) fail(2, `${a} needs a value`);
      return argv[++i];
    };
    if (a === '--method') opts.method = value().toUpperCase();
    else if (a === '--path') opts.path = value();
    else if (a === '--json') opts.json = value();
    else if (a === '--url') opts.url = value();
    else if (/^\d+$/.test(a) && Number(a) > 0) opts.total = Number(a);
    else fail(2, `unknown argument ${JSON.stringify(a)}; usage: load.js [requests] [--method M] [--path P] [--json BODY] [--url URL]`);
  }
  if (!opts.url) fail(2, 'no target: set TARGET_URL (the app prints it) or pass --url');
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const concurrency = Math.min(opts.total, Number(process.env.CONCURRENCY) || 8);
const overallTimeout = Number(process.env.LOAD_TIMEOUT_MS) || 60000;
let base;
try {
  base = new URL(opts.url);
} catch {
  fail(2, `not a URL: ${opts.url}`);
}
if (base.protocol !== 'http:') fail(2, `only http:// targets are supported, got ${opts.url}`);
if (opts.path) base = new URL(opts.path, base);
if (opts.json !== null) {
  try {
    JSON.parse(opts.json.replaceAll('{{id}}', 'x'));
  } catch {
    fail(2, `--json is not JSON: ${opts.json}`);
  }
}

const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });

function once() {
  const requestId = randomUUID();
  const url = new URL(base);
  url.searchParams.set('requestId', requestId);
  const body = opts.json === null ? null : Buffer.from(opts.json.replaceAll('{{id}}', requestId));
  const headers = { 'x-request-id': requestId, 'user-agent': 'leak-lens-corpus-load/1.0' };
  if (body) Object.assign(headers, { 'content-type': 'application/json', 'content-length': body.length });
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method, agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', reject);
    });
    req.setTimeout(PER_REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${PER_REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body || undefined);
  });
}

async function main() {
  const started = Date.now();
  let sent = 0;
  let ok = 0;
  const failures = [];
  let unreachable = null;
  async function worker() {
    while (sent < opts.total && !unreachable) {
      sent++;
      try {
        const status = await once();
        if (status >= 200 && status < 400) ok++;
        else failures.push(`HTTP ${status}`);
      } catch (err) {
        if (['ECONNREFUSED', 'EHOSTUNREACH', 'ENOTFOUND', 'EADDRNOTAVAIL'].includes(err.code) && ok === 0) unreachable = err;
        else failures.push(err.code || err.message);
      }
    }
  }
  const timer = setTimeout(() => {
    agent.destroy();
    fail(1, `gave up after ${overallTimeout} ms: ${ok}/${opts.total} requests to ${base.href} done`);
  }, overallTimeout);
  await Promise.all(Array.from({ length: concurrency }, worker));
  clearTimeout(timer);
  agent.destroy();
  if (unreachable) fail(2, `cannot reach ${base.origin}: ${unreachable.code || unreachable.message}`);
  if (failures.length > 0) fail(1, `${failures.length}/${opts.total} ${opts.method} requests to ${base.href} failed (first: ${failures[0]})`);
  process.stdout.write(`load: ${ok} ${opts.method} requests to ${base.href} in ${Date.now() - started} ms\n`);
}

main().catch((err) => fail(1, err && err.stack ? err.stack : String(err)));
