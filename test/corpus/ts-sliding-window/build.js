#!/usr/bin/env node
// Compiles this app (src/ -> dist/, with source maps) with the repository's typescript package.
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc');
} catch {
  process.stderr.write('ts-sliding-window build: the typescript package is not installed (run npm install at the repository root)\n');
  process.exit(2);
}
const r = spawnSync(process.execPath, [tsc, '-p', path.join(__dirname, 'tsconfig.json')], { stdio: 'inherit' });
if (r.error) {
  process.stderr.write(`ts-sliding-window build: ${r.error.message}\n`);
  process.exit(2);
}
process.exit(r.status === null ? 1 : r.status);
