// Bundles the memory webview (media/src) into media/dist with esbuild: one script and one style sheet, loaded by
// the webview under a strict content security policy. esbuild does not check types; `npx tsc -p media` does, and
// the webview tests run it. Takes well under a second.
'use strict';
const esbuild = require('esbuild');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const result = esbuild.buildSync({
  absWorkingDir: root,
  entryPoints: { main: 'media/src/main.ts', style: 'media/src/main.css' },
  outdir: 'media/dist',
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  format: 'iife',
  target: ['chrome114'],
  platform: 'browser',
  legalComments: 'none',
  logLevel: 'warning',
  metafile: false,
});
if (result.errors.length) throw new Error(`build-media: ${result.errors.length} errors`);
fs.copyFileSync(path.join(root, 'media/src/icon.svg'), path.join(root, 'media/dist/icon.svg'));
