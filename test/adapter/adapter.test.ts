/**
 * The `leak-lens` debug adapter through DAP, as any editor would drive it: the compiled adapter runs as its own
 * process (out/src/adapter/main.js) and a DebugClient from @vscode/debugadapter-testsupport talks to it over stdio.
 * The debuggees are real Node processes running the fixtures of the VS Code tests.
 */
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, before, beforeEach, describe, test } from 'node:test';
import type { CustomEvents, CustomRequests } from '../../protocol/adapter';
import { buildLeakReport, buildSamplingReport } from '../../engine/report';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const adapter = path.join(repoRoot, 'out', 'src', 'adapter', 'main.js');
const fixtures = path.join(repoRoot, 'test', 'vscode', 'fixtures', 'workspace');

async function request<K extends keyof CustomRequests>(
  dc: DebugClient,
  command: K,
  args: CustomRequests[K]['args'],
): Promise<CustomRequests[K]['body']> {
  const response = await dc.customRequest(command, args);
  return response.body as CustomRequests[K]['body'];
}

/** Initializes and attaches, as a client does: initialize, then attach and configurationDone once initialized. */
async function attach(dc: DebugClient, args: Record<string, unknown>): Promise<void> {
  // The adapter sends `initialized` right after answering initialize: listen before asking.
  const initialized = dc.waitForEvent('initialized');
  await dc.initializeRequest();
  await Promise.all([
    initialized.then(() => dc.configurationDoneRequest()),
    dc.attachRequest(args as DebugProtocol.AttachRequestArguments),
  ]);
}

/** Starts a Node program with its inspector on a free port and resolves with that port once it listens. */
function startInspected(script: string): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--inspect=127.0.0.1:0', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /Debugger listening on ws:\/\/127\.0\.0\.1:(\d+)\//.exec(err);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${err}`)));
  });
}

/**
 * Resolves after `count` more leakLens/memorySample events: the program has run a sampling interval or more since
 * (samples pause while a snapshot is taken), so its timers have grown what it leaks. A signal, not a clock.
 */
function samplesAfter(dc: DebugClient, count: number): Promise<void> {
  return new Promise((resolve) => {
    let n = 0;
    const on = (): void => {
      if (++n < count) return;
      dc.removeListener('leakLens/memorySample', on);
      resolve();
    };
    dc.on('leakLens/memorySample', on);
  });
}

