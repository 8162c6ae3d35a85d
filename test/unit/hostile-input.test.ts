/**
 * Hostile input: snapshots, sidecars and paths that someone damaged or made on purpose. Every case starts from a
 * snapshot a real Node process wrote (test/fixtures/apps/basic-leak.js) and changes one thing; the CLI must end
 * with exit 2 and one line naming the file and the problem, or analyse what can be analysed and warn, never hang,
 * read a device or a FIFO, or print an impossible figure.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { readRegularFile, oneLine } from '../../engine/safeRead';
import { readSidecarFile } from '../../engine/sidecar';
import { fixture, repoRoot } from '../helpers/fixtures';

const cli = path.join(repoRoot, 'bin', 'leak-lens.js');
// A time limit only so that a regression fails instead of blocking the suite; every case ends in about a second.
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-lens-hostile-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const appPath = path.join(repoRoot, 'test', 'fixtures', 'apps', 'basic-leak.js');
const base = () => fixture('basic-leak', { track: true }).files;

interface Snap {
  snapshot: { meta: Record<string, unknown>; node_count: number; edge_count: number; extra_native_bytes?: unknown };
  nodes: number[];
  edges: number[];
  strings: string[];
  trace_tree: unknown[];
}

let counter = 0;
/** Writes a changed copy of the last fixture snapshot (and its sidecar) and returns its path. */
function variant(
  change: (s: Snap) => void,
  text?: (json: string) => string,
  sidecar?: (meta: Record<string, unknown>) => void,
  name?: string,
): string {
  const src = base()[2];
  const s = JSON.parse(fs.readFileSync(src, 'utf8')) as Snap;
  change(s);
  let json = JSON.stringify(s);
  if (text) json = text(json);
  const file = path.join(dir, name ?? `v${counter++}.heapsnapshot`);
  fs.writeFileSync(file, json);
  const meta = JSON.parse(fs.readFileSync(src + '.meta.json', 'utf8')) as Record<string, unknown>;
  sidecar?.(meta);
  fs.writeFileSync(file + '.meta.json', JSON.stringify(meta));
  return file;
}

/** The baseline for analyze: a copy (with sidecar) of the first fixture snapshot. */
function baseline(): string {
  const file = path.join(dir, `b${counter++}.heapsnapshot`);
  fs.copyFileSync(base()[1], file);
  fs.copyFileSync(base()[1] + '.meta.json', file + '.meta.json');
  return file;
}

/** Asserts a clean error: exit 2, exactly one line on stderr, bounded, naming `token`, matching `pattern`. */
function assertCleanError(r: ReturnType<typeof run>, token: string, pattern: RegExp, what = ''): void {
  assert.equal(r.status, 2, `${what}: exit status (stderr: ${r.stderr})`);
  const lines = r.stderr.split('\n');
  assert.equal(lines.pop(), '', 'ends with a newline');
  assert.equal(lines.length, 1, `one line: ${JSON.stringify(r.stderr).slice(0, 300)}`);
  assert.ok(lines[0].length <= 620, `bounded: ${lines[0].length} characters`);
  // eslint-disable-next-line no-control-regex
  assert.ok(!/[\u0000-\u001f]/.test(lines[0]), 'no control characters');
  assert.ok(lines[0].includes(token), `names the file (${token}): ${lines[0]}`);
  assert.match(lines[0], pattern);
}

function mkfifo(file: string): void {
  const r = spawnSync('mkfifo', [file]);
  assert.equal(r.status, 0, `mkfifo: ${r.stderr}`);
}

/** Index of the first edge with the given type name. */
function firstEdgeOfType(s: Snap, type: string): number {
  const code = (s.snapshot.meta.edge_types as string[][])[0].indexOf(type);
  for (let i = 0; i < s.edges.length; i += 3) if (s.edges[i] === code) return i / 3;
  throw new Error(`no ${type} edge`);
}

/** Index of the first node (row) with the given type name. */
function firstNodeOfType(s: Snap, type: string): number {
  const nf = (s.snapshot.meta.node_fields as string[]).length;
  const code = (s.snapshot.meta.node_types as string[][])[0].indexOf(type);
  for (let i = 0; i < s.nodes.length; i += nf) if (s.nodes[i] === code) return i / nf;
  throw new Error(`no ${type} node`);
}

