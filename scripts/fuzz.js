#!/usr/bin/env node
// Hostile-input fuzzer for the `leak-lens summary` and `leak-lens analyze` commands.
//
// It makes real snapshots (test/fixtures/apps/basic-leak.js run by real Node processes, with and without allocation
// tracking) into a temporary folder, then builds each case from them with a fixed-seed generator: truncations, byte
// flips, numbers made negative, huge or non-numeric, renamed sections, changed meta fields, corrupt edge and string
// indexes, and sidecars (`<snapshot>.meta.json`) whose fields have the wrong shape or whose paths name FIFOs,
// devices, folders or huge files, and file names holding newlines and control characters. Each case runs the CLI in
// child processes watched for time (a "hang") and memory (RSS past the limit: "runaway memory"), and the outcome is
// classified (a run that uses no CPU for --idle seconds, or runs past --timeout, is a hang). Everything it creates, FIFOs included, is removed at the end, pass or fail.
//
// Usage: node scripts/fuzz.js [--cases N] [--seed S] [--jobs J] [--timeout SECONDS] [--idle SECONDS] [--rss-limit MB]
//                             [--bin PATH] [--json] [--verbose] [--log FILE]
// Case n is the same for a given seed whatever --cases says, so a short run is a prefix of a long one, and --from N
// runs cases N and on (to split a long run). --log writes
// one JSON line per run (case, command, class, mutation, detail).
// Exits 1 when any case ends in a bad class (crash, hang, runaway memory, messy message, impossible figure).
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..');

function parseArgs(argv) {
  const opts = {
    from: 0,
    idle: 10,
    log: null,
    cases: 2000,
    seed: 20261130,
    jobs: 2,
    timeout: 90,
    rssLimitMb: 1536,
    bin: path.join(root, 'bin', 'leak-lens.js'),
    json: false,
    verbose: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--cases') opts.cases = Number(next());
    else if (a === '--seed') opts.seed = Number(next());
    else if (a === '--from') opts.from = Number(next());
    else if (a === '--jobs') opts.jobs = Number(next());
    else if (a === '--timeout') opts.timeout = Number(next());
    else if (a === '--idle') opts.idle = Number(next());
    else if (a === '--rss-limit') opts.rssLimitMb = Number(next());
    else if (a === '--bin') opts.bin = path.resolve(next());
    else if (a === '--json') opts.json = true;
    else if (a === '--log') opts.log = path.resolve(next());
    else if (a === '--verbose') opts.verbose = true;
    else throw new Error(`unknown option ${a}`);
  }
  for (const k of ['cases', 'jobs', 'timeout', 'idle', 'rssLimitMb']) {
    if (!Number.isInteger(opts[k]) || opts[k] < 1) throw new Error(`--${k} takes a whole number of at least 1`);
  }
  if (!Number.isInteger(opts.from) || opts.from < 0) throw new Error('--from takes a whole number');
  return opts;
}

/** A small fixed-seed generator (mulberry32): the same seed gives the same cases on every machine. */
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Base snapshots, made by real Node processes.

