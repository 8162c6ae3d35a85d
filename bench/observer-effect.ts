// The observer effect of capture: does what Leak Lens enables in a target add retainers? A promise-heavy leaking
// server (test/fixtures/apps/promise-leak.js) gets the same workload under several inspector setups, then writes a
// heap snapshot of itself with v8.writeHeapSnapshot (a preload, on SIGUSR2), and the engine's DevTools summary gives
// the retained size per leaked RequestRecord and how many requests, responses and sockets are still alive. The
// reference is the same program without any inspector. Last, `leak-lens run` itself measures the same program.
// Run: npx tsc -p . && node out/bench/observer-effect.js [requests]
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { loadAnalysis } from '../engine/analysis';
import { summarizeClasses } from '../engine/summary';
import { CdpClient } from '../src/capture';
import type { LeakReport } from '../protocol/report';

const root = path.resolve(__dirname, '..', '..');
const apps = path.join(root, 'test', 'fixtures', 'apps');
/** The leaking program, and the class it leaks one of per request. */
export const promiseLeak = { file: path.join(apps, 'promise-leak.js'), className: 'RequestRecord' };
/** A program that leaks nothing but logs an object per request. */
export const consoleLog = { file: path.join(apps, 'console-log.js'), className: 'LoggedEvent' };
type App = typeof promiseLeak;
const preload = path.join(root, 'test', 'fixtures', 'apps', 'snapshot-on-signal.js');
const load = path.join(root, 'demo', 'load.js');
const cli = path.join(root, 'bin', 'leak-lens.js');

/** One way of running the target: with or without the inspector, and what is sent to it around the workload. */
interface Variant {
  name: string;
  inspect: boolean;
  /** Open no inspector session (the flag alone); defaults to false. */
  noSession?: boolean;
  /** After connecting, before the workload. */
  setup?: (client: CdpClient) => Promise<void>;
  /** After the workload, before the in-process snapshot. */
  beforeSnapshot?: (client: CdpClient) => Promise<void>;
}

/** Per-record figures from one snapshot. */
export interface Measurement {
  name: string;
  /** Objects of the app's class alive. */
  records: number;
  retainedPerRecord: number;
  /** Requests, responses and sockets still alive after the workload ended. */
  alive: Record<string, number>;
}

const send =
  (method: string, params: object = {}) =>
  (client: CdpClient) =>
    client.sendRaw(method, params).then(() => undefined);
const all =
  (...steps: ((client: CdpClient) => Promise<void>)[]) =>
  async (client: CdpClient) => {
    for (const step of steps) await step(client);
  };

export const variants: Variant[] = [
  { name: 'no inspector (the program alone)', inspect: false },
  { name: 'inspector attached, nothing enabled', inspect: true },
  { name: 'Runtime.enable', inspect: true, setup: send('Runtime.enable') },
  { name: 'Debugger.enable', inspect: true, setup: send('Debugger.enable') },
  { name: 'HeapProfiler.enable', inspect: true, setup: send('HeapProfiler.enable') },
  {
    name: 'HeapProfiler + allocation tracking',
    inspect: true,
    setup: all(send('HeapProfiler.enable'), send('HeapProfiler.startTrackingHeapObjects', { trackAllocations: true })),
  },
  {
    name: 'Runtime + Debugger + HeapProfiler (capture before the fix)',
    inspect: true,
    setup: all(
      send('Runtime.enable'),
      send('Debugger.enable'),
      send('Debugger.setSkipAllPauses', { skip: true }),
      send('HeapProfiler.enable'),
    ),
  },
  {
    name: 'Debugger on during the workload, disabled before the snapshot',
    inspect: true,
    setup: send('Debugger.enable'),
    beforeSnapshot: send('Debugger.disable'),
  },
  {
    name: 'Debugger on only for a moment before the snapshot',
    inspect: true,
    beforeSnapshot: all(send('Debugger.enable'), send('Debugger.disable')),
  },
];

/** For console-log.js: the inspector's console storage, and clearing it as capture does before each snapshot. */
export const consoleVariants: Variant[] = [
  { name: 'no inspector (the program alone)', inspect: false },
  { name: '--inspect, no session', inspect: true, noSession: true },
  { name: 'session with Runtime.enable', inspect: true, setup: send('Runtime.enable') },
  {
    name: 'Runtime.discardConsoleEntries before the snapshot',
    inspect: true,
    beforeSnapshot: send('Runtime.discardConsoleEntries'),
  },
];