test('the snapshot path: a FIFO, a folder, a device and a missing file are one line each, at once', () => {
  const fifo = path.join(dir, 'pipe.heapsnapshot');
  mkfifo(fifo);
  assertCleanError(
    run('summary', fifo),
    'pipe.heapsnapshot',
    /is a FIFO \(named pipe\), not a regular file; save the snapshot to a file/,
  );
  const folder = path.join(dir, 'folder.heapsnapshot');
  fs.mkdirSync(folder);
  assertCleanError(
    run('summary', folder),
    'folder.heapsnapshot',
    /is a folder, not a snapshot file; pass the \.heapsnapshot file inside it/,
  );
  const device = path.join(dir, 'zero.heapsnapshot');
  fs.symlinkSync('/dev/zero', device);
  assertCleanError(run('analyze', baseline(), device), 'zero.heapsnapshot', /is a device, not a regular file/);
  assertCleanError(
    run('summary', path.join(dir, 'nothing.heapsnapshot')),
    'nothing.heapsnapshot',
    /no such file; check the path/,
  );
});

test('a file name with a newline and escape codes stays on one line', () => {
  const file = variant(
    () => {},
    (j) => j.slice(0, 3000),
    undefined,
    'two\nlines\u001b[31m.heapsnapshot',
  );
  assertCleanError(run('summary', file), 'two\\nlines\\u001b[31m.heapsnapshot', /the file ends inside/);
});

test('a script name in the snapshot or a source map URL in the sidecar that names a FIFO or a device is skipped with a warning', () => {
  const fifo = path.join(dir, 'fifo.js');
  mkfifo(fifo);
  // The script name inside the snapshot (strings section) and in the sidecar point at the FIFO.
  const swapped = variant(
    () => {},
    (j) => j.split(JSON.stringify(appPath).slice(1, -1)).join(fifo),
    (meta) => {
      meta.scripts = (meta.scripts as { url: string }[]).map((s) => ({ ...s, url: s.url.split(appPath).join(fifo) }));
    },
  );
  const r1 = run('analyze', baseline(), swapped, '--format', 'json');
  assert.equal(r1.status, 1, r1.stderr);
  const w1 = (JSON.parse(r1.stdout) as { warnings: string[] }).warnings;
  assert.ok(
    w1.some((w) => w.includes('fifo.js') && /is a FIFO \(named pipe\), not a regular file/.test(w)),
    w1.join(' | '),
  );
  // A source map URL naming /dev/urandom, and one naming a 40 MB file: neither is read.
  const huge = path.join(dir, 'huge.js.map');
  fs.closeSync(fs.openSync(huge, 'w'));
  fs.truncateSync(huge, 40 << 20);
  for (const [url, pattern] of [
    ['/dev/urandom', /is a device, not a regular file/],
    [huge, /is 40\.0 MB, more than the 8\.0 MB read at most/],
  ] as const) {
    const file = variant(
      () => {},
      undefined,
      (meta) => {
        for (const s of meta.scripts as { url: string; sourceMapURL?: string }[])
          if (s.url.includes('basic-leak')) s.sourceMapURL = url;
      },
    );
    const r = run('analyze', baseline(), file, '--format', 'json');
    assert.equal(r.status, 1, r.stderr);
    const w = (JSON.parse(r.stdout) as { warnings: string[] }).warnings;
    assert.ok(
      w.some((x) => x.startsWith('source map of') && pattern.test(x)),
      w.join(' | '),
    );
  }
});

test('bounded reads: only regular files, never past the cap', () => {
  const small = path.join(dir, 'small.txt');
  fs.writeFileSync(small, 'hello');
  assert.deepEqual(readRegularFile(small, 5), { ok: true, text: 'hello' });
  assert.match((readRegularFile(small, 4) as { reason: string }).reason, /more than the 4 B read at most/);
  assert.equal((readRegularFile('/dev/zero', 1 << 20) as { code: string }).code, 'ENOTREG');
  assert.equal((readRegularFile(dir, 1 << 20) as { code: string }).code, 'EISDIR');
  assert.equal(oneLine('a\nb\u0000' + 'x'.repeat(500), 40).length, 40);
  assert.ok(!oneLine('a\nb\r\u001b').includes('\n'));
});