describe('leak-lens debug adapter over DAP', () => {
  let dc: DebugClient;
  let dir: string;

  before(() => {
    assert.ok(fs.existsSync(adapter), `${adapter} is missing; run npm run build`);
  });

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-lens-dap-'));
    dc = new DebugClient(process.execPath, adapter, 'leak-lens');
    dc.defaultTimeout = 30_000;
    await dc.start();
  });

  afterEach(async () => {
    await dc.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('initialize announces cancel, terminate and configurationDone', async () => {
    const response = await dc.initializeRequest({
      adapterID: 'leak-lens',
      pathFormat: 'path',
      linesStartAt1: true,
      columnsStartAt1: true,
    });
    assert.equal(response.body?.supportsCancelRequest, true);
    assert.equal(response.body?.supportsTerminateRequest, true);
    assert.equal(response.body?.supportsConfigurationDoneRequest, true);
  });

  test('leakLens/listeningAddresses names the HTTP server the launched program listens on', async () => {
    // The program says it listens (an output event); the adapter finds the same address in the program itself.
    const listening = dc.assertOutput('stdout', 'leaky-server listening on http://127.0.0.1:', 30_000);
    await Promise.all([
      dc.configurationSequence(),
      dc.launch({ program: path.join(fixtures, 'leaky-server.js') }),
      dc.waitForEvent('initialized'),
    ]);
    const said = (await listening).body.output;
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(said)?.[1]);
    const { addresses } = await request(dc, 'leakLens/listeningAddresses', {});
    assert.deepEqual(addresses, [{ protocol: 'http', host: '127.0.0.1', port, url: `http://127.0.0.1:${port}` }]);
    await Promise.all([dc.waitForEvent('terminated'), dc.terminateRequest()]);
  });

  test('launch, take three snapshots with custom requests, and the report finds the Leaky group', async () => {
    const samples: CustomEvents['leakLens/memorySample'][] = [];
    dc.on('leakLens/memorySample', (e: DebugProtocol.Event) =>
      samples.push(e.body as CustomEvents['leakLens/memorySample']),
    );
    await Promise.all([
      dc.configurationSequence(),
      dc.launch({ program: path.join(fixtures, 'leaky-array.js'), samplingIntervalMs: 200, env: { TICK_MS: '20' } }),
      dc.waitForEvent('initialized'),
    ]);
    const info = await request(dc, 'leakLens/targetInfo', {});
    assert.ok(info.pid && info.pid > 0, 'targetInfo names the pid');
    assert.equal(info.launched, true);
    const threads = await dc.threadsRequest();
    assert.equal(threads.body.threads.length, 1);

    const files: string[] = [];
    for (let i = 1; i <= 3; i++) {
      const file = path.join(dir, `s${i}.heapsnapshot`);
      const body = await request(dc, 'leakLens/takeSnapshot', { file, label: i === 1 ? 'baseline' : `round ${i - 1}` });
      assert.equal(body.file, file);
      assert.equal(body.sequence, i);
      assert.equal(body.pid, info.pid);
      assert.ok(body.fileSize > 100_000 && fs.statSync(file).size === body.fileSize);
      assert.ok(fs.existsSync(`${file}.meta.json`), 'the sidecar is written beside the snapshot');
      files.push(file);
      await samplesAfter(dc, 2);
    }
    assert.ok(samples.length > 0, 'memory samples arrive as leakLens/memorySample events');
    assert.ok(samples[0].heapUsed > 0);

    const report = buildLeakReport(files);
    const leaky = report.leaks.find((g) => g.className === 'Leaky');
    assert.ok(leaky, `a Leaky group is reported (got ${report.leaks.map((g) => g.className).join(', ')})`);
    assert.equal(leaky.owner.name, 'leakyItems');

    const gc = await request(dc, 'leakLens/collectGarbage', {});
    assert.ok(gc.after.heapUsed > 0);
    await Promise.all([dc.waitForEvent('terminated'), dc.terminateRequest()]);
    assert.throws(() => process.kill(info.pid!, 0), 'the launched program is stopped with the session');
  });

  test("takeSnapshot with workers: true snapshots each worker thread, and the worker's leak is found in its snapshots", async () => {
    const app = path.join(repoRoot, 'test', 'fixtures', 'apps', 'worker-leak.js');
    let output = '';
    const listening = new Promise<string>((resolve) => {
      dc.on('output', (e: DebugProtocol.OutputEvent) => {
        output += e.body.output;
        const m = /listening on (http:\/\/\S+)/.exec(output);
        if (m) resolve(m[1]);
      });
    });
    await Promise.all([dc.configurationSequence(), dc.launch({ program: app }), dc.waitForEvent('initialized')]);
    const url = await listening;
    const get = () =>
      new Promise<void>((resolve, reject) =>
        http.get(url, (res) => res.resume().on('end', resolve)).on('error', reject),
      );
    const workerFiles: string[] = [];
    for (let i = 1; i <= 3; i++) {
      for (let n = 0; n < 50; n++) await get();
      const file = path.join(dir, `s${i}.heapsnapshot`);
      const body = await request(dc, 'leakLens/takeSnapshot', { file, workers: true });
      assert.equal(body.workers?.length, 1, 'one worker thread');
      const w = body.workers[0];
      assert.equal(w.name, 'worker 1 jobs');
      assert.deepEqual(w.thread, {
        id: '1',
        title: '[worker 1] jobs',
        url: `file://${path.join(path.dirname(app), 'worker-jobs.js')}`,
      });
      assert.equal(w.file, path.join(dir, `s${i}.worker1.heapsnapshot`));
      assert.equal(w.sequence, i);
      assert.ok(fs.statSync(w.file).size === w.fileSize && fs.existsSync(w.metaFile));
      workerFiles.push(w.file);
    }
    const report = buildLeakReport(workerFiles);
    assert.deepEqual(
      report.leaks.map((g) => [g.className, g.owner.name, g.growthPerRound]),
      [['Job', 'jobs', 50]],
    );
    await Promise.all([dc.waitForEvent('terminated'), dc.terminateRequest()]);
  });

  test('allocation sampling: start, a read at each round boundary, stop; the growing stack is the leak, and no snapshot is written', async () => {
    await Promise.all([
      dc.configurationSequence(),
      dc.launch({ program: path.join(fixtures, 'leaky-array.js'), samplingIntervalMs: 200, env: { TICK_MS: '20' } }),
      dc.waitForEvent('initialized'),
    ]);
    // Reading before starting says what to send first.
    await assert.rejects(
      dc.customRequest('leakLens/readAllocationSampling', {}),
      /send leakLens\/startAllocationSampling first/,
    );
    await assert.rejects(
      dc.customRequest('leakLens/startAllocationSampling', { interval: 8 }),
      /"interval" in bytes, a whole number of at least 64/,
    );
    await request(dc, 'leakLens/startAllocationSampling', { interval: 512 });
    const profiles = [];
    let sourceMapURLs: Record<string, string> = {};
    for (let i = 1; i <= 4; i++) {
      const read = await request(dc, 'leakLens/readAllocationSampling', i === 4 ? { sourceMaps: true } : {});
      assert.ok(read.profile.head && Array.isArray(read.profile.samples), 'a sampling profile comes back');
      profiles.push(read.profile);
      if (i === 4) sourceMapURLs = read.sourceMapURLs;
      else await samplesAfter(dc, 2);
    }
    assert.deepEqual(sourceMapURLs, {}, 'plain JavaScript has no source maps');
    await request(dc, 'leakLens/stopAllocationSampling', {});
    await assert.rejects(
      dc.customRequest('leakLens/readAllocationSampling', {}),
      /send leakLens\/startAllocationSampling first/,
      'stopped: nothing more to read',
    );

    const report = buildSamplingReport(profiles, 512, undefined);
    const growth = report.sampling?.growth ?? [];
    // V8 records the function (grow, or Leaky's constructor when it was not inlined): the site is grow()'s line.
    const leak = growth.find(
      (g) =>
        g.site.function === 'grow' &&
        g.site.location?.file === path.join(fixtures, 'leaky-array.js') &&
        [14, 15].includes(g.site.location.line),
    );
    assert.ok(
      leak,
      `the stack that allocates Leaky in grow() (leaky-array.js:14-15) grows; got ${growth.map((g) => `${g.site.function} ${g.site.location?.file}:${g.site.location?.line}`).join(', ')}`,
    );
    assert.ok(
      leak.liveSamples.every((n, i) => i === 0 || n > leak.liveSamples[i - 1]),
      `live samples grow at every boundary: ${leak.liveSamples.join(', ')}`,
    );
    // churn()'s scratch objects die within the tick: never reported.
    assert.ok(!growth.some((g) => g.site.function === 'churn'), 'short-lived garbage is not reported');
    assert.deepEqual(fs.readdirSync(dir), [], 'no snapshot file');
    await Promise.all([dc.waitForEvent('terminated'), dc.terminateRequest()]);
  });

  test('allocation tracking: snapshots carry allocation sites', async () => {
    await Promise.all([
      dc.configurationSequence(),
      dc.launch({ program: path.join(fixtures, 'leaky-array.js'), samplingIntervalMs: 200, env: { TICK_MS: '20' } }),
      dc.waitForEvent('initialized'),
    ]);
    await request(dc, 'leakLens/startAllocationTracking', {});
    assert.equal((await request(dc, 'leakLens/targetInfo', {})).trackingAllocations, true);
    const files = [];
    for (let i = 1; i <= 3; i++) {
      const file = path.join(dir, `t${i}.heapsnapshot`);
      const body = await request(dc, 'leakLens/takeSnapshot', { file });
      assert.equal(body.allocationTracking, true);
      files.push(file);
      await samplesAfter(dc, 2);
    }
    await request(dc, 'leakLens/stopAllocationTracking', {});
    assert.equal((await request(dc, 'leakLens/targetInfo', {})).trackingAllocations, false);
    const leaky = buildLeakReport(files).leaks.find((g) => g.className === 'Leaky');
    assert.ok(
      leaky?.allocationSites.some((s) => s.function === 'grow'),
      `allocated in grow() (got ${JSON.stringify(leaky?.allocationSites)})`,
    );
    await dc.disconnectRequest({ terminateDebuggee: true });
  });

  test('a client that goes away without disconnecting: the launched program is stopped with the adapter', async () => {
    await Promise.all([
      dc.configurationSequence(),
      dc.launch({ program: path.join(fixtures, 'leaky-array.js') }),
      dc.waitForEvent('initialized'),
    ]);
    const { pid } = await request(dc, 'leakLens/targetInfo', {});
    assert.ok(pid);
    // DebugClient.stop() ends the adapter process (SIGTERM) without a disconnect request.
    await dc.stop();
    // Polled (another process's end gives no event here); the deadline only bounds a failure.
    const deadline = Date.now() + 60_000;
    const alive = (): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(alive(), false, `program ${pid} still runs after its adapter ended`);
    // afterEach stops the client again; give it a fresh one.
    dc = new DebugClient(process.execPath, adapter, 'leak-lens');
    await dc.start();
  });

  test('leakLens/cancelSnapshot stops a snapshot being written and leaves no file', async () => {
    await Promise.all([
      dc.configurationSequence(),
      dc.launch({ program: path.join(fixtures, 'big-heap.js'), env: { BIG_HEAP_MB: '40' } }),
      dc.waitForEvent('initialized'),
    ]);
    const file = path.join(dir, 'cancelled.heapsnapshot');
    const pending = request(dc, 'leakLens/takeSnapshot', { file });
    // The capture writes a hidden .partial file beside the target; once it has content, V8 is streaming.
    const deadline = Date.now() + 120_000;
    const streaming = (): boolean =>
      fs.readdirSync(dir).some((n) => n.endsWith('.partial') && fs.statSync(path.join(dir, n)).size > 0);
    while (!streaming() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(streaming(), 'the snapshot started streaming');
    assert.equal((await request(dc, 'leakLens/cancelSnapshot', { file })).cancelled, true);
    await assert.rejects(pending, /cancelled/);
    assert.deepEqual(fs.readdirSync(dir), [], 'nothing is left behind');
    await dc.disconnectRequest({ terminateDebuggee: true });
  });

  test('launch of a missing program fails with a message that says what to fix', async () => {
    await dc.initializeRequest();
    await assert.rejects(
      dc.launchRequest({ program: path.join(dir, 'nope.js') } as DebugProtocol.LaunchRequestArguments),
      /Cannot find the program .*nope\.js/,
    );
  });

  test('a snapshot into a folder that cannot be written fails clearly and leaves nothing behind', async () => {
    await Promise.all([
      dc.configurationSequence(),
      dc.launch({ program: path.join(fixtures, 'leaky-array.js') }),
      dc.waitForEvent('initialized'),
    ]);
    // A regular file where the folder should be: unwritable for every user, root included.
    const notAFolder = path.join(dir, 'not-a-folder');
    fs.writeFileSync(notAFolder, '');
    try {
      await assert.rejects(
        request(dc, 'leakLens/takeSnapshot', { file: path.join(notAFolder, 'x.heapsnapshot') }),
        /cannot write a snapshot beside .*ENOTDIR/,
      );
      assert.deepEqual(fs.readdirSync(dir), ['not-a-folder']);
    } finally {
      await dc.disconnectRequest({ terminateDebuggee: true });
    }
  });

  describe('attach', () => {
    let target: { child: ChildProcess; port: number } | undefined;
    afterEach(() => {
      target?.child.kill('SIGKILL');
      target = undefined;
    });

    test('by port: snapshots work and the process keeps running after disconnect', async () => {
      target = await startInspected(path.join(fixtures, 'leaky-array.js'));
      await attach(dc, { port: target.port });
      const info = await request(dc, 'leakLens/targetInfo', {});
      assert.equal(info.pid, target.child.pid);
      assert.equal(info.launched, false);
      const file = path.join(dir, 'attached.heapsnapshot');
      const body = await request(dc, 'leakLens/takeSnapshot', { file });
      assert.ok(body.fileSize > 0);
      await dc.disconnectRequest({});
      assert.doesNotThrow(
        () => process.kill(target!.child.pid!, 0),
        'an attached process is not stopped on disconnect',
      );
    });

    test('by process id (SIGUSR1)', { skip: process.platform === 'win32' }, async () => {
      // A process without --inspect: attaching by pid opens its inspector on 9229.
      const child = spawn(process.execPath, [path.join(fixtures, 'leaky-array.js')], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      target = { child, port: 9229 };
      await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
      await attach(dc, { processId: String(child.pid) });
      const info = await request(dc, 'leakLens/targetInfo', {});
      assert.equal(info.pid, child.pid);
      await dc.disconnectRequest({});
    });

    test('a target that exits ends the session with a terminated event', async () => {
      target = await startInspected(path.join(fixtures, 'leaky-array.js'));
      await attach(dc, { port: target.port });
      const terminated = dc.waitForEvent('terminated');
      target.child.kill('SIGKILL');
      await terminated;
    });

    test('no target named: the error says which fields to use', async () => {
      await dc.initializeRequest();
      await assert.rejects(
        dc.attachRequest({} as DebugProtocol.AttachRequestArguments),
        /exactly one of "websocketUrl", "port".*"processId"/,
      );
    });
  });
});
