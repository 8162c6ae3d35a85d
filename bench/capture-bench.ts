// Measures what a heap snapshot costs: streamed over CDP by this process, or written by `v8.writeHeapSnapshot`
// inside the target. Prints time per MB and the target's peak RSS for targets with about 50 MB and 200 MB of heap,
// and checks that both ways give the same object ids.
// Run: npx tsc -p . && node --max-old-space-size=4096 out/bench/capture-bench.js [heapMB ...]
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { launchForCapture, type CaptureSession, type SnapshotMethod } from '../src/capture';

// The target fills its heap with ordinary objects (a class instance, a string, a small array each) up to a size.
const targetSource = `
class Item {
  constructor(i) { this.id = i; this.name = 'item-' + i; this.tags = [i, i * 2]; }
}
// Held by the global object: a module-level const that no closure uses would be collected after startup.
const items = (globalThis.benchItems = []);
const goal = Number(process.argv[2]) * 1024 * 1024;
while (process.memoryUsage().heapUsed < goal) {
  for (let i = 0; i < 10000; i++) items.push(new Item(items.length));
}
setInterval(() => {}, 1000);
console.log('ready ' + process.memoryUsage().heapUsed);
`;

interface Row {
  heapMB: number;
  method: SnapshotMethod;
  fileMB: number;
  seconds: number;
  mbPerSecond: number;
  secondsPerMB: number;
  /** Until V8 reported the heap walk finished (CDP only): the rest is serializing and transferring. */
  walkSeconds?: number;
  rssBeforeMB: number;
  peakRssMB: number;
  /** This process's own peak RSS during the capture, which matters when capture runs in the extension host. */
  capturerPeakRssMB: number;
  /** What the session estimated the capture would add to the target before taking it (src/capture/budget.ts). */
  estimateMB?: number;
}

function procStatusKB(pid: number, field: string): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s*(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Resets VmHWM so it reports the peak of the next capture only (Linux, writing 5 to clear_refs). */
function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

async function measure(
  session: CaptureSession,
  pid: number,
  heapMB: number,
  method: SnapshotMethod,
  file: string,
): Promise<Row> {
  await session.collectGarbage();
  const rssBefore = procStatusKB(pid, 'VmRSS') ?? 0;
  const hwmReset = resetPeakRss(pid);
  // Polling VmRSS backs up VmHWM where clear_refs is not allowed; this process is not blocked by the target.
  let polledPeak = rssBefore;
  let capturerPeak = process.memoryUsage.rss();
  const poll = setInterval(() => {
    polledPeak = Math.max(polledPeak, procStatusKB(pid, 'VmRSS') ?? 0);
    capturerPeak = Math.max(capturerPeak, process.memoryUsage.rss());
  }, 10);
  const started = process.hrtime.bigint();
  let walkDone: bigint | undefined;
  const onProgress =
    method === 'cdp'
      ? (done: number, total: number): void => {
          if (done >= total) walkDone ??= process.hrtime.bigint();
        }
      : undefined;
  const result = await session.takeSnapshot(file, { method, gc: false, onProgress });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(poll);
  const hwm = hwmReset ? (procStatusKB(pid, 'VmHWM') ?? 0) : 0;
  const fileMB = result.meta.fileSize / 1024 / 1024;
  return {
    heapMB,
    method,
    fileMB,
    seconds,
    mbPerSecond: fileMB / seconds,
    secondsPerMB: seconds / fileMB,
    walkSeconds: walkDone === undefined ? undefined : Number(walkDone - started) / 1e9,
    rssBeforeMB: rssBefore / 1024,
    peakRssMB: Math.max(hwm, polledPeak) / 1024,
    capturerPeakRssMB: capturerPeak / 1024 / 1024,
    estimateMB: result.meta.capture ? result.meta.capture.estimateBytes / 1024 / 1024 : undefined,
  };
}

/**
 * Reads the node ids of a snapshot without holding the file as one string: the header gives the node field
 * layout, then the numbers of the `nodes` array are scanned chunk by chunk.
 */
async function readNodeIds(file: string): Promise<Float64Array> {
  let ids = new Float64Array(1 << 20);
  let count = 0;
  let fieldCount = 0;
  let idOffset = 0;
  let state: 'header' | 'nodes' | 'done' = 'header';
  let headerText = '';
  let fieldIndex = 0;
  let number = -1;
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    let text = chunk as string;
    if (state === 'header') {
      headerText += text;
      const start = headerText.indexOf('"nodes":[');
      if (start < 0) continue;
      const fields = JSON.parse(/"node_fields":(\[[^\]]*\])/.exec(headerText)?.[1] ?? '[]') as string[];
      fieldCount = fields.length;
      idOffset = fields.indexOf('id');
      text = headerText.slice(start + '"nodes":['.length);
      state = 'nodes';
    }
    if (state !== 'nodes') break;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code >= 48 && code <= 57) {
        number = (number < 0 ? 0 : number * 10) + (code - 48);
        continue;
      }
      if (number >= 0) {
        if (fieldIndex === idOffset) {
          if (count === ids.length) {
            const grown = new Float64Array(ids.length * 2);
            grown.set(ids);
            ids = grown;
          }
          ids[count++] = number;
        }
        fieldIndex = (fieldIndex + 1) % fieldCount;
        number = -1;
      }
      if (code === 93) {
        state = 'done';
        break;
      }
    }
    if (state === 'done') break;
  }
  return ids.slice(0, count).sort();
}

