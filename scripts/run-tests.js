#!/usr/bin/env node
// `npm test`: lint, then the suites from the cheapest to the dearest, each after what it needs is installed:
//   lint        eslint over the repository, then prettier --check (two checks),
//   unit, server, adapter, integration   node's own test runner over the compiled tests in out/test/<suite>
//               (server: after making sure Neovim is there, Debian's neovim installed with apt-get),
//   webview     the same, after making sure headless Chromium is there (Debian's chromium, installed with apt-get),
//   vscode      a real VS Code (scripts/vscode-test.js), after installing its host once (scripts/vscode-setup.js:
//               code-server + Node 24 + Chromium, cached in ~/.cache/leak-lens-vscode-host).
// Installs print one line each and nothing once things are in place. A suite whose prerequisite cannot be installed
// is not run and counts as one failure, with one line saying why. Each suite gets its own TMPDIR, which must be
// empty when it ends (anything left counts as a failure). The last line printed counts every suite:
// `N passed, N failed`.
// Usage: node scripts/run-tests.js [lint|unit|server|adapter|integration|webview|vscode|all] (default all).
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const setup = require('./vscode-setup');

const root = path.join(__dirname, '..');
const order = ['lint', 'unit', 'server', 'adapter', 'integration', 'webview', 'vscode'];
const which = process.argv[2] || 'all';
if (which !== 'all' && !order.includes(which)) {
  console.error(`run-tests: unknown suite '${which}'; use one of ${order.join(', ')} or all`);
  process.exit(2);
}
const suites = which === 'all' ? order : [which];

/** What a suite needs before it runs; throws with the reason when that cannot be installed. */
const prerequisites = {
  server: () => need('Neovim (a third-party client of the language server)', () => setup.ensureNeovim()),
  webview: () => need('headless Chromium', () => setup.ensureChromium()),
  vscode: () => need(`the VS Code host (code-server, Node 24, Chromium) in ${setup.hostDir()}`, () => setup.setup()),
};

function need(what, install) {
  try {
    install();
  } catch (e) {
    throw new Error(`${what}: ${String(e && e.message).split('\n')[0]}`);
  }
}

function collect(dir) {
  if (!fs.existsSync(dir)) return [];
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...collect(p));
    else if (entry.name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

/** Runs a command, passing its output through, and resolves with its exit code and output. */
/**
 * The process groups of a suite: its own, and those of every process below it that runs in a group of its own (a
 * program a test launched under the inspector is put in a new group, so killing the suite's group alone would leave
 * it running). Read from /proc; elsewhere only the suite's group.
 */
function suiteGroups(rootPid) {
  const groups = new Set([rootPid]);
  let entries = [];
  try {
    entries = fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return groups;
  }
  const children = new Map();
  const groupOf = new Map();
  for (const name of entries) {
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so read after the last ')'.
    const [, ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pid = Number(name);
    groupOf.set(pid, Number(pgrp));
    if (!children.has(Number(ppid))) children.set(Number(ppid), []);
    children.get(Number(ppid)).push(pid);
  }
  const stack = [rootPid];
  while (stack.length > 0) {
    const pid = stack.pop();
    for (const child of children.get(pid) ?? []) {
      groups.add(groupOf.get(child));
      stack.push(child);
    }
  }
  return groups;
}

/** Stops a suite: every process group in it, with SIGKILL (it is being abandoned). */
function killSuite(child) {
  for (const group of suiteGroups(child.pid)) {
    if (!(group > 1) || group === process.pid) continue;
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

/** The process group of the suite running now, stopped with it when npm test is interrupted, and its TMPDIR. */
let running;
let currentTmp;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (running) killSuite(running);
    // Temporary files of tests can hold heap snapshots: they never outlive an interrupted run.
    if (currentTmp) fs.rmSync(currentTmp, { recursive: true, force: true });
    process.exit(signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 129);
  });
}

/**
 * A failure bound per suite (tests wait on signals, never on time): a suite still running after this long is stuck,
 * and its whole process group is stopped so that a hung test (which node --test does not kill) cannot hang CI.
 */
const SUITE_LIMIT_MS = Number(process.env.LEAK_LENS_SUITE_LIMIT_MS) || 30 * 60_000;

function run(command, args, env = process.env) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    running = child;
    let output = '';
    const limit = setTimeout(() => {
      const note = `\nrun-tests: this suite was still running after ${Math.round(SUITE_LIMIT_MS / 6000) / 10} minutes: stopped as hung (its whole process group)\n`;
      output += note;
      process.stderr.write(note);
      killSuite(child);
    }, SUITE_LIMIT_MS);
    child.on('close', () => {
      clearTimeout(limit);
      if (running === child) running = undefined;
    });
    child.stdout.on('data', (d) => {
      output += d;
      process.stdout.write(d);
    });
    child.stderr.on('data', (d) => {
      output += d;
      process.stderr.write(d);
    });
    child.on('error', (e) => resolve({ code: 1, output: `${output}\n${e.message}` }));
    child.on('close', (code) => resolve({ code: code === null ? 1 : code, output }));
  });
}

