#!/usr/bin/env node
// Runs the test suites with node's own test runner over the compiled tests in out/test.
// Usage: node scripts/run-tests.js [unit|integration|all] (default all). Node's runner prints the closing counts.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const which = process.argv[2] || 'all';
const suites = which === 'all' ? ['unit', 'integration', 'webview', 'server'] : [which];

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

const files = suites.flatMap((s) => collect(path.join(root, 'out', 'test', s)));
if (files.length === 0) {
  console.error('run-tests: no compiled tests found under out/test; run `npm run build` first.');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], { stdio: 'inherit', cwd: root });
process.exit(r.status === null ? 1 : r.status);
