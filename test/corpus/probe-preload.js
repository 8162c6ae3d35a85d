// Preloaded by test/corpus/probe.js (`node --expose-gc -r probe-preload.js app.js`) into the app and into each of
// its worker threads (workers inherit `-r`). On SIGUSR2 the main thread runs a full GC, reads its memory figures and
// counts the live objects of the classes named in $CORPUS_PROBE_CLASSES in a heap snapshot of its own isolate; it
// asks every worker thread to do the same over a BroadcastChannel, then prints one line on stderr:
//   @@corpus-probe {"main":{...},"workers":[{...}]}
// The counter is deliberately independent of Leak Lens's engine: a plain JSON.parse of `v8.getHeapSnapshot()`.
'use strict';
const fs = require('fs');
const v8 = require('v8');
const { isMainThread, threadId } = require('worker_threads');

const CHANNEL = 'leak-corpus-probe';
const WORKER_REPLY_LIMIT_MS = 15000;
const SETTLE_LIMIT_MS = 2000;
const classes = (process.env.CORPUS_PROBE_CLASSES || '').split(',').filter(Boolean);

/** Reads a heap snapshot of this isolate and counts the nodes named after each class (`name()` counts closures). */
function countClasses() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    const stream = v8.getHeapSnapshot();
    stream.setEncoding('utf8');
    stream.on('data', (c) => chunks.push(c));
    stream.on('error', reject);
    stream.on('end', () => {
      const snap = JSON.parse(chunks.join(''));
      const meta = snap.snapshot.meta;
      const width = meta.node_fields.length;
      const typeAt = meta.node_fields.indexOf('type');
      const nameAt = meta.node_fields.indexOf('name');
      const typeNames = meta.node_types[0];
      const wanted = new Map();
      for (const c of classes) {
        const closure = c.endsWith('()');
        wanted.set(`${closure ? 'closure' : 'object'}:${closure ? c.slice(0, -2) : c}`, c);
      }
      // "(strings)" counts every live string: the things a collection of primitives accumulates.
      const counts = Object.fromEntries([...classes, '(strings)'].map((c) => [c, 0]));
      const stringTypes = new Set(['string', 'concatenated string', 'sliced string'].map((t) => typeNames.indexOf(t)));
      const nodes = snap.nodes;
      for (let i = 0; i < nodes.length; i += width) {
        const type = nodes[i + typeAt];
        if (stringTypes.has(type)) {
          counts['(strings)']++;
          continue;
        }
        const c = wanted.get(`${typeNames[type]}:${snap.strings[nodes[i + nameAt]]}`);
        if (c !== undefined) counts[c]++;
      }
      resolve(counts);
    });
  });
}

/**
 * Waits (at most SETTLE_LIMIT_MS) until the connections of the last round are closed: an accepted socket that is
 * still open holds its parser and buffers, tens of KiB each, which would otherwise make the heap figure of a round
 * depend on when the client's FIN was handled.
 */
async function settle() {
  const until = Date.now() + SETTLE_LIMIT_MS;
  while (Date.now() < until && process.getActiveResourcesInfo().includes('TCPSocketWrap')) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await new Promise((resolve) => setImmediate(resolve));
}

async function measureHere() {
  await settle();
  globalThis.gc();
  globalThis.gc();
  const mem = process.memoryUsage();
  const heap = v8.getHeapStatistics();
  const counts = await countClasses();
  return {
    threadId,
    heapUsed: heap.used_heap_size,
    external: mem.external,
    arrayBuffers: mem.arrayBuffers,
    counts,
  };
}

function print(line) {
  fs.writeSync(2, `@@corpus-probe ${JSON.stringify(line)}\n`);
}

if (typeof globalThis.gc !== 'function') {
  fs.writeSync(2, '@@corpus-probe-error run with --expose-gc\n');
} else if (isMainThread) {
  const workers = new Set();
  const channel = new BroadcastChannel(CHANNEL);
  channel.unref();
  let pending = null;
  channel.onmessage = ({ data }) => {
    if (data.type === 'hello') workers.add(data.threadId);
    else if (data.type === 'bye') {
      workers.delete(data.threadId);
      if (pending && pending.results.size >= workers.size) pending.done();
    }
    else if (data.type === 'result' && pending && data.round === pending.round) {
      pending.results.set(data.threadId, data.result);
      if (pending.results.size >= workers.size) pending.done();
    }
  };
  let round = 0;
  process.on('SIGUSR2', () => {
    round++;
    const thisRound = round;
    void (async () => {
      const main = await measureHere();
      const results = new Map();
      if (workers.size > 0) {
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, WORKER_REPLY_LIMIT_MS);
          pending = { round: thisRound, results, done: () => (clearTimeout(timer), resolve()) };
          channel.postMessage({ type: 'measure', round: thisRound });
        });
        pending = null;
      }
      const silent = [...workers].filter((id) => !results.has(id));
      print({ round: thisRound, main, workers: [...results.values()], silentWorkers: silent });
    })().catch((e) => fs.writeSync(2, `@@corpus-probe-error ${e && e.stack ? e.stack.split('\n').join(' | ') : e}\n`));
  });
} else {
  const channel = new BroadcastChannel(CHANNEL);
  channel.unref();
  channel.onmessage = ({ data }) => {
    if (data.type !== 'measure') return;
    measureHere().then(
      (result) => channel.postMessage({ type: 'result', round: data.round, threadId, result }),
      (e) => fs.writeSync(2, `@@corpus-probe-error worker ${threadId}: ${e && e.message}\n`),
    );
  };
  channel.postMessage({ type: 'hello', threadId });
  process.on('exit', () => channel.postMessage({ type: 'bye', threadId }));
}
