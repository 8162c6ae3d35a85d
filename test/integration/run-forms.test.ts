/**
 * The forms a program takes after `leak-lens run --`: node's own options keep their meaning (`-e CODE`, `-r X`,
 * `--import X`, `--input-type X`, `--max-old-space-size=N`, `--expose-gc`), and a launcher (npm start, tsx) is
 * refused with one line giving the exact command to type, which then works.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { repoRoot } from '../helpers/fixtures';
import { groupMembers } from '../helpers/processes';

const cli = path.join(repoRoot, 'bin', 'leak-lens.js');
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-lens-forms-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(args: string[]) {
  return spawnSync(process.execPath, [cli, 'run', ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
}

/** A run made a report (exit 0 or 1), printed the program's ready line before the first action, and left nothing. */
function assertMeasured(r: ReturnType<typeof run>, readyLine: RegExp): void {
  assert.ok(r.status === 0 || r.status === 1, `exit ${r.status}: ${r.stderr}`);
  assert.match(r.stdout, /across 2 snapshots/);
  const ready = readyLine.exec(r.stderr);
  assert.ok(ready, `the program printed its ready line: ${r.stderr}`);
  assert.ok(ready.index < r.stderr.indexOf('leak-lens: action (warm-up)'), 'ready came before the first action');
  const pid = Number(/started .* \(pid (\d+)\)/.exec(r.stderr)![1]);
  assert.deepEqual(groupMembers(pid), [], 'the program is stopped');
}

const listen = `require('http').createServer((q, s) => s.end('ok')).listen(0, '127.0.0.1')`;

test('node -e CODE, and an option with a separate value before it (--input-type module)', () => {
  const r1 = run([
    '--snapshots',
    '2',
    '--action',
    'true',
    '--',
    'node',
    '-e',
    `${listen}.on('listening', () => console.log('eval server listening'))`,
  ]);
  assertMeasured(r1, /eval server listening/);
  const esm = `import http from 'node:http'; http.createServer((q, s) => s.end('ok')).listen(0, '127.0.0.1', () => console.log('esm eval listening, type ' + typeof require));`;
  const r2 = run(['--snapshots', '2', '--action', 'true', '--', 'node', '--input-type', 'module', '-e', esm]);
  assertMeasured(r2, /esm eval listening, type undefined/);
});

test('node -r X app.js: the preload runs first', () => {
  fs.writeFileSync(path.join(dir, 'preload.js'), `globalThis.preloaded = 'by -r';\n`);
  fs.writeFileSync(
    path.join(dir, 'app.js'),
    `${listen}.on('listening', () => console.log('app listening, preloaded ' + globalThis.preloaded));\n`,
  );
  assertMeasured(
    run(['--snapshots', '2', '--action', 'true', '--', 'node', '-r', './preload.js', 'app.js']),
    /app listening, preloaded by -r/,
  );
});

test('node --import X --expose-gc --max-old-space-size=N app.js: every option keeps its meaning', () => {
  fs.writeFileSync(path.join(dir, 'hook.mjs'), `globalThis.imported = 'by --import';\n`);
  fs.writeFileSync(
    path.join(dir, 'app.js'),
    `const limit = Math.round(require('v8').getHeapStatistics().heap_size_limit / 1048576);
${listen}.on('listening', () => console.log('app listening, ' + globalThis.imported + ', gc ' + typeof gc + ', limit ' + limit + ' MB'));\n`,
  );
  const r = run([
    '--snapshots',
    '2',
    '--action',
    'true',
    '--',
    'node',
    '--import',
    './hook.mjs',
    '--expose-gc',
    '--max-old-space-size=200',
    'app.js',
  ]);
  assertMeasured(r, /app listening, by --import, gc function, limit (\d+) MB/);
  const limit = Number(/limit (\d+) MB/.exec(r.stderr)![1]);
  assert.ok(limit >= 200 && limit < 300, `--max-old-space-size=200 applies (heap limit ${limit} MB)`);
});