/** How many ids of `a` are also in `b`, both sorted. */
function sharedCount(a: Float64Array, b: Float64Array): number {
  let shared = 0;
  for (let i = 0, j = 0; i < a.length && j < b.length;) {
    if (a[i] === b[j]) {
      shared++;
      i++;
      j++;
    } else if (a[i] < b[j]) i++;
    else j++;
  }
  return shared;
}

async function benchHeap(dir: string, heapMB: number): Promise<Row[]> {
  const script = path.join(dir, 'target.js');
  writeFileSync(script, targetSource);
  let ready: (line: string) => void = () => undefined;
  const readyLine = new Promise<string>((resolve) => (ready = resolve));
  let output = '';
  const { program, session } = await launchForCapture(
    {
      args: [script, String(heapMB)],
      runtimeArgs: ['--max-old-space-size=4096'],
      onStdout: (data) => {
        output += data.toString();
        const match = /ready (\d+)/.exec(output);
        if (match) ready(match[1]);
      },
      onStderr: () => undefined,
      inspectorTimeoutMs: 30_000,
    },
    { callTimeoutMs: 300_000 },
  );
  const rows: Row[] = [];
  try {
    const heapUsed = Number(await readyLine);
    console.log(`target pid ${program.pid}: heapUsed ${(heapUsed / 1024 / 1024).toFixed(0)} MB`);
    const files: Record<string, string> = {};
    // Alternate the methods so neither always pays for the first pass that builds V8's object id map.
    for (const [index, method] of (['cdp', 'inprocess', 'cdp', 'inprocess'] as const).entries()) {
      const file = path.join(dir, `${heapMB}-${index}-${method}.heapsnapshot`);
      const row = await measure(session, program.pid, heapMB, method, file);
      rows.push(row);
      console.log(
        `  ${method.padEnd(9)} ${row.fileMB.toFixed(0)} MB in ${row.seconds.toFixed(2)} s, peak RSS ${row.peakRssMB.toFixed(0)} MB`,
      );
      if (index >= 2) files[method] = file;
      else rmSync(file, { force: true });
    }
    const cdpIds = await readNodeIds(files.cdp);
    const inprocessIds = await readNodeIds(files.inprocess);
    const shared = sharedCount(cdpIds, inprocessIds);
    console.log(
      `  ids: cdp ${cdpIds.length} nodes, inprocess ${inprocessIds.length} nodes, ${shared} ids in both ` +
        `(${((100 * shared) / Math.max(cdpIds.length, inprocessIds.length)).toFixed(3)}%)`,
    );
    for (const file of Object.values(files)) rmSync(file, { force: true });
  } finally {
    await session.close();
    await program.stop();
  }
  return rows;
}

async function main(): Promise<void> {
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => n > 0);
  const dir = mkdtempSync(path.join(tmpdir(), 'leak-lens-capture-bench-'));
  const rows: Row[] = [];
  try {
    for (const heapMB of sizes.length > 0 ? sizes : [50, 200]) rows.push(...(await benchHeap(dir, heapMB)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // For bench.ts: the rows as one JSON line.
  if (process.env.CAPTURE_BENCH_JSON === '1') console.log(`ROWS ${JSON.stringify(rows)}`);
  console.log(`\nnode ${process.version}, ${process.platform}/${process.arch}`);
  console.table(
    rows.map((row) => ({
      'heap MB': row.heapMB,
      method: row.method,
      'file MB': Number(row.fileMB.toFixed(1)),
      seconds: Number(row.seconds.toFixed(2)),
      'MB/s': Number(row.mbPerSecond.toFixed(1)),
      's per MB': Number(row.secondsPerMB.toFixed(3)),
      'heap walk s': row.walkSeconds === undefined ? '' : Number(row.walkSeconds.toFixed(2)),
      'target RSS before MB': Math.round(row.rssBeforeMB),
      'target peak RSS MB': Math.round(row.peakRssMB),
      'capturer peak RSS MB': Math.round(row.capturerPeakRssMB),
      // The first capture of a process shows the real cost: the allocator keeps the generator's memory afterwards,
      // so later captures raise the peak little. The estimate is checked against the first.
      'estimate MB': row.estimateMB === undefined ? '' : Math.round(row.estimateMB),
      'rise MB': Math.round(row.peakRssMB - row.rssBeforeMB),
    })),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