test('a sidecar of the wrong shape is dropped field by field with warnings, never fatal', () => {
  const warnings: string[] = [];
  const file = variant(
    () => {},
    undefined,
    (meta) => {
      meta.scripts = 5;
      meta.memoryUsage = { rss: null, heapTotal: 1, heapUsed: 1, external: 1, arrayBuffers: 1 };
      meta.label = 'a\nb';
      meta.pid = 'x';
    },
  );
  const sc = readSidecarFile(file, (m) => warnings.push(m));
  assert.ok(sc);
  assert.equal(sc.scripts, undefined);
  assert.equal(sc.memoryUsage, undefined);
  assert.equal(sc.label, undefined);
  assert.equal(sc.pid, undefined);
  assert.equal(warnings.length, 4, warnings.join(' | '));
  assert.ok(warnings.every((w) => w.includes('.meta.json') && !w.includes('\n')));
  assert.ok(warnings.some((w) => /"scripts" \(5 is not a list of scripts\)/.test(w)));
  assert.ok(warnings.some((w) => /"memoryUsage.rss" \(null is not a byte count\)/.test(w)));
  const r = run('analyze', baseline(), file, '--format', 'json');
  assert.equal(r.status, 1, r.stderr);
  const report = JSON.parse(r.stdout) as { snapshots: { memoryUsage?: unknown }[]; warnings: string[] };
  assert.equal(report.snapshots[1].memoryUsage, undefined, 'no null memory figures copied into the report');
  assert.ok(report.warnings.some((w) => w.includes('"scripts"')));
  // A sidecar that is a FIFO is not waited for.
  const piped = variant(() => {});
  fs.rmSync(piped + '.meta.json');
  mkfifo(piped + '.meta.json');
  const r2 = run('analyze', baseline(), piped, '--format', 'json');
  assert.equal(r2.status, 1, r2.stderr);
  assert.ok((JSON.parse(r2.stdout) as { warnings: string[] }).warnings.some((w) => /not read \(is a FIFO/.test(w)));
});

test('impossible sizes and counts are refused, naming the section and the field', () => {
  const cases: [string, (s: Snap) => void, ((j: string) => string) | undefined, RegExp][] = [
    [
      'negative self_size',
      (s) => (s.nodes[firstNodeOfType(s, 'object') * 7 + 3] = -64),
      undefined,
      /node \d+ has self_size -64, which is impossible, in the "nodes" section/,
    ],
    [
      '401-digit self_size',
      (s) => (s.nodes[firstNodeOfType(s, 'object') * 7 + 3] = 987654321987),
      (j) => j.replace('987654321987', '1' + '0'.repeat(400)),
      /has self_size a number too large to read/,
    ],
    [
      'extra_native_bytes as text',
      (s) => (s.snapshot.extra_native_bytes = '123'),
      undefined,
      /extra_native_bytes is "123", not a count in the "snapshot" header/,
    ],
    [
      'edge counts past edge_count',
      (s) => (s.nodes[4] = s.snapshot.edge_count + 5),
      undefined,
      /edge counts of the first 1 nodes add up to \d+, more than edge_count/,
    ],
    ['negative edge target', (s) => (s.edges[2] = -7), undefined, /edge 0 points at -7, which is not a node position/],
    [
      'edge target off a node boundary',
      (s) => (s.edges[2] = 8),
      undefined,
      /edge 0 points at 8, which is not a node position \(a multiple of 7/,
    ],
    [
      'edge target past the end',
      (s) => (s.edges[2] = s.snapshot.node_count * 7),
      undefined,
      /which is not a node position/,
    ],
    [
      'string index past the end',
      (s) => (s.edges[firstEdgeOfType(s, 'property') * 3 + 1] = s.strings.length + 10),
      undefined,
      /edge \d+ names string \d+, but there are only \d+ strings in the "strings" section/,
    ],
    [
      'trace tree function out of range',
      (s) => (s.trace_tree[1] = 999999),
      undefined,
      /trace node 0 refers to function info 999999, but there are only \d+ in the "trace_tree" section/,
    ],
    [
      'empty location_fields',
      (s) => (s.snapshot.meta.location_fields = []),
      undefined,
      /meta\.location_fields has no "object_index" field in the "snapshot" header/,
    ],
  ];
  for (const [what, change, text, pattern] of cases) {
    const file = variant(change, text);
    const r = run('summary', file, '--format', 'json');
    assertCleanError(r, path.basename(file), pattern, what);
    assert.match(r.stderr, /capture the snapshot again/, what);
  }
});

test('a section name of raw bytes is quoted on one short line', () => {
  const garbage = Buffer.alloc(2500);
  for (let i = 0; i < garbage.length; i++) garbage[i] = i % 7 === 0 ? 0x0a : 0x80 + (i % 100);
  const file = variant(() => {});
  const bytes = fs.readFileSync(file);
  const at = bytes.indexOf('"nodes":');
  fs.writeFileSync(file, Buffer.concat([bytes.subarray(0, at + 1), garbage, bytes.subarray(at + 6)]));
  assertCleanError(run('summary', file), path.basename(file), /section name is too long/);
});