/** Resolves with the first match of `pattern` in the child's output (both streams); rejects if it exits first. */
function waitForLine(child: ChildProcess, pattern: RegExp, what: string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (data: Buffer): void => {
      text += data.toString();
      const match = pattern.exec(text);
      if (match) {
        done();
        resolve(match);
      }
    };
    const onExit = (code: number | null): void => {
      done();
      reject(new Error(`the target exited (${code}) before ${what}; output: ${text.slice(-500)}`));
    };
    const done = (): void => {
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

function runLoad(requests: number, url: string): void {
  const r = spawnSync(process.execPath, [load, String(requests), url], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`the load failed: ${r.stderr}`);
}

/** The engine's DevTools summary of one snapshot: retained size per RequestRecord, and live HTTP objects. */
export function measureSnapshot(name: string, file: string, className = promiseLeak.className): Measurement {
  const rows = summarizeClasses(loadAnalysis(file));
  const row = (cls: string) => rows.find((r) => r.className === cls);
  const record = row(className);
  const alive: Record<string, number> = {};
  for (const cls of ['IncomingMessage', 'ServerResponse', 'Socket']) alive[cls] = row(cls)?.count ?? 0;
  return {
    name,
    records: record?.count ?? 0,
    retainedPerRecord: record ? record.retainedSize / record.count : 0,
    alive,
  };
}

/** Runs the target under one variant, drives it, and measures the snapshot it writes of itself. */
export async function measureVariant(
  variant: Variant,
  requests: number,
  dir: string,
  app: App = promiseLeak,
): Promise<Measurement> {
  const file = path.join(dir, `${variant.name.replace(/[^a-z]+/gi, '-')}.heapsnapshot`);
  const args = [...(variant.inspect ? ['--inspect=127.0.0.1:0'] : []), '-r', preload, app.file];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, SNAPSHOT_FILE: file },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let client: CdpClient | undefined;
  try {
    const listening = waitForLine(child, /listening on (http:\/\/\S+)/, 'it listened');
    if (variant.inspect && !variant.noSession) {
      const [, wsUrl] = await waitForLine(child, /Debugger listening on (ws:\/\/\S+)/, 'the inspector opened');
      client = await CdpClient.connect(wsUrl);
      await variant.setup?.(client);
    }
    const [, url] = await listening;
    runLoad(requests, url);
    if (client) await variant.beforeSnapshot?.(client);
    const written = waitForLine(child, /snapshot written/, 'the snapshot was written');
    child.kill('SIGUSR2');
    await written;
    return measureSnapshot(variant.name, file, app.className);
  } finally {
    await client?.close();
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(file, { force: true });
  }
}

/** `leak-lens run` on the same program: the report's retained size per leaked object, and its own last snapshot. */
export function measureLeakLens(
  requests: number,
  dir: string,
  app: App = promiseLeak,
): { report: LeakReport; fromReport: number; lastSnapshot: Measurement; sidecarScripts: string[] } {
  const out = path.join(dir, 'run');
  const r = spawnSync(
    process.execPath,
    [cli, 'run', '--format', 'json', '--out', out, '--action', `node ${load} ${requests}`, '--', 'node', app.file],
    { encoding: 'utf8', timeout: 300_000 },
  );
  try {
    if (!r.stdout) throw new Error(`leak-lens run printed no report: ${r.stderr.slice(-1000)}`);
    const report = JSON.parse(r.stdout) as LeakReport;
    const group = report.leaks.find((g) => g.className === app.className);
    const last = report.snapshots[report.snapshots.length - 1].file;
    const sidecar = JSON.parse(readFileSync(`${last}.meta.json`, 'utf8')) as { scripts: { url: string }[] };
    return {
      report,
      fromReport: group ? group.retainedSize / group.count : 0,
      lastSnapshot: measureSnapshot('leak-lens run (its last snapshot)', last, app.className),
      sidecarScripts: sidecar.scripts.map((x) => x.url),
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const requests = Number(process.argv[2] ?? 200);
  const dir = mkdtempSync(path.join(tmpdir(), 'leak-lens-observer-'));
  try {
    console.log(`${requests} requests, then a snapshot written by the target itself (v8.writeHeapSnapshot)\n`);
    console.log('variant'.padEnd(64) + 'records  retained/record  alive req/res/socket');
    for (const variant of variants) {
      const m = await measureVariant(variant, requests, dir);
      console.log(
        `${m.name.padEnd(64)}${String(m.records).padStart(7)}  ${m.retainedPerRecord.toFixed(0).padStart(13)} B  ${m.alive.IncomingMessage}/${m.alive.ServerResponse}/${m.alive.Socket}`,
      );
    }
    const run = measureLeakLens(requests, dir);
    const group = run.report.leaks.find((g) => g.className === 'RequestRecord')!;
    console.log(
      `\nleak-lens run: RequestRecord x${group.count}, ${group.retainedSize} B retained = ${run.fromReport.toFixed(0)} B per record`,
    );
    console.log(`  retains: ${group.retains.map((x) => `${x.className} x${x.count} (${x.size} B)`).join(', ')}`);
    const m = run.lastSnapshot;
    console.log(
      `  its last snapshot: ${m.records} records, ${m.retainedPerRecord.toFixed(0)} B per record, alive req/res/socket ${m.alive.IncomingMessage}/${m.alive.ServerResponse}/${m.alive.Socket}`,
    );
    if (run.report.warnings.length) console.log(`  warnings: ${run.report.warnings.join(' | ')}`);

    console.log(
      `\nconsole-log.js: logs a LoggedEvent per request and keeps none; LoggedEvent alive after ${requests} requests`,
    );
    for (const variant of consoleVariants) {
      const c = await measureVariant(variant, requests, dir, consoleLog);
      console.log(`${c.name.padEnd(64)}${String(c.records).padStart(7)}`);
    }
    const logged = measureLeakLens(requests, dir, consoleLog);
    console.log(
      `leak-lens run: verdict ${logged.report.verdict}, ${logged.lastSnapshot.records} LoggedEvent alive in its last snapshot`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
