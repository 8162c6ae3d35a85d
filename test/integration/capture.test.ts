// Integration tests of the capture library against real `node --inspect` child processes.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  attachToPid,
  CaptureSession,
  launchForCapture,
  launchProgram,
  resolveTarget,
  type LaunchedProgram,
  type SnapshotSidecar,
} from '../../src/capture';
import type { MemorySample } from '../../protocol/memory';
import { loadAnalysis } from '../../engine/analysis';
import { digestSnapshot } from '../../engine/leaks';
import { buildLeakReport } from '../../engine/report';

// A hung test fails instead of blocking the run; each normally takes about a second.
const testTimeoutMs = 30_000;

// The target programs, written into a fresh directory by each test.
const leakyProgram = `
class Leaky {
  constructor(n) { this.n = n; this.label = 'leaky-' + n; }
}
const leaks = [];
function grow(count) {
  for (let i = 0; i < count; i++) leaks.push(new Leaky(leaks.length));
}
grow(Number(process.env.LEAKY_START || 1000));
let ticks = 0;
setInterval(function tick() {
  grow(50);
  ticks++;
  if (process.env.LEAKY_TICKS) console.log('tick ' + ticks);
}, 20);
console.log('ready');
`;

const garbageProgram = `
let junk = [];
for (let i = 0; i < 300000; i++) junk.push({ i, text: 'garbage-' + i });
junk = null;
setInterval(() => {}, 1000);
console.log('ready');
`;

/** Collects a child's output and resolves waits when a pattern shows up in it. */
class OutputWatcher {
  text = '';
  private waiters: { pattern: RegExp; resolve(match: RegExpExecArray): void }[] = [];

  readonly onData = (data: Buffer): void => {
    this.text += data.toString();
    this.waiters = this.waiters.filter((waiter) => {
      const match = waiter.pattern.exec(this.text);
      if (match) waiter.resolve(match);
      return !match;
    });
  };

