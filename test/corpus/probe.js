#!/usr/bin/env node
// Checks a corpus app WITHOUT Leak Lens and without the inspector, so that its expected answer rests on what the
// program really does: starts `node --expose-gc -r probe-preload.js <nodeArgs> <program>` in the app folder, waits
// for its ready line, then 4 times runs the app's action and asks the program (SIGUSR2, answered by the preload in
// the main thread and in every worker thread) for its post-GC heap figures and the live count of each expected
// class. Prints a line per round and a verdict:
//   grows  every expected leak's class count rises by about perRound every round (for a collection of primitives,
//          whose entries are strings: the thread's count of live strings rises by at least 0.75 x perRound every round)
//   flat   otherwise; for a control: no watched class rises in every round, nor the live strings by 100 or more,
//          nor the post-GC heap by 64 KiB or more
// Exits 1 when a verdict contradicts expected.json (grows <-> "leak", flat <-> "clean"), 2 on a failure to run.
//
// Usage: node test/corpus/probe.js <app> [<app>...] | --all  [--node /path/to/node]
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const corpusDir = __dirname;
const preload = path.join(corpusDir, 'probe-preload.js');
const ROUNDS = 4;
const READY_LIMIT_MS = 30000;
const ACTION_LIMIT_MS = 180000;
const MEASURE_LIMIT_MS = 120000;
const DEFAULT_READY = /listening|ready|started|running on/i;
const PRIMITIVE_HOLDERS = new Set(['Set', 'Map', 'Array', 'Object']);
const MIN_HEAP_RISE = 64 * 1024;
const CONTROL_STRING_RISE = 100;

function usage(message) {
  process.stderr.write(`probe: ${message}\nusage: node test/corpus/probe.js <app> [<app>...] | --all [--node /path/to/node]\n`);
  process.exit(2);
}

function listApps() {
  return fs
    .readdirSync(corpusDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(corpusDir, d.name, 'expected.json')))
    .map((d) => d.name)
    .sort();
}

/** The classes the probe counts: each leak's class, plus the `watch` list (classes a control churns). */
function countedClasses(expected) {
  return [...new Set([...expected.leaks.map((l) => l.className), ...(expected.watch || [])])];
}

/** True for a leak whose growth shows in the heap rather than in a class count (a collection of primitives). */
function isPrimitiveCollection(leak) {
  return leak.kind === 'collection' && PRIMITIVE_HOLDERS.has(leak.className);
}

function mb(n) {
  return `${(n / 1048576).toFixed(2)} MB`;
}

/** Sums the figures of one thread kind ("main" or "worker") out of a probe answer. */
function threadFigures(answer, thread) {
  if (thread !== 'worker') return answer.main;
  const sum = { heapUsed: 0, counts: {} };
  for (const w of answer.workers) {
    sum.heapUsed += w.heapUsed;
    for (const [c, n] of Object.entries(w.counts)) sum.counts[c] = (sum.counts[c] || 0) + n;
  }
  return sum;
}

function deltas(series) {
  return series.slice(1).map((v, i) => v - series[i]);
}