test('npm start is refused with the node command to type instead, and that command works', () => {
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'app', scripts: { start: 'node server.js --port 0' } }),
  );
  fs.writeFileSync(
    path.join(dir, 'server.js'),
    `${listen}.on('listening', () => console.log('server listening with ' + process.argv.slice(2).join(' ')));\n`,
  );
  const r = run(['--snapshots', '2', '--action', 'true', '--', 'npm', 'start']);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, `one line: ${r.stderr}`);
  assert.equal(
    r.stderr.trimEnd(),
    'leak-lens: leak-lens run starts Node itself and cannot measure through npm; start the program with node instead: ' +
      'leak-lens run --snapshots 2 --action true -- node server.js --port 0',
  );
  const suggested = r.stderr.trimEnd().split('instead: leak-lens run ')[1].split(' ');
  assertMeasured(run(suggested), /server listening with --port 0/);
});

test('tsx and npx name their node equivalents; a node option that would hide the program is refused', () => {
  const tsx = run(['--', 'tsx', 'src/app.ts']);
  assert.equal(tsx.status, 2);
  assert.match(
    tsx.stderr,
    /^leak-lens: leak-lens run starts Node itself and cannot measure through tsx; start the program with node instead: leak-lens run -- node --import tsx src\/app\.ts\n$/,
  );
  fs.mkdirSync(path.join(dir, 'node_modules', 'tool', 'bin'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'node_modules', '.bin'));
  fs.writeFileSync(path.join(dir, 'node_modules', 'tool', 'bin', 'tool.js'), '#!/usr/bin/env node\n');
  fs.symlinkSync('../tool/bin/tool.js', path.join(dir, 'node_modules', '.bin', 'tool'));
  const npx = run(['--', 'npx', 'tool', 'serve']);
  assert.match(
    npx.stderr,
    /^leak-lens: .*cannot measure through npx; start the program with node instead: leak-lens run -- node node_modules\/tool\/bin\/tool\.js serve\n$/,
  );
  const watchMode = run(['--', 'node', '--watch', 'app.js']);
  assert.match(
    watchMode.stderr,
    /^leak-lens: --watch cannot be used under leak-lens run .*; leave it out: leak-lens run -- node app\.js\n$/,
  );
});

test('the program writes its own snapshots; one that cannot gets them streamed over the inspector instead', () => {
  const methods = (out: string) =>
    fs
      .readdirSync(out)
      .filter((f) => f.endsWith('.meta.json'))
      .sort()
      .map((f) => (JSON.parse(fs.readFileSync(path.join(out, f), 'utf8')) as { method: string }).method);
  const plain = path.join(dir, 'plain');
  const r1 = run([
    '--snapshots',
    '2',
    '--out',
    plain,
    '--action',
    'true',
    '--',
    'node',
    '-e',
    `${listen}.on('listening', () => console.log('plain listening'))`,
  ]);
  assertMeasured(r1, /plain listening/);
  assert.deepEqual(methods(plain), ['inprocess', 'inprocess']);
  // A program whose v8 module cannot write a snapshot (as when its file system is not this one).
  const broken = path.join(dir, 'broken');
  const refuse = `process.getBuiltinModule = () => ({ writeHeapSnapshot() { throw new Error('read-only file system'); } });`;
  const r2 = run([
    '--snapshots',
    '2',
    '--out',
    broken,
    '--action',
    'true',
    '--',
    'node',
    '-e',
    `${refuse} ${listen}.on('listening', () => console.log('refusing listening'))`,
  ]);
  assertMeasured(r2, /refusing listening/);
  assert.deepEqual(methods(broken), ['cdp', 'cdp']);
  assert.deepEqual(
    fs.readdirSync(broken).filter((f) => !/^s\d\.heapsnapshot(\.meta\.json)?$/.test(f)),
    [],
    'nothing but the two snapshots and their sidecars',
  );
});
