/**
 * A capture that could get the program killed is refused before it starts. V8's snapshot generator needs several
 * hundred bytes per heap object in the program's own memory; in a container with a memory limit, `leak-lens run`
 * checks that before each snapshot. Here a real cgroup with a 640 MB limit holds `leak-lens run` and its program:
 * a program with a heap of about 150 MB of small objects is refused with the estimate and the limit, and nothing is
 * left behind; the same program with a small heap is captured in the same container.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/fixtures';
import { tempDir } from '../helpers/temp';

const cli = path.join(repoRoot, 'bin', 'leak-lens.js');
const LIMIT = 640 * 1024 * 1024;

/** A memory cgroup below this process's own, with a limit; undefined (and why) when this machine does not allow one. */
function makeCgroup(name: string): { dir: string; procs: string } | string {
  const lines = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n');
  const v1 = lines.map((l) => l.split(':')).find((p) => p[1]?.split(',').includes('memory'));
  const v2 = lines.map((l) => l.split(':')).find((p) => p[1] === '');
  const where = v1
    ? { base: '/sys/fs/cgroup/memory', rel: v1[2], limit: 'memory.limit_in_bytes' }
    : v2
      ? { base: '/sys/fs/cgroup', rel: v2[2], limit: 'memory.max' }
      : undefined;
  if (!where) return 'no memory cgroup in /proc/self/cgroup';
  const dir = path.join(where.base, where.rel, name);
  try {
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, where.limit), String(LIMIT));
  } catch (e) {
    try {
      fs.rmdirSync(dir);
    } catch {
      // It was not made.
    }
    return `cannot make a memory cgroup here (${(e as NodeJS.ErrnoException).code}): run the tests as root on Linux to check this`;
  }
  return { dir, procs: path.join(dir, 'cgroup.procs') };
}

function removeCgroup(dir: string): void {
  // Every process of the test has exited by now (spawnSync waited); the kernel frees the group when it is empty.
  for (let i = 0; i < 50; i++) {
    try {
      fs.rmdirSync(dir);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      spawnSync('sleep', ['0.1']);
    }
  }
  fs.rmdirSync(dir);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a snapshot that would not fit in the container is refused with the estimate and the limit; a small one is taken', (t) => {
  const group = makeCgroup(`leak-lens-test-${process.pid}`);
  if (typeof group === 'string') {
    t.skip(group);
    return;
  }
  t.after(() => removeCgroup(group.dir));
  const dir = tempDir(t, 'capture-budget');
  const app = path.join(dir, 'catalogue.js');
  fs.writeFileSync(
    app,
    `const fs = require('fs');
fs.writeFileSync(process.argv[3], String(process.pid));
class Item { constructor(i) { this.id = i; this.name = 'item-' + i; } }
const items = (globalThis.items = []);
const goal = Number(process.argv[2]) * 1024 * 1024;
while (process.memoryUsage().heapUsed < goal) for (let i = 0; i < 10000; i++) items.push(new Item(items.length));
setInterval(() => {}, 1000);
console.log('ready with ' + items.length + ' items');
`,
  );
  const runIn = (heapMB: number, name: string) => {
    const out = path.join(dir, name);
    const pidFile = path.join(dir, `${name}.pid`);
    // The shell joins the cgroup, then becomes leak-lens run: the CLI and the program it starts are both inside.
    const r = spawnSync(
      'sh',
      [
        '-c',
        'echo $$ > "$0" && shift && exec "$@"',
        group.procs,
        '--',
        process.execPath,
        cli,
        'run',
        '--out',
        out,
        '--ready',
        'ready with',
        '--',
        'node',
        app,
        String(heapMB),
        pidFile,
      ],
      {
        encoding: 'utf8',
        timeout: 240_000,
      },
    );
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    return { r, out, pid };
  };

  const big = runIn(150, 'big');
  assert.equal(big.r.status, 2, big.r.stderr);
  const lines = big.r.stderr.split('\n').filter((l) => /would need/.test(l));
  assert.equal(lines.length, 1, big.r.stderr);
  assert.match(
    lines[0],
    /snapshot 1 failed: a heap snapshot of this process would need about \d\.\d\d GB more memory in it \(heap 1\d\d\.\d MB/,
  );
  assert.match(
    lines[0],
    /its container's limit 640\.0 MB with [\d.]+ MB in use .*: the process could be killed; .*--force-capture/,
  );
  assert.ok(!isRunning(big.pid), `the program ${big.pid} was stopped`);
  assert.deepEqual(
    fs.existsSync(big.out) ? fs.readdirSync(big.out).filter((f) => f.endsWith('.heapsnapshot')) : [],
    [],
    'no snapshot was written',
  );

  const small = runIn(8, 'small');
  assert.ok(small.r.status === 0 || small.r.status === 1, small.r.stderr);
  const logged = small.r.stderr
    .split('\n')
    .filter((l) =>
      /^leak-lens: snapshot \d\/3: .* \(estimated need [\d.]+ MB of [\d.]+ MB free, program's peak RSS [\d.]+ MB\)$/.test(
        l,
      ),
    );
  assert.equal(logged.length, 3, small.r.stderr);
  assert.ok(!isRunning(small.pid), `the program ${small.pid} was stopped`);
  const sidecar = JSON.parse(fs.readFileSync(path.join(small.out, 's1.heapsnapshot.meta.json'), 'utf8')) as {
    capture?: { estimateBytes: number; roomBytes?: number; roomFrom?: string };
  };
  assert.ok(
    sidecar.capture && sidecar.capture.estimateBytes > 0 && (sidecar.capture.roomBytes ?? 0) < LIMIT,
    JSON.stringify(sidecar.capture),
  );
  assert.match(sidecar.capture.roomFrom ?? '', /container's limit 640\.0 MB/);
  fs.rmSync(small.out, { recursive: true, force: true });
});
