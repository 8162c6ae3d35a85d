// Bundles what the extension runs into dist/ with esbuild, one file per process or thread:
//   dist/extension.js  the extension host side (src/extension/main.ts; `vscode` stays external)
//   dist/worker.js     the engine worker; EngineClient finds it beside itself (__dirname/worker.js), so it must sit
//                      next to extension.js
//   dist/parse-worker.js  the second thread of a parse (edges and retainers); parse.ts looks for it beside the
//                      engine worker, and parses on one thread without it
//   dist/adapter.js    the `leak-lens` debug adapter (DAP over stdio), also runnable by other editors
//   dist/server.js     the language server, for the packaged extension
//   dist/sweeper.js    stops workloads and removes partial snapshots when the extension host is killed
// `tsc` still type-checks and emits out/ for the tests; these bundles are what the .vsix ships. Runs in `npm run build`.
'use strict';
const esbuild = require('esbuild');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const entryPoints = {
  extension: 'src/extension/main.ts',
  worker: 'engine/worker.ts',
  'parse-worker': 'engine/parse-worker.ts',
  adapter: 'src/adapter/main.ts',
  sweeper: 'src/sweeper/main.ts',
};
if (fs.existsSync(path.join(root, 'server/main.ts'))) entryPoints.server = 'server/main.ts';

const t0 = Date.now();
const result = esbuild.buildSync({
  absWorkingDir: root,
  entryPoints,
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'linked',
  minify: false,
  // ws loads these optional native helpers only if present.
  external: ['vscode', 'bufferutil', 'utf-8-validate'],
  legalComments: 'none',
  logLevel: 'warning',
});
if (result.errors.length) throw new Error(`build-extension: ${result.errors.length} errors`);
if (process.env.LEAK_LENS_BUILD_VERBOSE) console.log(`build-extension: dist/ in ${Date.now() - t0} ms`);
