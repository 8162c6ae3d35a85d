/**
 * `leak-lens/test`: `await assertNoLeak(fn, options)` inside a test of node:test, mocha, jest or any runner. It calls
 * `fn` in rounds in this very process, takes heap snapshots through the in-process inspector session (`node:inspector`)
 * into a temporary folder, analyses them with the engine as `leak-lens run` does (in the engine's worker thread),
 * removes them, and throws a {@link LeakError} whose message is the report's text (class, owner file:line, allocation
 * file:line, retainer path) when something stays behind from every round.
 *
 * Nothing of the rounds is kept here: `fn`'s results are awaited and dropped. The session keeps the Debugger domain
 * off except for a moment before each snapshot (to learn the scripts, as capture does), so no promise is linked to
 * its awaiters, and it is closed before the analysis.
 */
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as inspector from 'inspector';
import * as os from 'os';
import * as path from 'path';
import { fileURLToPath } from 'url';
import * as v8 from 'v8';
import { EngineClient } from '../../engine/client';
import type { EngineAnswer } from '../../protocol/engine';
import { formatReport } from '../cli/format';
import { guardAllocationTracking } from '../capture/trackingGuard';
import type { LeakReport } from '../../protocol/report';

export interface AssertNoLeakOptions {
  /** Calls of `fn` per round (default 20). */
  iterations?: number;
  /** Rounds after the baseline snapshot, each followed by a snapshot (default 2; at least 1). */
  rounds?: number;
  /** Record where objects are allocated, so the message names the allocating line (default true; slower). */
  trackAllocations?: boolean;
  /** Folder for the snapshots while they are analysed (default: the OS's temporary folder); they are removed. */
  tmpDir?: string;
}

/** The failure of {@link assertNoLeak}: its message is the leak report as text, `report` the report itself. */
export class LeakError extends Error {
  constructor(
    message: string,
    readonly report: LeakReport,
  ) {
    super(message);
    this.name = 'LeakError';
  }
}

function wholeNumber(value: unknown, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new TypeError(
      `assertNoLeak: options.${name} must be a whole number of at least ${min}, not ${JSON.stringify(value)}`,
    );
  }
  return value;
}

interface ScriptRecord {
  scriptId: string;
  url: string;
  sourceMapURL?: string;
}

/** The in-process inspector session, with commands as promises and snapshots written straight to a file. */
class InProcessCapture {
  private readonly session = new inspector.Session();
  private readonly scripts = new Map<string, ScriptRecord>();
  private readonly id = randomUUID();
  private sequence = 0;
  private chunkFd: number | undefined;
  /** Scripts with an inline source map not looked at yet (see {@link redirectTransformed}). */
  private readonly inlineMapped: string[] = [];
  tracking = false;

  constructor(private readonly dir: string) {
    this.session.connect();
    this.session.on('Debugger.scriptParsed', ({ params }) => {
      if (params.url && !this.scripts.has(params.scriptId)) {
        this.scripts.set(params.scriptId, {
          scriptId: params.scriptId,
          url: params.url,
          ...(params.sourceMapURL ? { sourceMapURL: params.sourceMapURL } : {}),
        });
        if (params.sourceMapURL?.startsWith('data:') && !params.url.startsWith('node:'))
          this.inlineMapped.push(params.scriptId);
      }
    });
    // The in-process session hands over the chunks while V8 builds the snapshot: each goes to the file at once.
    this.session.on('HeapProfiler.addHeapSnapshotChunk', ({ params }) => {
      if (this.chunkFd !== undefined) fs.writeSync(this.chunkFd, params.chunk);
    });
  }

  /** A command answered before `post` returns, as the in-process session does: no other code runs in between. */
  private postNow(method: string, params: object = {}): unknown {
    let answer: { error: Error | null; result: unknown } | undefined;
    this.session.post(method, params, (error, result) => (answer = { error, result }));
    if (!answer) throw new Error(`${method} was not answered at once`);
    if (answer.error) throw new Error(`${method} failed: ${answer.error.message}`);
    return answer.result;
  }

