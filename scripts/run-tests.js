#!/usr/bin/env node
// Runs the test suites: unit, integration, webview, server and adapter with node's own test runner over the compiled
// tests in out/test, then the VS Code suite in a real VS Code (scripts/vscode-test.js). The last line printed counts
// every suite: `N passed, N failed`.
// Usage: node scripts/run-tests.js [unit|integration|webview|server|adapter|vscode|all] (default all).
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const which = process.argv[2] || 'all';
const nodeSuites = ['unit', 'integration', 'webview', 'server', 'adapter'];
const suites = which === 'all' ? [...nodeSuites, 'vscode'] : [which];

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
function run(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
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

/** The last value of a counter line such as node's `ℹ pass 12` or the VS Code runner's `vscode: 3 passed, 0 failed`. */
function last(output, re) {
  let value;
  for (const m of output.matchAll(re)) value = m;
  return value;
}

async function main() {
  let passed = 0;
  let failed = 0;
  const parts = [];
  const nodeFiles = suites.filter((s) => nodeSuites.includes(s)).flatMap((s) => collect(path.join(root, 'out', 'test', s)));
  if (suites.some((s) => nodeSuites.includes(s))) {
    if (nodeFiles.length === 0) {
      console.error('run-tests: no compiled tests found under out/test; run `npm run build` first.');
      failed++;
    } else {
      const t0 = Date.now();
      const r = await run(process.execPath, ['--test', '--test-reporter=spec', ...nodeFiles]);
      const pass = Number(last(r.output, /^ℹ pass (\d+)$/gm)?.[1] ?? 0);
      // Cancelled tests (a hook or a whole file that failed) count as failed.
      const fail = Number(last(r.output, /^ℹ fail (\d+)$/gm)?.[1] ?? 0) + Number(last(r.output, /^ℹ cancelled (\d+)$/gm)?.[1] ?? 0);
      const extra = r.code !== 0 && fail === 0 ? 1 : 0;
      passed += pass;
      failed += fail + extra;
      parts.push(`node ${pass}/${pass + fail + extra} in ${Math.round((Date.now() - t0) / 1000)} s`);
    }
  }
  if (suites.includes('vscode')) {
    const t0 = Date.now();
    const r = await run(process.execPath, [path.join(__dirname, 'vscode-test.js')]);
    const m = last(r.output, /^vscode: (\d+) passed, (\d+) failed/gm);
    const pass = Number(m?.[1] ?? 0);
    const fail = Number(m?.[2] ?? 0) + (r.code !== 0 && (!m || Number(m[2]) === 0) ? 1 : 0);
    passed += pass;
    failed += fail;
    parts.push(`vscode ${pass}/${pass + fail} in ${Math.round((Date.now() - t0) / 1000)} s`);
  }
  console.log(`\nrun-tests: ${parts.join('; ')}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

void main();