/**
 * What each suite said about its failures (node's "failing tests:" section, mocha's "N failing" one), kept to be
 * printed again just above the last line: a long run's log is often read from its end.
 */
const failureNotes = [];
function keepFailures(suite, output, marker) {
  const at = output.search(marker);
  if (at < 0) return;
  const lines = output
    .slice(at)
    .split('\n')
    .filter((l) => l.trim() !== '');
  failureNotes.push(`--- ${suite}: failures ---`, ...lines.slice(0, 60), ...(lines.length > 60 ? ['...'] : []));
}

/** The last value of a counter line such as node's `ℹ pass 12` or the VS Code runner's `vscode: 3 passed, 0 failed`. */
function last(output, re) {
  let value;
  for (const m of output.matchAll(re)) value = m;
  return value;
}

/**
 * Runs one suite with its own temporary folder (TMPDIR), which must be empty when the suite ends: every test removes
 * what it creates, pass or fail. Whatever is left is named, counts as one failure, and is removed.
 */
async function runSuite(suite) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `leak-lens-test-${suite}-`));
  currentTmp = tmp;
  try {
    const counts = await runSuiteIn(suite, { ...process.env, TMPDIR: tmp });
    const left = fs.readdirSync(tmp);
    if (left.length > 0) {
      console.log(
        `${suite}: the tests left ${left.length} entries in their temporary folder: ${left.slice(0, 10).join(', ')}${left.length > 10 ? ', ...' : ''}`,
      );
      counts.fail++;
    }
    return counts;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    currentTmp = undefined;
  }
}

async function runSuiteIn(suite, env) {
  if (suite === 'lint') {
    const r = await run(process.execPath, [path.join(root, 'node_modules', 'eslint', 'bin', 'eslint.js'), '.'], env);
    if (r.code !== 0) console.log('lint: eslint reported problems (above)');
    // One formatter across the tree (.prettierrc.json; .prettierignore says what keeps its own layout).
    const f = await run(
      process.execPath,
      [path.join(root, 'node_modules', 'prettier', 'bin', 'prettier.cjs'), '--check', '--log-level', 'warn', '.'],
      env,
    );
    if (f.code !== 0) console.log('lint: files not formatted as prettier would (above); run `npm run format`');
    const ok = [r.code, f.code].filter((c) => c === 0).length;
    return { pass: ok, fail: 2 - ok };
  }
  if (suite === 'vscode') {
    const r = await run(process.execPath, [path.join(__dirname, 'vscode-test.js')], env);
    keepFailures(suite, r.output, /^\s*\d+ failing/m);
    const m = last(r.output, /^vscode: (\d+) passed, (\d+) failed/gm);
    const pass = Number(m?.[1] ?? 0);
    return { pass, fail: Number(m?.[2] ?? 0) + (r.code !== 0 && (!m || Number(m[2]) === 0) ? 1 : 0) };
  }
  const files = collect(path.join(root, 'out', 'test', suite));
  if (files.length === 0) {
    console.log(`${suite}: no compiled tests under out/test/${suite}; run \`npm run build\` first`);
    return { pass: 0, fail: 1 };
  }
  // A failure bound only (tests wait on signals): a test still waiting after 15 minutes is stuck, not slow.
  const r = await run(process.execPath, ['--test', '--test-reporter=spec', '--test-timeout=900000', ...files], env);
  keepFailures(suite, r.output, /^\S*\s*failing tests:/m);
  const pass = Number(last(r.output, /^ℹ pass (\d+)$/gm)?.[1] ?? 0);
  // Cancelled tests (a hook or a whole file that failed) count as failed.
  const fail =
    Number(last(r.output, /^ℹ fail (\d+)$/gm)?.[1] ?? 0) + Number(last(r.output, /^ℹ cancelled (\d+)$/gm)?.[1] ?? 0);
  return { pass, fail: fail + (r.code !== 0 && fail === 0 ? 1 : 0) };
}

async function main() {
  let passed = 0;
  let failed = 0;
  const parts = [];
  for (const suite of suites) {
    const t0 = Date.now();
    let counts;
    try {
      prerequisites[suite]?.();
    } catch (e) {
      console.log(`${suite}: not run: cannot install ${e.message}`);
      counts = { pass: 0, fail: 1 };
    }
    try {
      counts ??= await runSuite(suite);
    } catch (e) {
      console.log(`${suite}: could not run: ${String(e && e.message).split('\n')[0]}`);
      counts = { pass: 0, fail: 1 };
    }
    passed += counts.pass;
    failed += counts.fail;
    parts.push(`${suite} ${counts.pass}/${counts.pass + counts.fail} in ${Math.round((Date.now() - t0) / 1000)} s`);
  }
  if (failureNotes.length) console.log(`\n${failureNotes.join('\n')}`);
  console.log(`\nrun-tests: ${parts.join('; ')}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

void main();
