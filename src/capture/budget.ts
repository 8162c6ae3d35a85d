/**
 * What a heap snapshot will cost the target, checked before it is taken. V8's snapshot generator builds its own graph
 * of the heap (an entry per object, one per reference, and the names) in the target's memory, then serializes it:
 * measured on Node 20 with heaps of small objects (bench/capture-bench.ts), the target's RSS rose by 570 to 620 bytes
 * per heap object, 12 to 14 times the bytes of a heap of small objects. A target in a container whose limit that
 * crosses is killed by the kernel mid-capture, so a capture that cannot fit is refused with the figures, unless the
 * caller insists.
 *
 * The facts come from the target itself (`Runtime.evaluate`, returning plain values, keeping nothing alive): its
 * memory usage, its cgroup's limit and usage as the target's own namespace shows them (cgroup v2 `memory.max`, v1
 * `memory.limit_in_bytes`), and the machine's available memory. Read from inside, they are right also for a target in
 * a container that Leak Lens attached to from outside.
 */
import type { CaptureCost } from '../../protocol/sidecar';
import { formatBytes } from '../../protocol/units';

export type { CaptureCost };

/** Bytes of target memory the snapshot generator needs per heap object (measured; see the module comment). */
export const BYTES_PER_OBJECT = 640;
/**
 * Objects per byte of heap when nothing better is known: the density of a heap made only of small objects, the worst
 * case measured (1.16 M objects in 51 MB). Heaps of code, long strings and arrays have far fewer objects per byte.
 */
export const WORST_OBJECTS_PER_BYTE = 1 / 44;
/** The room a capture must leave beyond its estimate. */
const SAFETY = 1.1;

/** What the target says about its memory and its limits (bytes; a limit is absent when there is none). */
export interface CaptureFacts {
  rss?: number;
  /** The target's peak RSS so far (process.resourceUsage().maxRSS). */
  peakRss?: number;
  heapUsed: number;
  /** The tightest cgroup memory limit over the target's cgroup and its parents, and that cgroup's usage. */
  limit?: { bytes: number; usage: number; source: string };
  /** The machine's available memory (`MemAvailable` of /proc/meminfo). */
  available?: number;
}

/** Runs in the target: plain numbers only, no globals written, nothing retained. Linux only; elsewhere limits are absent. */
export const FACTS_EXPRESSION = `(() => {
  const out = {};
  try {
    const m = process.memoryUsage();
    out.rss = m.rss; out.heapUsed = m.heapUsed;
    // Called here too, before the first snapshot, so that what Node compiles on its first call is in the baseline,
    // not new in the next snapshot (PEAK_RSS_EXPRESSION calls it after each snapshot).
    out.peakRss = process.resourceUsage().maxRSS * 1024;
  } catch { return out; }
  let fs;
  try { fs = process.getBuiltinModule ? process.getBuiltinModule('fs') : require('fs'); } catch { return out; }
  const read = (p) => { try { return fs.readFileSync(p, 'utf8').trim(); } catch { return undefined; } };
  const num = (t) => (t !== undefined && /^\\d+$/.test(t) ? Number(t) : undefined);
  const info = read('/proc/meminfo');
  const avail = info && /^MemAvailable:\\s+(\\d+) kB/m.exec(info);
  if (avail) out.available = Number(avail[1]) * 1024;
  const groups = (read('/proc/self/cgroup') || '').split('\\n');
  const candidates = [];
  for (const line of groups) {
    const [, controllers, rel] = line.split(':');
    if (rel === undefined) continue;
    if (controllers === '') candidates.push({ base: '/sys/fs/cgroup', rel, max: 'memory.max', cur: 'memory.current' });
    else if (controllers.split(',').includes('memory')) candidates.push({ base: '/sys/fs/cgroup/memory', rel, max: 'memory.limit_in_bytes', cur: 'memory.usage_in_bytes' });
  }
  for (const c of candidates) {
    // The process's own cgroup and each parent up to the mount's root (inside a namespace, the root is its own group).
    const parts = c.rel.split('/').filter(Boolean);
    for (let i = parts.length; i >= 0; i--) {
      const dir = c.base + (i ? '/' + parts.slice(0, i).join('/') : '');
      const max = num(read(dir + '/' + c.max));
      // v1 writes "no limit" as a huge page-aligned number.
      if (max === undefined || max >= 2 ** 60) continue;
      const usage = num(read(dir + '/' + c.cur));
      if (usage === undefined) continue;
      if (!out.limit || max - usage < out.limit.bytes - out.limit.usage) out.limit = { bytes: max, usage, source: dir + '/' + c.max };
    }
  }
  return out;
})()`;