  /** Resolves on the first match; the timeout only guards against a hung test, it is not a delay. */
  waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
    const match = pattern.exec(this.text);
    if (match) return Promise.resolve(match);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${pattern} in the output within ${timeoutMs} ms; output so far:\n${this.text}`)),
        timeoutMs,
      );
      this.waiters.push({
        pattern,
        resolve: (found) => {
          clearTimeout(timer);
          resolve(found);
        },
      });
    });
  }
}

interface Fixture {
  dir: string;
  write(name: string, source: string): string;
  /** Pids that must be gone when the test ends. */
  pids: number[];
}

function fixture(t: TestContext): Fixture {
  const dir = mkdtempSync(path.join(tmpdir(), 'leak-lens-capture-'));
  const pids: number[] = [];
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
    for (const pid of pids) assert.equal(isAlive(pid), false, `process ${pid} outlived its test`);
  });
  return {
    dir,
    pids,
    write(name, source) {
      const file = path.join(dir, name);
      writeFileSync(file, source);
      return file;
    },
  };
}

/** Whether a process still runs. A zombie counts as gone: it holds nothing but a pid until its parent reaps it. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}

/** Launches the leaky program and opens a session on it once its first objects exist. */
async function startLeaky(
  f: Fixture,
  env: Record<string, string> = {},
): Promise<{ program: LaunchedProgram; session: CaptureSession; output: OutputWatcher; script: string }> {
  const script = f.write('leaky.js', leakyProgram);
  const output = new OutputWatcher();
  const { program, session } = await launchForCapture({
    args: [script],
    cwd: f.dir,
    env,
    onStdout: output.onData,
    onStderr: output.onData,
  });
  f.pids.push(program.pid);
  await output.waitFor(/^ready$/m);
  return { program, session, output, script };
}

async function finish(session: CaptureSession | undefined, program: LaunchedProgram | undefined): Promise<void> {
  await session?.close();
  await program?.stop();
}

interface ParsedSnapshot {
  snapshot: { meta: { node_fields: string[] }; node_count: number };
  nodes: number[];
  strings: string[];
  trace_function_infos: number[];
  trace_tree: unknown[];
}

function readSnapshot(file: string): ParsedSnapshot {
  return JSON.parse(readFileSync(file, 'utf8')) as ParsedSnapshot;
}

/** The ids of every node with the given name, looked up by field name as the format asks. */
function idsNamed(snapshot: ParsedSnapshot, name: string): Set<number> {
  const fields = snapshot.snapshot.meta.node_fields;
  const nameOffset = fields.indexOf('name');
  const idOffset = fields.indexOf('id');
  const nameIndex = snapshot.strings.indexOf(name);
  const ids = new Set<number>();
  for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
    if (snapshot.nodes[i + nameOffset] === nameIndex) ids.add(snapshot.nodes[i + idOffset]);
  }
  return ids;
}

/** Waits until the leaky program has run `count` more intervals than it had when called. */
function moreTicks(output: OutputWatcher, count: number): Promise<unknown> {
  const seen = [...output.text.matchAll(/tick (\d+)\n/g)].map((m) => Number(m[1]));
  const now = seen.length > 0 ? Math.max(...seen) : 0;
  return output.waitFor(new RegExp(`tick ${now + count}\\n`));
}

function leftoverFiles(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.includes('.heapsnapshot'));
}

void test(
  'launches a program and reads its inspector URL; host:port finds the same target',
  { timeout: testTimeoutMs },
  async (t) => {
    const f = fixture(t);
    const script = f.write('leaky.js', leakyProgram);
    const output = new OutputWatcher();
    const program = await launchProgram({ args: [script], onStdout: output.onData, onStderr: output.onData });
    f.pids.push(program.pid);
    try {
      assert.match(program.url, /^ws:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]+$/);
      await output.waitFor(/^ready$/m);
      assert.match(output.text, /Debugger listening on ws:\/\//, 'the inspector lines are forwarded too');
      const port = Number(new URL(program.url).port);
      const byHostPort = await resolveTarget(`127.0.0.1:${port}`);
      assert.equal(byHostPort.url, program.url);
    } finally {
      await program.stop();
    }
    assert.ok(program.exitState, 'stop() resolves after the program has exited');
  },
);

void test('a snapshot streamed to disk is valid, complete and has a sidecar', { timeout: testTimeoutMs }, async (t) => {
  const f = fixture(t);
  const { program, session, script } = await startLeaky(f);
  try {
    const file = path.join(f.dir, 'one.heapsnapshot');
    const progress: number[] = [];
    const result = await session.takeSnapshot(file, { label: 'baseline', onProgress: (done) => progress.push(done) });
    assert.equal(result.filePath, file);
    const snapshot = readSnapshot(file);
    assert.ok(snapshot.snapshot.node_count > 0);
    assert.ok(snapshot.strings.includes('Leaky'), 'the class name is among the strings');
    assert.ok(progress.length > 0, 'progress was reported');

    const meta = JSON.parse(readFileSync(`${file}.meta.json`, 'utf8')) as SnapshotSidecar;
    assert.deepEqual(meta, result.meta);
    assert.equal(meta.formatVersion, 1);
    assert.equal(meta.snapshotFile, 'one.heapsnapshot');
    assert.equal(meta.fileSize, statSync(file).size);
    assert.equal(meta.sessionId, session.id);
    assert.equal(meta.sequence, 1);
    assert.equal(meta.pid, program.pid);
    assert.equal(meta.nodeVersion, process.version);
    assert.equal(meta.platform, process.platform);
    assert.equal(meta.label, 'baseline');
    assert.equal(meta.method, 'cdp');
    assert.equal(meta.allocationTracking, false);
    assert.equal(meta.forcedGc, true);
    assert.equal(meta.inspectorUrl, program.url);
    assert.equal(meta.targetId, program.url.split('/').pop());
    assert.ok(!Number.isNaN(Date.parse(meta.time)) && meta.time.endsWith('Z'));
    assert.ok((meta.memoryUsage?.heapUsed ?? 0) > 0 && (meta.memoryUsage?.rss ?? 0) > 0);
    // The inspector names CommonJS scripts by file URL (heap snapshots themselves use the plain path).
    const own = meta.scripts.find((s) => s.url === pathToFileURL(script).href);
    assert.ok(own, 'the target script is in the scripts list');
    assert.match(own.scriptId, /^\d+$/);
    assert.deepEqual(leftoverFiles(f.dir).sort(), ['one.heapsnapshot', 'one.heapsnapshot.meta.json']);

    await assert.rejects(
      session.takeSnapshot(path.join(f.dir, 'missing', 'two.heapsnapshot')),
      /cannot write a snapshot beside .*missing.*ENOENT/,
    );
  } finally {
    await finish(session, program);
  }
});

void test('two snapshots of one session give surviving objects the same ids', { timeout: testTimeoutMs }, async (t) => {
  const f = fixture(t);
  const { program, session, output } = await startLeaky(f, { LEAKY_TICKS: '1' });
  try {
    const first = await session.takeSnapshot(path.join(f.dir, 'a.heapsnapshot'));
    // Let the program add objects between the snapshots, so the second one is not a copy of the first.
    await moreTicks(output, 2);
    const second = await session.takeSnapshot(path.join(f.dir, 'b.heapsnapshot'));
    assert.equal(second.meta.sequence, 2);
    assert.equal(second.meta.sessionId, first.meta.sessionId);

    const before = idsNamed(readSnapshot(first.filePath), 'Leaky');
    const after = idsNamed(readSnapshot(second.filePath), 'Leaky');
    assert.ok(before.size >= 1000, `expected the first 1000 Leaky objects, found ${before.size}`);
    assert.ok(after.size > before.size, 'the program kept growing');
    const lost = [...before].filter((id) => !after.has(id));
    assert.deepEqual(lost, [], 'every object of the first snapshot keeps its id in the second');
    const newest = Math.max(...before);
    assert.ok(
      [...after].some((id) => id > newest),
      'objects allocated in between have larger ids',
    );
  } finally {
    await finish(session, program);
  }
});

void test(
  'in-process snapshots (v8.writeHeapSnapshot) keep the ids of CDP ones and get the same sidecar',
  { timeout: testTimeoutMs },
  async (t) => {
    const f = fixture(t);
    const { program, session, output, script } = await startLeaky(f, { LEAKY_TICKS: '1' });
    try {
      const streamed = await session.takeSnapshot(path.join(f.dir, 'streamed.heapsnapshot'));
      await moreTicks(output, 2);
      const file = path.join(f.dir, 'inprocess.heapsnapshot');
      const written = await session.takeSnapshot(file, { method: 'inprocess', label: 'in process' });
      assert.equal(written.meta.method, 'inprocess');
      assert.equal(written.meta.sequence, 2);
      assert.equal(written.meta.label, 'in process');
      assert.equal(written.meta.fileSize, statSync(file).size);
      assert.ok(written.meta.scripts.some((s) => s.url === pathToFileURL(script).href));

      const before = idsNamed(readSnapshot(streamed.filePath), 'Leaky');
      const after = idsNamed(readSnapshot(file), 'Leaky');
      assert.ok(after.size > before.size);
      assert.deepEqual(
        [...before].filter((id) => !after.has(id)),
        [],
        'both ways share one id map',
      );
      assert.deepEqual(leftoverFiles(f.dir).sort(), [
        'inprocess.heapsnapshot',
        'inprocess.heapsnapshot.meta.json',
        'streamed.heapsnapshot',
        'streamed.heapsnapshot.meta.json',
      ]);
    } finally {
      await finish(session, program);
    }
  },
);

void test('memory sampling yields samples until disposed', { timeout: testTimeoutMs }, async (t) => {
  const f = fixture(t);
  const { program, session } = await startLeaky(f);
  try {
    const samples: MemorySample[] = [];
    let sampler: { dispose(): void } | undefined;
    await new Promise<void>((resolve, reject) => {
      sampler = session.startSampling(
        10,
        (sample) => {
          samples.push(sample);
          if (samples.length === 3) resolve();
        },
        reject,
      );
    });
    sampler?.dispose();
    for (const sample of samples) {
      assert.ok(sample.heapUsed > 0 && sample.heapTotal >= sample.heapUsed);
      assert.ok((sample.rss ?? 0) > 0);
      assert.ok(sample.time > 0);
    }
    assert.ok(samples[2].time >= samples[0].time);
  } finally {
    await finish(session, program);
  }
});

void test('collectGarbage lowers heapUsed after garbage is made', { timeout: testTimeoutMs }, async (t) => {
  const f = fixture(t);
  const script = f.write('garbage.js', garbageProgram);
  const output = new OutputWatcher();
  const { program, session } = await launchForCapture({
    args: [script],
    onStdout: output.onData,
    onStderr: output.onData,
  });
  f.pids.push(program.pid);
  try {
    await output.waitFor(/^ready$/m);
    const before = await session.memoryUsage();
    await session.collectGarbage();
    const after = await session.memoryUsage();
    assert.ok(
      after.heapUsed < before.heapUsed * 0.7,
      `heapUsed went from ${before.heapUsed} to ${after.heapUsed}; expected a clear drop`,
    );
  } finally {
    await finish(session, program);
  }
});

void test(
  'allocation tracking fills trace_function_infos; stopping it leaves the session usable',
  { timeout: testTimeoutMs },
  async (t) => {
    const f = fixture(t);
    const { program, session, output } = await startLeaky(f, { LEAKY_TICKS: '1' });
    try {
      const functionNames = (snapshot: ParsedSnapshot): string[] => {
        const names: string[] = [];
        // trace_function_infos rows are function_id, name, script_name, script_id, line, column.
        for (let i = 0; i < snapshot.trace_function_infos.length; i += 6) {
          names.push(snapshot.strings[snapshot.trace_function_infos[i + 1]]);
        }
        return names;
      };
      const waitTicks = (): Promise<unknown> => moreTicks(output, 2);

      await session.startAllocationTracking();
      assert.equal(session.isTrackingAllocations, true);
      // Node < 22 crashes under tracking unless escape analysis is off: the guard sets it there, and only there.
      const major = Number(/^v(\d+)/.exec(session.processInfo.nodeVersion ?? '')?.[1]);
      assert.equal(
        session.trackingGuard,
        major < 22 ? 'set' : 'not-needed',
        `guard in ${session.processInfo.nodeVersion}`,
      );
      await waitTicks();
      const tracked = await session.takeSnapshot(path.join(f.dir, 'tracked.heapsnapshot'));
      assert.equal(tracked.meta.allocationTracking, true);
      const trackedSnapshot = readSnapshot(tracked.filePath);
      assert.ok(trackedSnapshot.trace_function_infos.length > 0);
      assert.ok(functionNames(trackedSnapshot).includes('grow'), 'the allocating function is named');

      // Stopping makes V8 emit a whole snapshot, which the session must swallow without writing it anywhere.
      await session.stopAllocationTracking();
      assert.equal(session.isTrackingAllocations, false);
      const plain = await session.takeSnapshot(path.join(f.dir, 'plain.heapsnapshot'));
      assert.equal(plain.meta.allocationTracking, false);
      assert.equal(readSnapshot(plain.filePath).trace_function_infos.length, 0);

      // Keeping the snapshot that stopping produces costs no second snapshot.
      await session.startAllocationTracking();
      await waitTicks();
      const last = await session.takeSnapshot(path.join(f.dir, 'stop.heapsnapshot'), { stopAllocationTracking: true });
      assert.equal(last.meta.allocationTracking, true);
      assert.equal(session.isTrackingAllocations, false);
      assert.ok(readSnapshot(last.filePath).trace_function_infos.length > 0);
      assert.equal(leftoverFiles(f.dir).length, 6, 'three snapshots and three sidecars, nothing else');
    } finally {
      await finish(session, program);
    }
  },
);

void test(
  'cancelling a snapshot leaves no file behind and the session keeps working',
  { timeout: testTimeoutMs },
  async (t) => {
    const f = fixture(t);
    const { program, session } = await startLeaky(f, { LEAKY_START: '20000' });
    try {
      const file = path.join(f.dir, 'cancelled.heapsnapshot');
      const controller = new AbortController();
      const cancelled = session.takeSnapshot(file, { signal: controller.signal, onProgress: () => controller.abort() });
      await assert.rejects(cancelled, (error: Error & { code?: string }) => {
        assert.equal(error.name, 'AbortError');
        assert.equal(error.code, 'ABORT_ERR');
        return true;
      });
      assert.deepEqual(leftoverFiles(f.dir), [], 'the temporary file is gone at once');

      // The rest of the cancelled snapshot is still on its way; the next calls must wait for it, then work.
      assert.ok((await session.memoryUsage()).heapUsed > 0);
      const next = await session.takeSnapshot(path.join(f.dir, 'next.heapsnapshot'));
      assert.ok(readSnapshot(next.filePath).snapshot.node_count > 0);
      assert.equal(next.meta.sequence, 1, 'the cancelled snapshot does not count');
      assert.deepEqual(leftoverFiles(f.dir).sort(), ['next.heapsnapshot', 'next.heapsnapshot.meta.json']);

      const early = new AbortController();
      early.abort();
      await assert.rejects(session.takeSnapshot(file, { signal: early.signal }), { name: 'AbortError' });
      assert.ok(!leftoverFiles(f.dir).includes('cancelled.heapsnapshot'));
    } finally {
      await finish(session, program);
    }
  },
);

void test(
  'a target killed during a snapshot gives a clear rejection and no partial file',
  { timeout: testTimeoutMs },
  async (t) => {
    const f = fixture(t);
    const { program, session } = await startLeaky(f, { LEAKY_START: '200000' });
    try {
      const file = path.join(f.dir, 'doomed.heapsnapshot');
      let killed = false;
      const doomed = session.takeSnapshot(file, {
        onProgress: () => {
          if (killed) return;
          killed = true;
          process.kill(program.pid, 'SIGKILL');
        },
      });
      await assert.rejects(doomed, /the target closed the inspector connection while taking a snapshot/);
      assert.deepEqual(leftoverFiles(f.dir), []);
      assert.equal((await program.exited).signal, 'SIGKILL');
      assert.equal(session.isClosed, true);
      await assert.rejects(session.memoryUsage(), /inspector connection is closed/);
    } finally {
      await finish(session, program);
    }
  },
);

void test(
  'a program that exits at once is either reported clearly or held for capture until detached',
  { timeout: testTimeoutMs },
  async (t) => {
    const f = fixture(t);
    const script = f.write('quick.js', 'process.exit(3);\n');
    const output = new OutputWatcher();
    let pid: number | undefined;
    try {
      const { program, session } = await launchForCapture({
        args: [script],
        onStdout: output.onData,
        onStderr: output.onData,
      });
      pid = program.pid;
      // The session attached first (the usual case): Node holds the exiting program until the session detaches.
      await new Promise<void>((resolve) => session.onProgramFinished(resolve));
      await assert.rejects(session.collectGarbage(), /the program has finished/);
      await session.close();
      assert.deepEqual(await program.exited, { code: 3, signal: null });
      await program.stop();
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error;
      // The program won the race and was gone before the session could attach. Node 20 itself sometimes dies of
      // SIGSEGV when an inspector connection arrives while it exits; the message must then say so instead.
      assert.match(
        (error as Error).message,
        /the program (exited with code 3|was killed by SIGSEGV) before a capture session could attach/,
      );
      pid = (error as { pid?: number }).pid;
    }
    assert.ok(pid !== undefined);
    f.pids.push(pid);
    assert.deepEqual(leftoverFiles(f.dir), []);
  },
);

void test(
  'opening a session on a program that has exited gives a clear error',
  { timeout: testTimeoutMs },
  async (t) => {
    const f = fixture(t);
    const script = f.write('quick.js', 'process.exit(3);\n');
    const output = new OutputWatcher();
    const program = await launchProgram({ args: [script], onStdout: output.onData, onStderr: output.onData });
    f.pids.push(program.pid);
    assert.deepEqual(await program.exited, { code: 3, signal: null });
    await assert.rejects(
      CaptureSession.open(program.url),
      /could not connect to the inspector at ws:\/\/127\.0\.0\.1:\d+\/.*ECONNREFUSED/,
    );
    await program.stop();
  },
);

void test(
  'a program that finishes while attached can still be captured, without the forced GC',
  { timeout: testTimeoutMs },
  async (t) => {
    const f = fixture(t);
    const script = f.write(
      'short.js',
      "class Leaky {}\nglobalThis.kept = [new Leaky(), new Leaky()];\nconsole.log('done');\n",
    );
    const output = new OutputWatcher();
    // Pausing at start guarantees the session is attached before the program's code runs and ends.
    const { program, session } = await launchForCapture({
      args: [script],
      pauseAtStart: true,
      onStdout: output.onData,
      onStderr: output.onData,
    });
    f.pids.push(program.pid);
    try {
      await new Promise<void>((resolve) => session.onProgramFinished(resolve));
      await new Promise<void>((resolve) => program.onWaitingForDisconnect(resolve));
      assert.equal(session.hasProgramFinished, true);
      assert.equal(session.processInfo.pid, program.pid, 'the pid is known even though process.pid was not set yet');
      await assert.rejects(session.collectGarbage(), { name: 'ProgramFinishedError' });

      const result = await session.takeSnapshot(path.join(f.dir, 'end.heapsnapshot'));
      assert.equal(result.meta.programFinished, true);
      assert.equal(result.meta.forcedGc, false);
      assert.ok(idsNamed(readSnapshot(result.filePath), 'Leaky').size >= 2);
      assert.ok((await session.memoryUsage()).heapUsed > 0, 'memory usage falls back to Runtime.getHeapUsage');
      await assert.rejects(
        session.takeSnapshot(path.join(f.dir, 'no.heapsnapshot'), { method: 'inprocess' }),
        /program has finished/,
      );

      // Detaching lets Node finish exiting on its own.
      await session.close();
      assert.deepEqual(await program.exited, { code: 0, signal: null });
    } finally {
      await finish(session, program);
    }
  },
);

void test(
  'a program that crashes mid-run is held for capture while attached, then exits with its error',
  { timeout: testTimeoutMs },
  async (t) => {
    const f = fixture(t);
    const script = f.write(
      'crash.js',
      "class Leaky {}\nglobalThis.kept = [new Leaky()];\nconsole.log('ready');\n" +
        "setTimeout(function crash() { throw new Error('boom mid-run'); }, 50);\nsetInterval(() => {}, 1000);\n",
    );
    const output = new OutputWatcher();
    const { program, session } = await launchForCapture({
      args: [script],
      pauseAtStart: true,
      onStdout: output.onData,
      onStderr: output.onData,
    });
    f.pids.push(program.pid);
    try {
      await new Promise<void>((resolve) => session.onProgramFinished(resolve));
      assert.equal(program.exitState, undefined, 'Node keeps the crashed process for the attached session');
      const result = await session.takeSnapshot(path.join(f.dir, 'crashed.heapsnapshot'));
      assert.equal(result.meta.programFinished, true);
      assert.ok(idsNamed(readSnapshot(result.filePath), 'Leaky').size >= 1, 'the heap at the crash is captured');
      await session.close();
      assert.deepEqual(await program.exited, { code: 1, signal: null });
      // Node prints the uncaught error only once the session has let go.
      await output.waitFor(/Error: boom mid-run/);
    } finally {
      await finish(session, program);
    }
  },
);

void test(
  'a program that exits before its inspector opens gives a clear error',
  { timeout: testTimeoutMs },
  async (t) => {
    const f = fixture(t);
    const script = f.write('leaky.js', leakyProgram);
    const output = new OutputWatcher();
    await assert.rejects(
      launchProgram({
        args: [script],
        runtimeArgs: ['--no-such-flag'],
        onStdout: output.onData,
        onStderr: output.onData,
      }),
      (error: Error & { pid?: number }) => {
        assert.match(error.message, /exited with code 9 before its inspector opened/);
        assert.match(error.message, /bad option: --no-such-flag/, 'the program own words are quoted');
        if (error.pid !== undefined) f.pids.push(error.pid);
        return true;
      },
    );
  },
);

void test(
  'a runtime that never opens an inspector times out, and its whole process group is killed',
  { timeout: testTimeoutMs },
  async (t) => {
    const f = fixture(t);
    // A stand-in runtime that ignores its arguments and starts a grandchild, as wrapper scripts do.
    const runtime = f.write('fake-node.sh', '#!/bin/sh\nsleep 30 &\necho "grandchild $!"\nwait\n');
    chmodSync(runtime, 0o755);
    const output = new OutputWatcher();
    const launching = launchProgram({
      args: ['whatever.js'],
      runtimeExecutable: runtime,
      inspectorTimeoutMs: 1_000,
      onStdout: output.onData,
      onStderr: output.onData,
    });
    const grandchild = Number((await output.waitFor(/grandchild (\d+)/))[1]);
    f.pids.push(grandchild);
    await assert.rejects(launching, (error: Error & { pid?: number }) => {
      assert.match(error.message, /did not open its inspector within 1000 ms/);
      if (error.pid !== undefined) f.pids.push(error.pid);
      return true;
    });
  },
);

void test('attaches to a running process by pid through SIGUSR1', { timeout: testTimeoutMs }, async (t) => {
  const f = fixture(t);
  if (process.platform === 'win32') {
    t.skip('SIGUSR1 does not exist on Windows');
    return;
  }
  if (await portAnswers(9229)) {
    t.skip('port 9229 is already in use, so a SIGUSR1 inspector cannot open there');
    return;
  }
  const script = f.write('leaky.js', leakyProgram);
  const output = new OutputWatcher();
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', output.onData);
  child.stderr.on('data', output.onData);
  const pid = child.pid ?? assert.fail('no pid');
  f.pids.push(pid);
  let session: CaptureSession | undefined;
  try {
    await output.waitFor(/^ready$/m);
    let target;
    try {
      target = await attachToPid(pid);
    } catch (error) {
      // Another test run may have taken the port between the check above and the signal.
      if (!/port 9229 (is already used|was taken)/.test((error as Error).message)) throw error;
      t.skip(`port 9229 became busy during the test: ${(error as Error).message}`);
      return;
    }
    assert.equal(target.pid, pid);
    assert.match(target.url, /^ws:\/\/127\.0\.0\.1:9229\//);
    session = await CaptureSession.open(target.url);
    assert.equal(session.processInfo.pid, pid);
    const snapshot = await session.takeSnapshot(path.join(f.dir, 'attached.heapsnapshot'));
    assert.ok(readSnapshot(snapshot.filePath).strings.includes('Leaky'));
    // A second attach finds the inspector already open instead of signalling again.
    assert.equal((await attachToPid(pid)).url, target.url);
  } finally {
    await session?.close();
    await stopChild(child);
  }
});

void test(
  'attaching to a pid that does not exist, or is not Node, is refused clearly',
  { timeout: testTimeoutMs },
  async (t) => {
    const f = fixture(t);
    await assert.rejects(attachToPid(2_147_483_600), /no such process: 2147483600/);
    if (process.platform !== 'linux') return;
    // SIGUSR1 would kill a process that does not handle it, so the attach must refuse before signalling.
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    const pid = sleeper.pid ?? assert.fail('no pid');
    f.pids.push(pid);
    try {
      await assert.rejects(attachToPid(pid), /is not a Node process that listens for SIGUSR1/);
      assert.equal(isAlive(pid), true, 'the process was not signalled');
    } finally {
      await stopChild(sleeper);
    }
  },
);

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

void test(
  'a session of its own keeps the Debugger domain off: --inspect-brk and debugger statements do not stop the program',
  { timeout: testTimeoutMs },
  async (t) => {
    const f = fixture(t);
    const script = f.write(
      'pauser.js',
      `let ticks = 0;\nsetInterval(() => {\n  debugger;\n  console.log('tick ' + ++ticks);\n}, 20);\n`,
    );
    const output = new OutputWatcher();
    const { program, session } = await launchForCapture({
      args: [script],
      cwd: f.dir,
      pauseAtStart: true,
      onStdout: output.onData,
      onStderr: output.onData,
    });
    f.pids.push(program.pid);
    try {
      await output.waitFor(/tick 2\b/);
      const first = await session.takeSnapshot(path.join(f.dir, 'a.heapsnapshot'));
      assert.equal(first.meta.forcedGc, true);
      assert.equal(first.meta.debuggerAttached, undefined);
      // The scripts come from the moment the Debugger domain is on, right before the snapshot.
      assert.ok(
        first.meta.scripts.some((s) => s.url === pathToFileURL(script).href),
        'the program script is in the sidecar',
      );
      assert.ok(session.scripts.size > 0);
      assert.equal(session.isPaused, false);
      // The program runs on through its debugger statement after the snapshot.
      const seen = Number(/tick (\d+)\s*$/.exec(output.text)![1]);
      await output.waitFor(new RegExp(`tick ${seen + 3}\\b`));
      await session.takeSnapshot(path.join(f.dir, 'b.heapsnapshot'));
      await output.waitFor(new RegExp(`tick ${seen + 6}\\b`));
    } finally {
      await finish(session, program);
    }
  },
);

void test(
  'a session shared with a debugger keeps Debugger on, and its sidecars and the report say so',
  { timeout: testTimeoutMs },
  async (t) => {
    const f = fixture(t);
    const script = f.write('leaky.js', leakyProgram);
    const output = new OutputWatcher();
    const program = await launchProgram({
      args: [script],
      cwd: f.dir,
      env: { LEAKY_TICKS: '1' },
      onStdout: output.onData,
      onStderr: output.onData,
    });
    f.pids.push(program.pid);
    const session = await CaptureSession.open(program.url, { sharedWithDebugger: true });
    try {
      await output.waitFor(/tick 1\b/);
      const a = await session.takeSnapshot(path.join(f.dir, 'a.heapsnapshot'));
      await moreTicks(output, 2);
      const b = await session.takeSnapshot(path.join(f.dir, 'b.heapsnapshot'));
      assert.equal(a.meta.debuggerAttached, true);
      assert.equal(session.debuggerAttached, true);
      assert.ok(b.meta.scripts.some((s) => s.url === pathToFileURL(script).href));
      const report = buildLeakReport([a.filePath, b.filePath]);
      assert.ok(
        report.warnings.some((w) => w.startsWith('a debugger was attached while the snapshots were taken')),
        report.warnings.join('\n'),
      );
    } finally {
      await finish(session, program);
    }
  },
);

// A program run as VS Code's js-debug runs one: a bootloader preloaded through NODE_OPTIONS, the Debugger domain on.
// Node keeps the preloads' parent, a `Module` named `internal/preload` whose `filename` is null. The program also
// loads one file twice at startup (two copies that never become more) and re-requires another on every tick, each
// copy kept by its parent's `module.children`.
const reloadingProgram = `
const kept = [];
function load(name) {
  const file = require.resolve('./' + name);
  delete require.cache[file];
  kept.push(require(file));
}
load('plugin.js');
load('plugin.js');
let reloads = 0;
setInterval(function tick() {
  load('reloaded.js');
  reloads++;
  process.stdout.write('reload ' + reloads + '\\n');
}, 20);
`;

void test(
  'modules loaded more than once: only loaded modules count, and only a number that grows',
  { timeout: testTimeoutMs },
  async (t) => {
    const f = fixture(t);
    const preload = f.write('bootloader.js', 'globalThis.__preloaded = true;\n');
    f.write('plugin.js', 'module.exports = { plugin: true };\n');
    const reloaded = f.write('reloaded.js', 'module.exports = { at: Date.now() };\n');
    const script = f.write('app.js', reloadingProgram);
    const output = new OutputWatcher();
    const program = await launchProgram({
      args: [script],
      cwd: f.dir,
      env: { NODE_OPTIONS: `--require ${preload}` },
      onStdout: output.onData,
      onStderr: output.onData,
    });
    f.pids.push(program.pid);
    const session = await CaptureSession.open(program.url, { sharedWithDebugger: true });
    try {
      const files: string[] = [];
      for (let i = 0; i < 3; i++) {
        const seen = [...output.text.matchAll(/reload (\d+)\n/g)].map((m) => Number(m[1]));
        await output.waitFor(new RegExp(`reload ${(seen.length > 0 ? Math.max(...seen) : 0) + 2}\\n`));
        files.push((await session.takeSnapshot(path.join(f.dir, `s${i}.heapsnapshot`))).filePath);
      }
      // Every module counted is a file that was loaded; the preloads' parent (filename null) is none.
      const modules = digestSnapshot(loadAnalysis(files[2])).modules;
      assert.deepEqual(
        [...modules.keys()].filter((file) => !path.isAbsolute(file)),
        [],
        'only modules loaded from files are counted',
      );
      assert.equal(modules.get(path.join(f.dir, 'plugin.js'))?.count, 2, 'both copies of plugin.js are seen');
      const report = buildLeakReport(files);
      // Reported: the file whose copies grow; not plugin.js (2 -> 2 -> 2), nor anything named after the null oddball.
      assert.deepEqual(
        report.duplicateModules.map((d) => path.basename(d.file)),
        [path.basename(reloaded)],
        JSON.stringify(report.duplicateModules),
      );
      const counts = report.duplicateModules[0].instances;
      assert.ok(counts[2] > counts[0], `the copies grow: ${counts.join(' -> ')}`);
    } finally {
      await finish(session, program);
    }
  },
);
