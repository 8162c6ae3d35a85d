#!/usr/bin/env node
// Measures what each leaked RequestRecord really retains, without any inspector attached, to compare with the
// retainedSize / count that Leak Lens reports for this app (an inspector session with the Debugger domain on
// keeps async stack links that can make the same objects look bigger).
//
// Usage: node retained.js [rounds]   (from this folder; default 3 rounds of 100 requests)
// It starts `node -r ./retained.js server.js` (in that process this file is only a preload that writes a heap
// snapshot on SIGUSR2), drives the load, asks for one snapshot, and prints: the live RequestRecord count, their
// shallow size, and the size that only they hold (the nodes that become unreachable from the GC roots when every
// RequestRecord is taken out of the graph), per record. The snapshot and its folder are removed before exit.
'use strict';
const fs = require('fs');
const path = require('path');

const CLASS = 'RequestRecord';

if (require.main !== module) {
  // Preload inside the measured program.
  const dir = process.env.RETAINED_SNAPSHOT_DIR;
  if (dir) {
    process.on('SIGUSR2', () => {
      const file = require('v8').writeHeapSnapshot(path.join(dir, 'retained.heapsnapshot'));
      process.stderr.write(`RETAINED_SNAPSHOT ${file}\n`);
    });
  }
  return;
}

const { spawn, spawnSync } = require('child_process');
const os = require('os');

function fail(message) {
  process.stderr.write(`retained: ${message}\n`);
  process.exitCode = 2;
}

function loadScript() {
  const own = path.join(__dirname, '..', 'load.js');
  return fs.existsSync(own) ? own : path.join(__dirname, '..', '..', '..', 'demo', 'load.js');
}

/** Shallow and exclusive (held only by the class's objects) sizes of CLASS in a parsed snapshot. */
function measure(snap) {
  const meta = snap.snapshot.meta;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const T = meta.node_fields.indexOf('type');
  const NAME = meta.node_fields.indexOf('name');
  const SIZE = meta.node_fields.indexOf('self_size');
  const EC = meta.node_fields.indexOf('edge_count');
  const ET = meta.edge_fields.indexOf('type');
  const TO = meta.edge_fields.indexOf('to_node');
  const { nodes, edges, strings } = snap;
  const count = nodes.length / nf;
  const firstEdge = new Uint32Array(count + 1);
  for (let i = 0, e = 0; i < count; i++) {
    firstEdge[i] = e;
    e += nodes[i * nf + EC] * ef;
    firstEdge[i + 1] = e;
  }
  const weak = edgeTypes.indexOf('weak');
  const isRecord = new Uint8Array(count);
  let records = 0;
  let shallow = 0;
  for (let i = 0; i < count; i++) {
    if (nodeTypes[nodes[i * nf + T]] === 'object' && strings[nodes[i * nf + NAME]] === CLASS) {
      isRecord[i] = 1;
      records++;
      shallow += nodes[i * nf + SIZE];
    }
  }
  // Reachability from the root (node 0), ignoring weak edges; `blocked` nodes are not entered.
  const reach = (blocked) => {
    const seen = new Uint8Array(count);
    const stack = [0];
    seen[0] = 1;
    while (stack.length > 0) {
      const n = stack.pop();
      for (let e = firstEdge[n]; e < firstEdge[n + 1]; e += ef) {
        if (edges[e + ET] === weak) continue;
        const to = edges[e + TO] / nf;
        if (seen[to] || (blocked && blocked[to])) continue;
        seen[to] = 1;
        stack.push(to);
      }
    }
    return seen;
  };
  const all = reach(null);
  const without = reach(isRecord);
  let exclusive = 0;
  const byKind = new Map();
  for (let i = 0; i < count; i++) {
    if (!all[i] || without[i]) continue;
    const size = nodes[i * nf + SIZE];
    exclusive += size;
    const kind = `${nodeTypes[nodes[i * nf + T]]}${isRecord[i] ? ` ${CLASS}` : ''}`;
    const k = byKind.get(kind) || { n: 0, size: 0 };
    k.n++;
    k.size += size;
    byKind.set(kind, k);
  }
  return { records, shallow, exclusive, byKind };
}

async function main() {
  const rounds = Number(process.argv[2] || 3);
  if (!Number.isInteger(rounds) || rounds <= 0) return fail(`rounds must be a positive integer, got ${process.argv[2]}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'retained-'));
  const child = spawn(process.execPath, ['-r', __filename, 'server.js'], {
    cwd: __dirname,
    env: { ...process.env, RETAINED_SNAPSHOT_DIR: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  try {
    const url = await new Promise((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += d;
        const m = /https?:\/\/[^\s'"]+/.exec(out);
        if (m) resolve(m[0]);
      });
      exited.then(({ code, signal }) => reject(new Error(`server.js ended (${signal || code}) before printing its URL: ${err.trim()}`)));
    });
    for (let r = 0; r < rounds; r++) {
      const load = spawnSync(process.execPath, [loadScript(), '100'], { cwd: __dirname, env: { ...process.env, TARGET_URL: url }, encoding: 'utf8' });
      if (load.status !== 0) throw new Error(`the load failed: ${(load.stderr || '').trim()}`);
    }
    const file = await new Promise((resolve, reject) => {
      child.stderr.on('data', (d) => {
        err += d;
        const m = /RETAINED_SNAPSHOT (.*)\n/.exec(err);
        if (m) resolve(m[1]);
      });
      exited.then(() => reject(new Error('server.js ended before writing its snapshot')));
      child.kill('SIGUSR2');
    });
    const snap = JSON.parse(fs.readFileSync(file, 'utf8'));
    fs.rmSync(file, { force: true });
    const m = measure(snap);
    if (m.records === 0) throw new Error(`no ${CLASS} in the snapshot`);
    console.log(`${m.records} ${CLASS} after ${rounds} x 100 requests (no inspector attached)`);
    console.log(`shallow: ${m.shallow} bytes (${(m.shallow / m.records).toFixed(1)} per record)`);
    console.log(`held only by them (shallow included): ${m.exclusive} bytes (${(m.exclusive / m.records).toFixed(1)} per record)`);
    for (const [kind, k] of [...m.byKind].sort((a, b) => b[1].size - a[1].size)) {
      console.log(`  ${kind}: ${k.n} nodes, ${k.size} bytes`);
    }
  } finally {
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000).unref())]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => fail(e.message));