  /**
   * Learns every live script: V8 reports each when the Debugger domain is turned on, and it is off again before any
   * other code runs (while it is on, V8 links promises to their awaiters). The source of each new script with an
   * inline source map is read meanwhile, for {@link redirectTransformed}.
   */
  private learnScripts(): void {
    const sources = new Map<string, string>();
    this.postNow('Debugger.enable');
    try {
      for (const scriptId of this.inlineMapped.splice(0)) {
        try {
          sources.set(
            scriptId,
            (this.postNow('Debugger.getScriptSource', { scriptId }) as { scriptSource: string }).scriptSource,
          );
        } catch {
          // Gone since: nothing of it can be in the snapshot.
        }
      }
    } finally {
      this.postNow('Debugger.disable');
    }
    for (const [scriptId, source] of sources) this.redirectTransformed(this.scripts.get(scriptId)!, source);
  }

  /**
   * A test runner that transforms files in memory (jest with babel-jest) runs code that is not the file on disk,
   * under the file's name and with an inline source map: the engine, which reads the file at the script's name,
   * would find the wrong lines. Such a script's code and map are written to the temporary folder and the sidecar
   * names them instead, with the map's sources made absolute, so its positions map back to the file on disk.
   */
  private redirectTransformed(script: ScriptRecord, source: string): void {
    try {
      const file = script.url.startsWith('file://') ? fileURLToPath(script.url) : script.url;
      if (!path.isAbsolute(file) || fs.readFileSync(file, 'utf8') === source) return;
      const url = script.sourceMapURL!;
      const comma = url.indexOf(',');
      const body = url.slice(comma + 1);
      const map = JSON.parse(
        url.slice(0, comma).endsWith(';base64')
          ? Buffer.from(body, 'base64').toString('utf8')
          : decodeURIComponent(body),
      ) as { sources?: string[]; sourceRoot?: string };
      const root = path.resolve(path.dirname(file), map.sourceRoot ?? '');
      map.sources = (map.sources ?? []).map((s) =>
        s.startsWith('file://') ? fileURLToPath(s) : path.resolve(root, s),
      );
      delete map.sourceRoot;
      const generated = path.join(this.dir, 'transformed', `${script.scriptId}-${path.basename(file)}`);
      fs.mkdirSync(path.dirname(generated), { recursive: true });
      fs.writeFileSync(generated, source);
      fs.writeFileSync(`${generated}.map`, JSON.stringify(map));
      script.url = generated;
      script.sourceMapURL = `${generated}.map`;
    } catch {
      // Unreadable file or map: the script keeps its own name, and its lines may be off.
    }
  }

  post(method: string, params: object = {}): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.session.post(method, params, (error, result) =>
        error ? reject(new Error(`${method} failed: ${error.message}`)) : resolve(result),
      );
    });
  }

  /** Writes one snapshot (after two forced GCs) and its sidecar; with `stopTracking`, the one V8 makes as tracking stops. */
  async snapshot(file: string, label: string, stopTracking: boolean): Promise<void> {
    // A GC here runs inside a task of this process: what it frees is reported to async_hooks `destroy` hooks and
    // FinalizationRegistry callbacks only in a later turn of the event loop (node:test's own hook keeps an entry per
    // live promise until then). Each GC is followed by such a turn, and the last one by two GCs, as capture does.
    await this.post('HeapProfiler.collectGarbage');
    await new Promise((resolve) => setImmediate(resolve));
    await this.post('HeapProfiler.collectGarbage');
    await new Promise((resolve) => setImmediate(resolve));
    await this.post('HeapProfiler.collectGarbage');
    await this.post('HeapProfiler.collectGarbage');
    // Console messages kept for a debugger to replay would look leaked; there is none to show them here.
    await this.post('Runtime.discardConsoleEntries').catch(() => undefined);
    this.learnScripts();
    const memoryUsage = process.memoryUsage();
    const time = new Date().toISOString();
    const partial = `${file}.partial`;
    this.chunkFd = fs.openSync(partial, 'wx');
    try {
      if (stopTracking) {
        await this.post('HeapProfiler.stopTrackingHeapObjects', { reportProgress: false });
        this.tracking = false;
      } else await this.post('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    } finally {
      fs.closeSync(this.chunkFd);
      this.chunkFd = undefined;
    }
    fs.renameSync(partial, file);
    this.sequence++;
    const meta = {
      formatVersion: 1,
      snapshotFile: path.basename(file),
      fileSize: fs.statSync(file).size,
      sessionId: this.id,
      sequence: this.sequence,
      pid: process.pid,
      nodeVersion: process.version,
      platform: process.platform,
      arch: process.arch,
      time,
      label,
      memoryUsage: {
        rss: memoryUsage.rss,
        heapTotal: memoryUsage.heapTotal,
        heapUsed: memoryUsage.heapUsed,
        external: memoryUsage.external,
        arrayBuffers: memoryUsage.arrayBuffers,
      },
      allocationTracking: stopTracking || this.tracking,
      forcedGc: true,
      method: 'inprocess',
      scripts: [...this.scripts.values()],
    };
    fs.writeFileSync(`${file}.meta.json`, `${JSON.stringify(meta)}\n`);
  }

  async close(): Promise<void> {
    if (this.tracking)
      await this.post('HeapProfiler.stopTrackingHeapObjects', { reportProgress: false }).catch(() => undefined);
    this.tracking = false;
    this.session.disconnect();
  }
}