/** Judges the rounds: returns { verdict, reasons } where reasons explain each leak or watched class. */
function judge(expected, answers) {
  const reasons = [];
  const heapRise = Math.max(MIN_HEAP_RISE, 16 * (expected.perRound || 0));
  const heapGrows = (thread) => {
    const d = deltas(answers.map((a) => threadFigures(a, thread).heapUsed));
    return { ok: d.every((x) => x >= heapRise), d };
  };
  if (expected.verdict === 'leak' || expected.leaks.length > 0) {
    let all = true;
    for (const leak of expected.leaks) {
      const thread = leak.thread || 'main';
      const perRound = leak.perRound ?? expected.perRound;
      const series = answers.map((a) => threadFigures(a, thread).counts[leak.className] || 0);
      const d = deltas(series);
      const countOk = d.every((x) => x >= 0.75 * perRound && x <= 1.5 * perRound);
      if (isPrimitiveCollection(leak)) {
        // The entries are strings (keys or values, numbers ride along as small integers): count the live strings.
        const strings = answers.map((a) => threadFigures(a, thread).counts['(strings)'] || 0);
        const sd = deltas(strings);
        const ok = sd.every((x) => x >= 0.75 * perRound);
        const h = heapGrows(thread);
        reasons.push(`${leak.className} (${thread}, primitives): live strings ${strings.join(' -> ')}, deltas ${sd.join(', ')} (need >= ${0.75 * perRound}) -> ${ok ? 'grows' : 'flat'}; heap deltas ${h.d.map((x) => `${(x / 1024).toFixed(1)} KiB`).join(', ')}`);
        all &&= ok;
      } else {
        reasons.push(`${leak.className} (${thread}): counts ${series.join(' -> ')}, deltas ${d.join(', ')} (need about ${perRound}) -> ${countOk ? 'grows' : 'flat'}`);
        all &&= countOk;
      }
    }
    return { verdict: all && expected.leaks.length > 0 ? 'grows' : 'flat', reasons };
  }
  // A control: flat unless a watched class or the heap rises in every round.
  let grows = false;
  for (const c of expected.watch || []) {
    for (const thread of ['main', 'worker']) {
      if (thread === 'worker' && answers.every((a) => a.workers.length === 0)) continue;
      const series = answers.map((a) => threadFigures(a, thread).counts[c] || 0);
      const d = deltas(series);
      const rises = d.every((x) => x > 0);
      reasons.push(`${c} (${thread}): counts ${series.join(' -> ')} -> ${rises ? 'grows' : 'flat'}`);
      grows ||= rises;
    }
  }
  const strings = answers.map((a) => a.main.counts['(strings)'] || 0);
  const stringsRise = deltas(strings).every((x) => x >= CONTROL_STRING_RISE);
  reasons.push(`live strings (main): ${strings.join(' -> ')} -> ${stringsRise ? `rise by ${CONTROL_STRING_RISE} or more every round` : 'flat'}`);
  grows ||= stringsRise;
  const h = heapGrows('main');
  reasons.push(`heap (main): deltas ${h.d.map((x) => `${(x / 1024).toFixed(1)} KiB`).join(', ')} -> ${h.ok ? 'rises every round' : 'flat'}`);
  grows ||= h.ok;
  return { verdict: grows ? 'grows' : 'flat', reasons };
}

function formatRound(answer, classes) {
  const m = answer.main;
  const parts = [`heapUsed ${mb(m.heapUsed)}`, `external ${mb(m.external)}`, `arrayBuffers ${mb(m.arrayBuffers)}`];
  for (const c of [...classes, '(strings)']) parts.push(`${c} ${m.counts[c]}`);
  for (const w of answer.workers) {
    parts.push(`| worker ${w.threadId}: heapUsed ${mb(w.heapUsed)}` + [...classes, '(strings)'].map((c) => `, ${c} ${w.counts[c]}`).join(''));
  }
  if (answer.silentWorkers.length) parts.push(`| workers that did not answer: ${answer.silentWorkers.join(', ')}`);
  return parts.join(', ');
}