/** Runs in the target after a capture: its lifetime peak RSS in bytes. */
export const PEAK_RSS_EXPRESSION = `(() => { try { return process.resourceUsage().maxRSS * 1024; } catch { return undefined; } })()`;

/** The extra memory a snapshot needs, from the heap size and, when known, the objects per byte of a previous snapshot. */
export function estimateCapture(
  heapUsed: number,
  previous?: { objects: number; heapUsed: number },
): Pick<CaptureCost, 'estimateBytes' | 'objectsFrom'> {
  const density =
    previous && previous.objects > 0 && previous.heapUsed > 0 ? previous.objects / previous.heapUsed : undefined;
  const objects = heapUsed * (density ?? WORST_OBJECTS_PER_BYTE);
  return {
    estimateBytes: Math.round(objects * BYTES_PER_OBJECT),
    objectsFrom: density ? 'previous snapshot' : 'heap size',
  };
}

/** The room the target has for the capture, and what limits it. */
export function captureRoom(facts: CaptureFacts): { bytes: number; from: string } | undefined {
  const rooms: { bytes: number; from: string }[] = [];
  if (facts.limit) {
    rooms.push({
      bytes: facts.limit.bytes - facts.limit.usage,
      from: `its container's limit ${formatBytes(facts.limit.bytes)} with ${formatBytes(facts.limit.usage)} in use (${facts.limit.source})`,
    });
  }
  if (facts.available !== undefined)
    rooms.push({ bytes: facts.available, from: `the machine's available memory ${formatBytes(facts.available)}` });
  return rooms.sort((a, b) => a.bytes - b.bytes)[0];
}

/** Words every refusal carries, by which a refusal that crossed a protocol (the debug adapter's answer) is known. */
export const TOO_BIG_MARK = 'the process could be killed';

/** True for a refusal of {@link checkCapture}, also when it arrives as another error's message. */
export function isCaptureTooBig(error: unknown): boolean {
  return error instanceof CaptureTooBigError || (error instanceof Error && error.message.includes(TOO_BIG_MARK));
}

/** Thrown when a snapshot would need more memory than the target has: the message is the one line a user sees. */
export class CaptureTooBigError extends Error {
  constructor(
    message: string,
    readonly cost: CaptureCost,
  ) {
    super(message);
    this.name = 'CaptureTooBigError';
  }
}

/**
 * Refuses a capture whose estimate exceeds the room, with the figures and what to do. Returns the cost to record
 * when it fits (or when nothing is known about the room).
 */
export function checkCapture(
  facts: CaptureFacts,
  previous: { objects: number; heapUsed: number } | undefined,
  force: boolean,
  forceHint: string,
): CaptureCost {
  const estimate = estimateCapture(facts.heapUsed, previous);
  const room = captureRoom(facts);
  const cost: CaptureCost = {
    ...estimate,
    ...(room ? { roomBytes: Math.max(0, room.bytes), roomFrom: room.from } : {}),
  };
  // The estimate came within 3% of the measured rise (bench/capture-bench.ts, 25 to 100 MB heaps); 10% more is kept free.
  if (room && estimate.estimateBytes * SAFETY > room.bytes && !force) {
    throw new CaptureTooBigError(
      `a heap snapshot of this process would need about ${formatBytes(estimate.estimateBytes)} more memory in it (heap ${formatBytes(facts.heapUsed)}, ` +
        `estimated from the ${estimate.objectsFrom}), but ${room.from} leaves ${formatBytes(Math.max(0, room.bytes))}: ${TOO_BIG_MARK}; ` +
        `give it more memory, find leaks without snapshots (leak-lens run --sampling), or ${forceHint}`,
      cost,
    );
  }
  return cost;
}