/**
 * Calls `fn` `iterations` times to warm up, takes a baseline snapshot, then `rounds` times calls it `iterations` times
 * and takes a snapshot; resolves when nothing grows from round to round, and rejects with a {@link LeakError} naming
 * what leaks (its class, the variable or property that holds it with its file:line, and where it is allocated).
 * An error thrown by `fn` rejects as it is. Snapshots are written to a temporary folder and removed, pass or fail.
 */
export async function assertNoLeak(fn: () => unknown, options: AssertNoLeakOptions = {}): Promise<void> {
  if (typeof fn !== 'function')
    throw new TypeError(`assertNoLeak: the first argument must be the function to repeat, not ${typeof fn}`);
  const iterations = wholeNumber(options.iterations, 'iterations', 20, 1);
  const rounds = wholeNumber(options.rounds, 'rounds', 2, 1);
  const track = options.trackAllocations ?? true;
  // Two measurements at once (tests run concurrently) would see each other's rounds: they take turns.
  const turn = queue.then(() => measure(fn, iterations, rounds, track, options.tmpDir));
  queue = turn.then(
    () => undefined,
    () => undefined,
  );
  return turn;
}

/** The measurement running now, if any; the next one starts when it has settled. */
let queue: Promise<void> = Promise.resolve();

async function measure(
  fn: () => unknown,
  iterations: number,
  rounds: number,
  track: boolean,
  tmpDir: string | undefined,
): Promise<void> {
  const dir = fs.mkdtempSync(path.join(tmpDir ?? os.tmpdir(), 'leak-lens-assert-'));
  try {
    const files: string[] = [];
    const capture = new InProcessCapture(dir);
    // V8's allocation tracker loses the stacks of pretenured objects, which leaking objects become; it is off only
    // while the rounds run, and changes where V8 first places long-lived objects, never which are reachable.
    let pretenuringOff = false;
    try {
      await capture.post('HeapProfiler.enable');
      if (track) {
        // Node < 22 can crash while it tracks allocations unless escape analysis is off (trackingGuard.ts).
        await guardAllocationTracking((method, params) => capture.post(method, params));
        v8.setFlagsFromString('--no-allocation-site-pretenuring');
        pretenuringOff = true;
        await capture.post('HeapProfiler.startTrackingHeapObjects', { trackAllocations: true });
        capture.tracking = true;
      }
      const repeat = async (): Promise<void> => {
        for (let i = 0; i < iterations; i++) await fn();
      };
      await repeat();
      for (let r = 0; r <= rounds; r++) {
        if (r > 0) await repeat();
        const file = path.join(dir, `s${r + 1}.heapsnapshot`);
        await capture.snapshot(file, r === 0 ? 'baseline' : `after round ${r}`, track && r === rounds);
        files.push(file);
      }
    } finally {
      await capture.close();
      if (pretenuringOff) v8.setFlagsFromString('--allocation-site-pretenuring');
    }
    // The analysis runs in the engine's worker thread: a heap of its own, so what it loads (the TypeScript parser,
    // tens of MB) never joins the heap of this process, which later calls would snapshot again.
    const engine = new EngineClient();
    let answer: EngineAnswer<LeakReport>;
    try {
      answer = await engine.request({ kind: 'analyze', files });
    } finally {
      await engine.dispose();
    }
    if (!answer.ok) throw new Error(`assertNoLeak: the analysis of the snapshots failed: ${answer.error}`);
    const report = answer.value;
    if (report.verdict === 'leak') throw new LeakError(formatReport(report), report);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
