#!/usr/bin/env node
// Builds everything that is not plain `tsc` output: each scripts/build-*.js step (webview bundle, extension bundle).
// Runs after `tsc -p .` in `npm run build`. A step exports nothing; it runs when required and throws on failure.
'use strict';
const fs = require('fs');
const path = require('path');
for (const f of fs
  .readdirSync(__dirname)
  .filter((n) => /^build-.+\.js$/.test(n))
  .sort()) {
  require(path.join(__dirname, f));
}