/** Runs the basic-leak fixture app into `dir` (two snapshots and their sidecars). */
function makeBase(dir, track) {
  const r = spawnSync(process.execPath, [path.join(root, 'test', 'fixtures', 'apps', 'basic-leak.js')], {
    env: { ...process.env, FIXTURE_OUT: dir, FIXTURE_SNAPSHOTS: '2', FIXTURE_TRACK: track ? '1' : '0' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`making the base snapshots failed (${r.status}): ${r.stderr}`);
  const files = ['s1', 's2'].map((s) => path.join(dir, `${s}.heapsnapshot`));
  return files.map((file) => {
    const bytes = fs.readFileSync(file);
    const sidecar = fs.readFileSync(file + '.meta.json', 'utf8');
    return { file, bytes, sidecar, layout: layoutOf(bytes) };
  });
}

/** Section positions (value start and end) and the header of a snapshot as the writer laid it out. */
function layoutOf(bytes) {
  const sections = {};
  // V8 writes each top-level key at the start of a line: `{"snapshot":{...},\n"nodes":[...` and so on.
  const re = /(^|\n)"([a-z_]+)":/g;
  const text = bytes.toString('latin1');
  let m;
  const keys = [];
  while ((m = re.exec(text))) keys.push({ name: m[2], keyAt: m.index + m[1].length, valueAt: m.index + m[0].length });
  const first = text.indexOf('"snapshot":');
  if (first >= 0 && !keys.some((k) => k.name === 'snapshot'))
    keys.unshift({ name: 'snapshot', keyAt: first, valueAt: first + '"snapshot":'.length });
  keys.sort((a, b) => a.keyAt - b.keyAt);
  for (let i = 0; i < keys.length; i++) {
    const end = i + 1 < keys.length ? text.lastIndexOf(',', keys[i + 1].keyAt) : text.lastIndexOf('}');
    sections[keys[i].name] = { keyAt: keys[i].keyAt, start: keys[i].valueAt, end };
  }
  const header = JSON.parse(text.slice(sections.snapshot.start, sections.snapshot.end));
  return { sections, header };
}

/** Offsets [start, end) of the `index`-th number in a numeric section, or null. */
function numberAt(bytes, section, index) {
  let count = 0;
  let i = section.start;
  while (i < section.end) {
    const c = bytes[i];
    if ((c >= 0x30 && c <= 0x39) || c === 0x2d) {
      const start = i;
      while (i < section.end && ((bytes[i] >= 0x30 && bytes[i] <= 0x39) || bytes[i] === 0x2d)) i++;
      if (count === index) return [start, i];
      count++;
    } else i++;
  }
  return null;
}

function splice(bytes, start, end, insert) {
  return Buffer.concat([
    bytes.subarray(0, start),
    Buffer.isBuffer(insert) ? insert : Buffer.from(insert, 'latin1'),
    bytes.subarray(end),
  ]);
}

function replaceAll(bytes, from, to) {
  const parts = [];
  const f = Buffer.from(from);
  const t = Buffer.from(to);
  let at = 0;
  for (;;) {
    const i = bytes.indexOf(f, at);
    if (i < 0) break;
    parts.push(bytes.subarray(at, i), t);
    at = i + f.length;
  }
  parts.push(bytes.subarray(at));
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------------------------
// Mutations. Each returns a description and changes the case in place.

const HUGE_DIGITS = '1' + '0'.repeat(400);
const BAD_NUMBERS = [
  '-1',
  '-123456',
  '4294967296',
  '4294967295',
  '9007199254740993',
  HUGE_DIGITS,
  'abc',
  '1.5',
  '1e9',
  '',
  'null',
  '"7"',
  '-0',
  '0',
];

function badNumber(r) {
  return r.pick(BAD_NUMBERS);
}

/** The numeric sections and how to address a row's field in them. */
function fieldIndex(layout, section, row, field) {
  const meta = layout.header.meta;
  const fields =
    section === 'nodes'
      ? meta.node_fields
      : section === 'edges'
        ? meta.edge_fields
        : section === 'locations'
          ? meta.location_fields || []
          : meta.trace_function_info_fields || [];
  const off = fields.indexOf(field);
  return off < 0 ? -1 : row * fields.length + off;
}

function rowCount(layout, section) {
  const h = layout.header;
  const meta = h.meta;
  if (section === 'nodes') return h.node_count;
  if (section === 'edges') return h.edge_count;
  if (section === 'locations') return 200;
  if (section === 'trace_function_infos') return Math.max(1, h.trace_function_count || 1);
  void meta;
  return 1;
}

const snapshotMutations = {
  truncate(c, r) {
    const at = r.chance(0.2) ? r.int(4096) : r.int(c.bytes.length);
    c.bytes = c.bytes.subarray(0, at);
    return `truncated at ${at}`;
  },
  flipBytes(c, r) {
    const n = 1 + r.int(16);
    const b = Buffer.from(c.bytes);
    for (let i = 0; i < n; i++) b[r.int(b.length)] = r.int(256);
    c.bytes = b;
    return `${n} random bytes`;
  },
  flipHeaderBytes(c, r) {
    const s = c.layout.sections.snapshot;
    const b = Buffer.from(c.bytes);
    const n = 1 + r.int(4);
    for (let i = 0; i < n; i++)
      b[s.start + r.int(s.end - s.start)] = r.pick([
        0x22,
        0x2c,
        0x5b,
        0x5d,
        0x7b,
        0x7d,
        0x30,
        0x2d,
        0x0a,
        0x00,
        0xff,
        r.int(256),
      ]);
    c.bytes = b;
    return `${n} header bytes`;
  },
  garbageInsert(c, r) {
    const at = r.int(c.bytes.length);
    const len = 1 + r.int(r.chance(0.2) ? 5000 : 40);
    const g = Buffer.alloc(len);
    for (let i = 0; i < len; i++) g[i] = r.int(256);
    c.bytes = splice(c.bytes, at, at, g);
    return `${len} garbage bytes at ${at}`;
  },
  deleteRange(c, r) {
    const at = r.int(c.bytes.length);
    const len = 1 + r.int(r.chance(0.3) ? 200000 : 50);
    c.bytes = splice(c.bytes, at, Math.min(c.bytes.length, at + len), '');
    return `deleted ${len} bytes at ${at}`;
  },
  numberChange(c, r) {
    const section = r.pick([
      'nodes',
      'nodes',
      'edges',
      'edges',
      'locations',
      'trace_function_infos',
      'samples',
      'trace_tree',
    ]);
    const s = c.layout.sections[section];
    if (!s) return snapshotMutations.flipBytes(c, r);
    const idx = r.int(section === 'nodes' || section === 'edges' ? rowCount(c.layout, section) * 3 : 500);
    const span = numberAt(c.bytes, s, idx);
    if (!span) return snapshotMutations.truncate(c, r);
    const v = badNumber(r);
    c.bytes = splice(c.bytes, span[0], span[1], v);
    return `${section} value ${idx} -> ${v.slice(0, 20)}`;
  },
  fieldChange(c, r) {
    // A named field of a random row: sizes, edge counts, names, targets, ids.
    const choices = [
      ['nodes', 'self_size', () => r.pick(['-1', '-5000000', HUGE_DIGITS, '1e400', '9007199254740993', 'x'])],
      ['nodes', 'edge_count', () => r.pick(['100000000', '4294967295', '-1', String(1 + r.int(1000)), '0'])],
      ['nodes', 'name', () => r.pick(['4294967295', '99999999', '-1', String(1e6 + r.int(1e6))])],
      ['nodes', 'type', () => r.pick(['255', '99', '-1', '4294967296'])],
      ['nodes', 'id', () => r.pick(['-1', '4294967296', '0'])],
      ['nodes', 'trace_node_id', () => r.pick(['4294967295', '-1', '123456789'])],
      ['nodes', 'detachedness', () => r.pick(['7', '-1', '300'])],
      [
        'edges',
        'to_node',
        (old) =>
          r.pick([
            '-7',
            '-1',
            String(Number(old) + 1),
            String(c.layout.header.node_count * c.layout.header.meta.node_fields.length),
            '4294967295',
            HUGE_DIGITS,
          ]),
      ],
      ['edges', 'name_or_index', () => r.pick(['4294967295', '99999999', '-1', String(2e6 + r.int(1e6))])],
      ['edges', 'type', () => r.pick(['255', '99', '-1'])],
      ['locations', 'object_index', () => r.pick(['1', '-7', '4294967295', '99999999'])],
      ['locations', 'script_id', () => r.pick(['-1', '4294967296'])],
      ['locations', 'line', () => r.pick(['-1', '4294967295', HUGE_DIGITS])],
      ['trace_function_infos', 'script_name', () => r.pick(['4294967295', '99999999', '-1'])],
      ['trace_function_infos', 'name', () => r.pick(['4294967295', '99999999'])],
      ['trace_function_infos', 'line', () => r.pick(['-1', '4294967295'])],
    ];
    const [section, field, value] = r.pick(choices);
    const s = c.layout.sections[section];
    const row = r.int(rowCount(c.layout, section));
    const idx = fieldIndex(c.layout, section, row, field);
    const span = s && idx >= 0 ? numberAt(c.bytes, s, idx) : null;
    if (!span) return snapshotMutations.numberChange(c, r);
    const v = value(c.bytes.toString('latin1', span[0], span[1]));
    c.bytes = splice(c.bytes, span[0], span[1], v);
    return `${section}[${row}].${field} -> ${v.slice(0, 20)}`;
  },
  traceTree(c, r) {
    const s = c.layout.sections.trace_tree;
    if (!s) return snapshotMutations.fieldChange(c, r);
    const kind = r.int(5);
    if (kind === 0) {
      c.bytes = splice(
        c.bytes,
        s.start,
        s.end,
        r.pick([
          '[1,2]',
          '[[]]',
          '[1,999999,0,0,[]]',
          '[1,0,0,0,[2,4294967295,0,0,[]]]',
          '5',
          '"x"',
          '[-1,-1,0,0,[]]',
          '[' + '['.repeat(5000) + ']'.repeat(5000) + ']',
        ]),
      );
      return 'trace_tree replaced';
    }
    if (kind === 1) {
      // Function info index out of range.
      const span = numberAt(c.bytes, s, 1 + 5 * r.int(50));
      if (!span) return 'no trace tree number';
      c.bytes = splice(c.bytes, span[0], span[1], r.pick(['999999', '4294967295', '-3']));
      return 'trace_tree function index out of range';
    }
    const b = Buffer.from(c.bytes);
    const n = 1 + r.int(4);
    for (let i = 0; i < n; i++) b[s.start + r.int(s.end - s.start)] = r.pick([0x5b, 0x5d, 0x2c, 0x2d, 0x30]);
    c.bytes = b;
    return 'trace_tree brackets';
  },
  renameSection(c, r) {
    const names = Object.keys(c.layout.sections);
    const name = r.pick(names);
    const s = c.layout.sections[name];
    let to;
    const kind = r.int(6);
    if (kind === 0) to = name.slice(0, -1) + 'z';
    else if (kind === 1) to = '';
    else if (kind === 2) to = r.pick(names);
    else if (kind === 3) to = 'x'.repeat(100 + r.int(5000));
    else {
      const len = 1 + r.int(kind === 4 ? 40 : 4000);
      const g = Buffer.alloc(len);
      for (let i = 0; i < len; i++) {
        g[i] = r.int(256);
        if (g[i] === 0x22) g[i] = 0x0a;
      }
      c.bytes = splice(c.bytes, s.keyAt + 1, s.keyAt + 1 + name.length, g);
      return `section "${name}" renamed to ${len} random bytes`;
    }
    c.bytes = splice(c.bytes, s.keyAt + 1, s.keyAt + 1 + name.length, to);
    return `section "${name}" renamed to "${to.slice(0, 20)}"`;
  },
  metaChange(c, r) {
    const s = c.layout.sections.snapshot;
    const h = JSON.parse(c.bytes.toString('utf8', s.start, s.end));
    const RAW = '"@@RAW@@"';
    let raw = null;
    const edits = [
      () => (h.meta.location_fields = []),
      () => (h.meta.location_fields = ['object_index']),
      () => (h.meta.location_fields = 5),
      () => (h.meta.node_fields = []),
      () => (h.meta.node_fields = h.meta.node_fields.filter((f) => f !== r.pick(h.meta.node_fields))),
      () => h.meta.node_fields.push('extra'),
      () => (h.meta.node_fields = 'type'),
      () => (h.meta.node_types = []),
      () => (h.meta.node_types = [[]]),
      () => (h.meta.node_types = 'x'),
      () => (h.meta.edge_types = [5]),
      () => (h.meta.edge_fields = ['type']),
      () => (h.meta.trace_node_fields = []),
      () => (h.meta.trace_node_fields = ['x']),
      () => (h.meta.trace_function_info_fields = []),
      () => (h.meta.trace_function_info_fields = ['name']),
      () => (h.meta.sample_fields = []),
      () => (h.meta = null),
      () => (h.meta = 5),
      () => (h.node_count += r.pick([1, -1, 1000])),
      () => (h.node_count = r.pick([0, -1, 2 ** 40, '12', 1.5, null])),
      () => (h.edge_count += r.pick([1, -1, 1000])),
      () => (h.edge_count = r.pick([-1, 2 ** 33, '12', 1.5, null])),
      () => (h.trace_function_count = r.pick([-1, 'x', 2 ** 40, null])),
      () => (h.extra_native_bytes = r.pick(['123', -5e9, null, {}, [], true, 1.5])),
      () => {
        h.extra_native_bytes = '@@RAW@@';
        raw = HUGE_DIGITS;
      },
      () => {
        h.node_count = '@@RAW@@';
        raw = HUGE_DIGITS;
      },
    ];
    const i = r.int(edits.length);
    edits[i]();
    let text = JSON.stringify(h);
    if (raw) text = text.replace(RAW, raw);
    c.bytes = splice(c.bytes, s.start, s.end, Buffer.from(text));
    return `meta edit ${i}`;
  },
};

/** Paths that must never be followed: FIFOs, devices, folders, huge files. Made once in `dir`. */
function makeHostilePaths(dir) {
  const fifo = path.join(dir, 'fifo.js');
  const mapFifo = path.join(dir, 'fifo.js.map');
  for (const f of [fifo, mapFifo]) {
    const r = spawnSync('mkfifo', [f]);
    if (r.status !== 0) throw new Error(`mkfifo failed: ${r.stderr}`);
  }
  const folder = path.join(dir, 'folder.js');
  fs.mkdirSync(folder);
  // Sparse files: large to a reader, no space on disk.
  const huge = path.join(dir, 'huge.js');
  const hugeMap = path.join(dir, 'huge.js.map');
  for (const f of [huge, hugeMap]) {
    const fd = fs.openSync(f, 'w');
    fs.ftruncateSync(fd, 40 << 20);
    fs.closeSync(fd);
  }
  const newline = path.join(dir, 'new\nline\u001b[31m.js');
  fs.writeFileSync(newline, 'const a = [];\n');
  return {
    fifo,
    mapFifo,
    folder,
    huge,
    hugeMap,
    newline,
    devZero: '/dev/zero',
    devRandom: '/dev/urandom',
    missing: path.join(dir, 'missing.js'),
  };
}

function sidecarMutation(c, r, hostile, appPath) {
  let meta;
  try {
    meta = JSON.parse(c.sidecar);
  } catch {
    meta = {};
  }
  const target = () =>
    r.pick([
      hostile.fifo,
      hostile.mapFifo,
      hostile.folder,
      hostile.huge,
      hostile.hugeMap,
      hostile.newline,
      hostile.devZero,
      hostile.devRandom,
      hostile.missing,
    ]);
  const kind = r.int(12);
  const script = () => (meta.scripts || []).find((s) => s && typeof s.url === 'string' && s.url.includes('basic-leak'));
  let what;
  if (kind === 0) {
    const t = target();
    const sc = script();
    if (sc) sc.sourceMapURL = r.pick([t, 'file://' + t, path.relative(path.dirname(appPath), t)]);
    what = `sourceMapURL -> ${JSON.stringify(t)}`;
  } else if (kind === 1) {
    const t = target();
    const sc = script();
    if (sc) sc.url = r.chance(0.5) ? 'file://' + t : t;
    what = `script url -> ${JSON.stringify(t)}`;
  } else if (kind === 2) {
    meta.scripts = r.pick([
      5,
      null,
      'x',
      {},
      [5],
      [null],
      [{ scriptId: {}, url: 5 }],
      [{ scriptId: '1', url: ['a'] }],
      [{ url: 'x'.repeat(100000), sourceMapURL: 7 }],
    ]);
    what = 'scripts shape';
  } else if (kind === 3) {
    meta.memoryUsage = r.pick([
      null,
      5,
      'x',
      {},
      { rss: -1, heapTotal: 1, heapUsed: 1, external: 1, arrayBuffers: 1 },
      { rss: 'x' },
      { rss: '@@HUGE@@' },
      { ...meta.memoryUsage, heapUsed: -5 },
      { ...meta.memoryUsage, external: null },
    ]);
    what = 'memoryUsage';
  } else if (kind === 4) {
    meta.pid = r.pick(['x', -1, 1.5, {}, null, 123456789, '@@HUGE@@']);
    what = 'pid';
  } else if (kind === 5) {
    meta.label = r.pick(['x'.repeat(100000), 'a\nb\u001b[31mc\r\u0000', 5, {}, ['a']]);
    what = 'label';
  } else if (kind === 6) {
    meta.time = r.pick([5, {}, 'yesterday\nnoon', 'x'.repeat(50000)]);
    meta.sessionId = r.pick([5, {}, null, 'other-session', 'a\nb']);
    what = 'time/sessionId';
  } else if (kind === 7) {
    c.sidecarRaw = r.pick([
      '',
      'null',
      '5',
      '[]',
      '{',
      '{"scripts":[',
      '"x"',
      '\u0000\u0001',
      '{"pid":' + HUGE_DIGITS + '}',
    ]);
    return 'sidecar text replaced';
  } else if (kind === 8) {
    c.sidecarKind = r.pick(['fifo', 'folder', 'devzero', 'huge']);
    return `sidecar is a ${c.sidecarKind}`;
  } else if (kind === 9) {
    // Many scripts, each with a hostile source map.
    meta.scripts = Array.from({ length: 50 }, (_, i) => ({
      scriptId: String(i),
      url: appPath,
      sourceMapURL: target(),
    }));
    what = 'many hostile maps';
  } else if (kind === 10) {
    const sc = script();
    if (sc)
      sc.sourceMapURL =
        'data:application/json;base64,' +
        r.pick(['!!!!', Buffer.from('{"version":3,"mappings":"' + 'A'.repeat(1000) + '"}').toString('base64'), '']);
    what = 'data: source map';
  } else {
    meta.allocationTracking = 'yes';
    meta.formatVersion = -1;
    meta.fileSize = 'x';
    what = 'misc fields';
  }
  c.sidecar = JSON.stringify(meta).replace(/"@@HUGE@@"/g, HUGE_DIGITS);
  return what;
}

/** Renames script names inside the snapshot (the strings section) to a hostile path. */
function scriptNameMutation(c, r, hostile, appPath) {
  const t = r.pick([
    hostile.fifo,
    hostile.folder,
    hostile.huge,
    hostile.newline,
    hostile.devZero,
    hostile.devRandom,
    hostile.missing,
  ]);
  const escaped = JSON.stringify(t).slice(1, -1);
  c.bytes = replaceAll(c.bytes, appPath, escaped);
  c.sidecar = c.sidecar
    .split(JSON.stringify('file://' + appPath).slice(1, -1))
    .join(JSON.stringify('file://' + t).slice(1, -1))
    .split(JSON.stringify(appPath).slice(1, -1))
    .join(escaped);
  return `script name -> ${JSON.stringify(t)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Running and classifying.

const BAD = ['crash', 'hang', 'runaway memory', 'messy message', 'impossible figure'];
const CLASSES = ['ok', 'clean error', ...BAD];

/** A process's scheduler state (R running, S sleeping, D disk wait, Z exited) and CPU ticks used, or null if gone. */
function procStat(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: f[0], ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return null;
  }
}

/** Whether every thread of the process sleeps (state S); a process that is gone counts as asleep. */
function allThreadsAsleep(pid) {
  let tids;
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return true;
  }
  for (const tid of tids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'S') return false;
    } catch {
      /* the thread ended */
    }
  }
  return true;
}

/** Each thread's name, state and wait channel, to say where a process that was killed as hung was waiting. */
function threadsOf(pid) {
  try {
    return fs
      .readdirSync(`/proc/${pid}/task`)
      .map((tid) => {
        const read = (f) => {
          try {
            return fs.readFileSync(`/proc/${pid}/task/${tid}/${f}`, 'utf8').trim();
          } catch {
            return '?';
          }
        };
        const stat = read('stat');
        const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
        return `${read('comm')} ${state} ${read('wchan')}`;
      })
      .join(', ');
  } catch {
    return 'its threads could not be read';
  }
}

function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Children running now, stopped if the fuzzer itself is interrupted. */
const active = new Set();

function runCli(opts, args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [opts.bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    active.add(child);
    const out = [];
    const err = [];
    let outLen = 0;
    child.stdout.on('data', (d) => {
      if (outLen < 64 << 20) out.push(d);
      outLen += d.length;
    });
    child.stderr.on('data', (d) => err.push(d));
    let killed = null;
    let stuck = '';
    let peak = 0;
    // A hang is a process that makes no progress: blocked on a FIFO it sleeps and uses no CPU at all. On a loaded
    // machine a working process waits to run (state R) or for the disk (D) rather than sleeps, so "asleep with no
    // new CPU time for `idle` seconds" tells a hang from slowness; an exited process (Z, or gone before its
    // 'close' event) is not hung; a process that spins is caught by the wall-clock limit. Idle time is counted in
    // samples taken close together: when this fuzzer itself was held up (building a case on a loaded machine) the
    // gap tells nothing about the child, which may only have waited for its output to be read. Every thread must
    // sleep: a main thread waiting on one of V8's threads that is ready to run but gets no CPU (a machine loaded
    // far beyond its cores) is slow, not hung.
    let lastTicks = -1;
    let idleSamples = 0;
    let lastSample = Date.now();
    let exited = false;
    child.on('exit', () => (exited = true));
    const sampler = setInterval(() => {
      const rss = rssOf(child.pid);
      peak = Math.max(peak, rss);
      if (rss > opts.rssLimitMb * 1024 * 1024 && !killed) {
        killed = 'memory';
        child.kill('SIGKILL');
      }
      const st = exited ? null : procStat(child.pid);
      const now = Date.now();
      const gap = now - lastSample;
      lastSample = now;
      if (!st || st.state !== 'S' || st.ticks !== lastTicks || gap > 500 || !allThreadsAsleep(child.pid)) {
        lastTicks = st ? st.ticks : -1;
        idleSamples = 0;
      } else if (++idleSamples >= opts.idle * 10 && !killed) {
        killed = 'time';
        stuck = `asleep with no CPU for ${opts.idle} s; ${threadsOf(child.pid)}`;
        child.kill('SIGKILL');
      }
    }, 100);
    const timer = setTimeout(() => {
      if (!killed) {
        killed = 'time';
        stuck = `still running after ${opts.timeout} s; ${threadsOf(child.pid)}`;
        child.kill('SIGKILL');
      }
    }, opts.timeout * 1000);
    child.on('close', (code, signal) => {
      active.delete(child);
      clearInterval(sampler);
      clearTimeout(timer);
      resolve({
        code,
        signal,
        killed,
        stuck,
        peak,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

const SIZE_KEY =
  /(size|count|Size|Count|^rss$|^heapTotal$|^heapUsed$|^external$|^arrayBuffers$|^counts$|^sizes$|^countSeries$|^newPerRound$|^instances$)/;

/** Sizes and counts in a JSON report that no real heap can have: negative, null, not a number. */
function impossibleFigures(value, where = '', found = []) {
  if (Array.isArray(value)) value.forEach((v, i) => impossibleFigures(v, `${where}[${i}]`, found));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (SIZE_KEY.test(k)) {
        const check = (x, w) => {
          if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) found.push(`${w} = ${JSON.stringify(x)}`);
        };
        if (Array.isArray(v)) v.forEach((x, i) => check(x, `${where}.${k}[${i}]`));
        else if (v === null || typeof v !== 'object') check(v, `${where}.${k}`);
        else if (k === 'memoryUsage') impossibleFigures(v, `${where}.${k}`, found);
      }
      if (k === 'memoryUsage' && v && typeof v === 'object') {
        for (const [mk, mv] of Object.entries(v))
          if (typeof mv !== 'number' || !Number.isFinite(mv) || mv < 0)
            found.push(`${where}.memoryUsage.${mk} = ${JSON.stringify(mv)}`);
      } else if (v && typeof v === 'object') impossibleFigures(v, `${where}.${k}`, found);
    }
  }
  return found;
}

function oneLineProblem(text) {
  if (text.length > 500) return `${text.length} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(text)) return 'control characters';
  return null;
}

/** Classifies one CLI run. `token` is a piece of the file name that a message about it must contain. */
function classify(run, token, smallInput) {
  if (run.killed === 'time')
    return {
      cls: 'hang',
      detail: `killed: ${run.stuck}; stderr so far: ${JSON.stringify(run.stderr.slice(-200))}`,
    };
  if (run.killed === 'memory') return { cls: 'runaway memory', detail: `RSS ${Math.round(run.peak / 2 ** 20)} MB` };
  const stackTrace = /\n\s+at .+(\(|:\d+:\d+)/.test(run.stderr) || /^\s+at /m.test(run.stderr);
  if (run.signal || ![0, 1, 2].includes(run.code) || stackTrace)
    return { cls: 'crash', detail: `exit ${run.code ?? run.signal}: ${run.stderr.slice(0, 300)}` };
  if (run.code === 2) {
    const lines = run.stderr.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    if (lines.length !== 1)
      return { cls: 'messy message', detail: `${lines.length} lines: ${run.stderr.slice(0, 200)}` };
    const line = lines[0];
    const problem = oneLineProblem(line);
    if (problem) return { cls: 'messy message', detail: `${problem}: ${line.slice(0, 200)}` };
    if (!line.startsWith('leak-lens: ')) return { cls: 'messy message', detail: `no prefix: ${line}` };
    if (!line.includes(token)) return { cls: 'messy message', detail: `does not name the file: ${line}` };
    if (smallInput && /memory/i.test(line))
      return { cls: 'messy message', detail: `memory advice for a small corrupt file: ${line}` };
    return { cls: 'clean error', detail: line };
  }
  let report;
  try {
    report = JSON.parse(run.stdout);
  } catch {
    return { cls: 'crash', detail: `exit ${run.code} without a JSON report: ${run.stdout.slice(0, 200)}` };
  }
  if (run.stderr.trim())
    return { cls: 'messy message', detail: `exit ${run.code} with stderr: ${run.stderr.slice(0, 200)}` };
  for (const w of report.warnings || []) {
    const problem = typeof w !== 'string' ? 'not a string' : oneLineProblem(w);
    if (problem) return { cls: 'messy message', detail: `warning with ${problem}: ${String(w).slice(0, 200)}` };
  }
  const bad = impossibleFigures(report);
  if (bad.length) return { cls: 'impossible figure', detail: bad.slice(0, 3).join('; ') };
  return { cls: 'ok', detail: '' };
}

// ---------------------------------------------------------------------------------------------------------------

/** Writes one case into `dir` and returns the CLI argument lists to run on it. */
function buildCase(n, seed, bases, hostile, dir, appPath) {
  const r = rng((seed ^ Math.imul(n + 1, 0x9e3779b1)) >>> 0);
  const base = r.pick(bases);
  const mutated = r.int(2); // which of the two snapshots is mutated
  const c = {
    bytes: base[mutated].bytes,
    layout: base[mutated].layout,
    sidecar: base[mutated].sidecar,
    sidecarRaw: null,
    sidecarKind: null,
  };
  const token = `case-${n}`;
  let name = `${token}.heapsnapshot`;
  let pathKind = null;
  const descriptions = [];
  const roll = r.next();
  let runSummary = true;
  if (roll < 0.55) {
    const names = Object.keys(snapshotMutations);
    const count = r.chance(0.8) ? 1 : 2;
    for (let i = 0; i < count; i++) {
      if (i > 0) {
        // The first mutation moved things: find the sections again, or fall back to plain byte changes.
        try {
          c.layout = layoutOf(c.bytes);
        } catch {
          descriptions.push(snapshotMutations.flipBytes(c, r));
          continue;
        }
      }
      try {
        descriptions.push(snapshotMutations[r.pick(names)](c, r));
      } catch {
        descriptions.push(snapshotMutations.flipBytes(c, r));
      }
    }
  } else if (roll < 0.65) {
    descriptions.push(scriptNameMutation(c, r, hostile, appPath));
    runSummary = false;
  } else if (roll < 0.88) {
    // Sidecar scripts are read from the last snapshot's sidecar.
    const last = base[1];
    c.bytes = last.bytes;
    c.sidecar = last.sidecar;
    c.layout = last.layout;
    descriptions.push(sidecarMutation(c, r, hostile, appPath));
    runSummary = false;
    c.isLast = true;
  } else if (roll < 0.95) {
    pathKind = r.pick(['fifo', 'folder', 'devzero', 'devrandom', 'missing', 'fifo-link', 'empty']);
    descriptions.push(`snapshot path is ${pathKind}`);
  } else {
    name = r.pick([
      `${token}\nsecond line.heapsnapshot`,
      `${token}\u001b[31mred\u0007.heapsnapshot`,
      `${token}\r${'x'.repeat(200)}.heapsnapshot`,
    ]);
    snapshotMutations[r.pick(['truncate', 'flipHeaderBytes', 'renameSection'])](c, r);
    descriptions.push(`file name ${JSON.stringify(name).slice(0, 40)}`);
  }
  const mutatedIndex = c.isLast ? 1 : mutated;
  const file = path.join(dir, name);
  if (pathKind === 'fifo') spawnSync('mkfifo', [file]);
  else if (pathKind === 'folder') fs.mkdirSync(file);
  else if (pathKind === 'devzero') fs.symlinkSync('/dev/zero', file);
  else if (pathKind === 'devrandom') fs.symlinkSync('/dev/urandom', file);
  else if (pathKind === 'fifo-link') fs.symlinkSync(hostile.fifo, file);
  else if (pathKind === 'empty') fs.writeFileSync(file, '');
  else if (pathKind !== 'missing') fs.writeFileSync(file, c.bytes);
  if (!pathKind) {
    const sidecar = file + '.meta.json';
    if (c.sidecarKind === 'fifo') spawnSync('mkfifo', [sidecar]);
    else if (c.sidecarKind === 'folder') fs.mkdirSync(sidecar);
    else if (c.sidecarKind === 'devzero') fs.symlinkSync('/dev/zero', sidecar);
    else if (c.sidecarKind === 'huge') fs.symlinkSync(hostile.huge, sidecar);
    else fs.writeFileSync(sidecar, c.sidecarRaw ?? c.sidecar);
  }
  // The other snapshot of the pair, unchanged (a hard link: no copy).
  const other = path.join(dir, `${token}-other.heapsnapshot`);
  const otherBase = base[1 - mutatedIndex];
  fs.linkSync(otherBase.file, other);
  fs.linkSync(otherBase.file + '.meta.json', other + '.meta.json');
  const pair = mutatedIndex === 0 ? [file, other] : [other, file];
  const runs = [];
  if (runSummary) runs.push(['summary', file, '--format', 'json']);
  runs.push(['analyze', ...pair, '--format', 'json']);
  return { token, description: descriptions.join('; '), runs };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-lens-fuzz-'));
  const cleanup = () => fs.rmSync(tmp, { recursive: true, force: true });
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      for (const child of active) child.kill('SIGKILL');
      cleanup();
      process.exit(130);
    });
  }
  const log = opts.log ? fs.openSync(opts.log, 'w') : null;
  const counts = Object.fromEntries(CLASSES.map((k) => [k, 0]));
  const examples = Object.fromEntries(BAD.map((k) => [k, []]));
  let runsDone = 0;
  const started = Date.now();
  try {
    const appPath = path.join(root, 'test', 'fixtures', 'apps', 'basic-leak.js');
    const bases = [makeBase(path.join(tmp, 'base-tracked'), true), makeBase(path.join(tmp, 'base-plain'), false)];
    fs.mkdirSync(path.join(tmp, 'hostile'));
    const hostile = makeHostilePaths(path.join(tmp, 'hostile'));
    let next = opts.from;
    const worker = async () => {
      while (next < opts.from + opts.cases) {
        const n = next++;
        const dir = path.join(tmp, `case-${n}`);
        fs.mkdirSync(dir);
        try {
          const kase = buildCase(n, opts.seed, bases, hostile, dir, appPath);
          for (const args of kase.runs) {
            const run = await runCli(opts, args);
            runsDone++;
            const small = true;
            const { cls, detail } = classify(run, kase.token, small);
            counts[cls]++;
            if (BAD.includes(cls) && examples[cls].length < 8)
              examples[cls].push(`case ${n} ${args[0]} (${kase.description}): ${detail.slice(0, 800)}`);
            if (log !== null)
              fs.writeSync(
                log,
                JSON.stringify({
                  case: n,
                  command: args[0],
                  class: cls,
                  mutation: kase.description,
                  detail: detail.slice(0, 800),
                }) + '\n',
              );
            if (opts.verbose)
              process.stderr.write(
                `case ${n} ${args[0]} [${kase.description}] -> ${cls} ${detail.slice(0, 200).replace(/\n/g, '\\n')}\n`,
              );
          }
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
        if (!opts.json && !opts.verbose && (n + 1) % 100 === 0)
          process.stderr.write(`fuzz: case ${n + 1} of ${opts.from + opts.cases}\n`);
      }
    };
    await Promise.all(Array.from({ length: opts.jobs }, worker));
  } finally {
    cleanup();
    if (log !== null) fs.closeSync(log);
  }
  const bad = BAD.reduce((s, k) => s + counts[k], 0);
  const result = {
    cases: opts.cases,
    runs: runsDone,
    seed: opts.seed,
    seconds: Math.round((Date.now() - started) / 1000),
    counts,
    examples,
    bad,
    tempRemoved: !fs.existsSync(tmp),
  };
  if (opts.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else {
    process.stdout.write(
      `fuzz: ${opts.cases} cases (${opts.from} to ${opts.from + opts.cases - 1}), ${runsDone} runs, seed ${opts.seed}, ${result.seconds} s\n`,
    );
    for (const k of CLASSES) process.stdout.write(`  ${k.padEnd(18)} ${counts[k]}\n`);
    for (const k of BAD)
      for (const e of examples[k])
        process.stdout.write(
          `  [${k}] ${e.replace(/[\u0000-\u001f]/g, (ch) => '\\x' + ch.charCodeAt(0).toString(16).padStart(2, '0'))}\n`,
        );
  }
  return bad > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`fuzz: ${e && e.stack ? e.stack : e}\n`);
    process.exitCode = 2;
  },
);
