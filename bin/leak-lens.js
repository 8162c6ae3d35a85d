#!/usr/bin/env node
// Entry point of the `leak-lens` command line; the code lives in out/src/cli (built by `npm run build`).
'use strict';
const path = require('path');
const main = path.join(__dirname, '..', 'out', 'src', 'cli', 'main.js');
try {
  require.resolve(main);
} catch {
  process.stderr.write('leak-lens: the project is not built yet; run `npm run build` (or `npm install`) first.\n');
  process.exit(2);
}
require(main)
  .main(process.argv.slice(2))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`leak-lens: ${err && err.message ? err.message : err}\n`);
      process.exitCode = 2;
    },
  );