/** Runs a shell command in the app folder; resolves on exit 0, rejects otherwise or after the limit. */
function runAction(command, cwd, env) {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, ACTION_LIMIT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`the action could not start: ${e.message}`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out.trim());
      else reject(new Error(`the action "${command}" failed (${signal || 'exit ' + code}): ${out.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}

async function probeApp(app, nodeBin) {
  const dir = path.join(corpusDir, app);
  const expectedFile = path.join(dir, 'expected.json');
  if (!fs.existsSync(expectedFile)) throw new Error(`${app}: no ${path.relative(process.cwd(), expectedFile)}; apps: ${listApps().join(', ')}`);
  const expected = JSON.parse(fs.readFileSync(expectedFile, 'utf8'));
  const env = { ...process.env, PATH: `${path.dirname(nodeBin)}${path.delimiter}${process.env.PATH}` };
  if (expected.build) {
    const b = spawnSync('sh', ['-c', expected.build], { cwd: dir, env, encoding: 'utf8' });
    if (b.status !== 0) throw new Error(`${app}: build "${expected.build}" failed: ${(b.stderr || b.stdout).trim().split('\n').pop()}`);
  }
  const classes = countedClasses(expected);
  // Bytecode flushing drops the compiled code of functions not run for a few GCs, which makes the post-GC heap
  // shrink by tens of KiB at random rounds; turning it off leaves the app's own data as the thing that moves.
  const args = ['--expose-gc', '--no-flush-bytecode', '-r', preload, ...(expected.nodeArgs || []), ...expected.program];
  const child = spawn(nodeBin, args, {
    cwd: dir,
    env: { ...env, CORPUS_PROBE_CLASSES: classes.join(',') },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const ready = expected.ready ? new RegExp(expected.ready) : DEFAULT_READY;
  let buffer = '';
  let targetUrl;
  let exited = null;
  const waiters = [];
  const tail = [];
  const onLine = (line) => {
    if (line.startsWith('@@corpus-probe-error')) tail.push(line);
    for (const w of [...waiters]) w(line);
    if (!line.startsWith('@@corpus-probe')) {
      tail.push(line);
      if (tail.length > 20) tail.shift();
    }
  };
  const feed = (d) => {
    buffer += d;
    const lines = buffer.split('\n');
    buffer = lines.pop();
    for (const l of lines) onLine(l);
  };
  child.stdout.on('data', feed);
  child.stderr.on('data', feed);
  const exitedPromise = new Promise((resolve) => child.on('exit', (code, signal) => resolve((exited = signal || `exit ${code}`))));
  /** Resolves with the first line that `match` accepts, rejects when the program ends or after `limitMs`. */
  const waitLine = (match, what, limitMs) =>
    new Promise((resolve, reject) => {
      const done = (fn, v) => {
        clearTimeout(timer);
        waiters.splice(waiters.indexOf(w), 1);
        fn(v);
      };
      const w = (line) => {
        const v = match(line);
        if (v instanceof Error) done(reject, v);
        else if (v !== undefined) done(resolve, v);
      };
      const timer = setTimeout(() => done(reject, new Error(`${app}: no ${what} within ${limitMs / 1000} s; last output: ${tail.slice(-5).join(' | ')}`)), limitMs);
      waiters.push(w);
      void exitedPromise.then(() => {
        if (waiters.includes(w)) done(reject, new Error(`${app}: the program ended (${exited}) while waiting for ${what}; last output: ${tail.slice(-5).join(' | ')}`));
      });
    });
  const stop = async () => {
    if (exited) return;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
    const t = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 3000);
    await exitedPromise;
    clearTimeout(t);
  };
  try {
    await waitLine(
      (line) => {
        if (!ready.test(line)) return undefined;
        targetUrl = /https?:\/\/[^\s'"]+/.exec(line)?.[0];
        return true;
      },
      `ready line (${ready})`,
      READY_LIMIT_MS,
    );
    const actionEnv = { ...env, ...(targetUrl ? { TARGET_URL: targetUrl } : {}) };
    const answers = [];
    console.log(`${app}: ${expected.program.join(' ')} ready${targetUrl ? ' at ' + targetUrl : ''}; action: ${expected.action}`);
    for (let round = 1; round <= ROUNDS; round++) {
      await runAction(expected.action, dir, actionEnv);
      const answer = waitLine(
        (line) => {
          if (line.startsWith('@@corpus-probe-error')) return new Error(`${app}: ${line}`);
          return line.startsWith('@@corpus-probe ') ? JSON.parse(line.slice('@@corpus-probe '.length)) : undefined;
        },
        `probe answer for round ${round}`,
        MEASURE_LIMIT_MS,
      );
      process.kill(child.pid, 'SIGUSR2');
      const a = await answer;
      answers.push(a);
      console.log(`  round ${round}: ${formatRound(a, classes)}`);
    }
    const { verdict, reasons } = judge(expected, answers);
    for (const r of reasons) console.log(`  ${r}`);
    const wanted = expected.verdict === 'leak' ? 'grows' : 'flat';
    const ok = verdict === wanted;
    console.log(`  verdict: ${verdict} (expected.json says ${expected.verdict}: ${ok ? 'agrees' : 'CONTRADICTS'})`);
    return ok;
  } finally {
    await stop();
  }
}

async function main() {
  const argv = process.argv.slice(2);
  let nodeBin = process.execPath;
  const apps = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--all') apps.push(...listApps());
    else if (argv[i] === '--node') {
      nodeBin = argv[++i];
      if (!nodeBin || !fs.existsSync(nodeBin)) usage(`--node needs the path of a node binary, got ${JSON.stringify(nodeBin)}`);
      nodeBin = path.resolve(nodeBin);
    } else if (argv[i].startsWith('-')) usage(`unknown option ${argv[i]}`);
    else apps.push(argv[i].replace(/\/$/, '').split('/').pop());
  }
  if (apps.length === 0) usage('name an app or pass --all');
  const contradicted = [];
  const failed = [];
  for (const app of apps) {
    try {
      if (!(await probeApp(app, nodeBin))) contradicted.push(app);
    } catch (e) {
      console.log(`  ${app}: FAILED: ${e.message}`);
      failed.push(app);
    }
  }
  if (apps.length > 1) {
    console.log(`probe: ${apps.length - contradicted.length - failed.length}/${apps.length} apps agree with expected.json` +
      (contradicted.length ? `; contradicted: ${contradicted.join(', ')}` : '') + (failed.length ? `; failed to run: ${failed.join(', ')}` : ''));
  }
  process.exit(failed.length ? 2 : contradicted.length ? 1 : 0);
}

void main();
