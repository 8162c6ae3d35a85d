/**
 * Leaks from V8's sampling heap profiler, with no heap snapshot. The profiler samples about one allocation per
 * `interval` bytes, keeps each sample with its allocation stack for as long as the sampled object lives, and numbers
 * samples in allocation order (`ordinal`). Profiles read after a forced GC at each round boundary therefore tell,
 * per allocation stack, how many sampled objects are alive at each boundary, and, from the last profile, which
 * round allocated each survivor: a sample alive at the end with an ordinal above the highest live ordinal at the
 * boundary before a round, and at most the highest at the boundary after it, was allocated in that round (anything
 * alive at the end was alive at every later boundary).
 *
 * A stack leaks when its objects survive from the first round and from the last, and its live samples grow at
 * every boundary. What this cannot tell: what holds the objects (no retainers), their class, and leaks smaller than
 * a few sampling intervals per round (they may draw no sample). It costs the program almost nothing, which is why
 * it is offered where a snapshot is too costly.
 */
import type { SourceResolver } from './source';
import type {
  SamplingCallFrame,
  SamplingFindings,
  SamplingFrame,
  SamplingGrowth,
  SamplingProfile,
  SamplingProfileNode,
} from '../protocol/report';

const MAX_FRAMES = 8;

/** Frames of Node itself and V8 (no file on disk) say nothing the user can change. */
function isInternal(frame: SamplingCallFrame): boolean {
  const url = frame.url;
  return !url || url.startsWith('node:') || url.startsWith('internal/') || (!url.includes('/') && !url.includes('\\'));
}

/**
 * Analyses profiles taken at K boundaries (K - 1 rounds between them). `interval` is the sampling interval in bytes.
 * Frames are resolved to source (and through source maps) with `resolver`.
 */
export function analyzeSampling(
  profiles: SamplingProfile[],
  interval: number,
  resolver?: SourceResolver,
): SamplingFindings {
  const rounds = profiles.length - 1;
  if (rounds < 1) throw new Error('sampling needs profiles at two boundaries at least');
  // A stack's key is its frames from the allocation outwards; node ids are not kept across profiles.
  const keyed = profiles.map((p) => stacksOf(p));
  const maxOrdinal = profiles.map((p) => p.samples.reduce((m, s) => Math.max(m, s.ordinal), 0));
  const last = profiles[profiles.length - 1];
  const lastStacks = keyed[keyed.length - 1];
  const byKey = new Map<string, { frames: SamplingCallFrame[]; survivors: number[]; bytes: number }>();
  for (const sample of last.samples) {
    const stack = lastStacks.get(sample.nodeId);
    // Allocations with no frame in a file (Node's own internals only) point at nothing the user can change.
    if (!stack || stack.frames.length === 0) continue;
    // The round that allocated it: after boundary r - 1, by boundary r.
    let round = 0;
    for (let r = 1; r <= rounds; r++) {
      if (sample.ordinal > maxOrdinal[r - 1] && sample.ordinal <= maxOrdinal[r]) round = r;
    }
    if (round === 0) continue;
    let e = byKey.get(stack.key);
    if (!e)
      byKey.set(stack.key, (e = { frames: stack.frames, survivors: new Array<number>(rounds).fill(0), bytes: 0 }));
    e.survivors[round - 1]++;
    e.bytes += Math.max(sample.size, interval);
  }
  // Live samples per stack at each boundary.
  const liveAt = keyed.map((stacks, i) => {
    const counts = new Map<string, number>();
    for (const s of profiles[i].samples) {
      const key = stacks.get(s.nodeId)?.key;
      if (key !== undefined) counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  });
  const growth: SamplingGrowth[] = [];
  for (const [key, e] of byKey) {
    // Objects of a leak survive from every round; a bounded structure's survivors come from the latest rounds only.
    if (e.survivors.some((n) => n === 0)) continue;
    const live = liveAt.map((counts) => counts.get(key) ?? 0);
    if (!live.every((n, i) => i === 0 || n > live[i - 1])) continue;
    const stack = e.frames
      .slice(0, MAX_FRAMES)
      .map((f, i, all) => frameOf(f, resolver, i > 0 ? all[i - 1].functionName : undefined));
    const at = Math.max(
      0,
      stack.findIndex((f) => !f.library && f.location),
    );
    const inConstructor =
      /^[A-Z]/.test(stack[at].function) && at + 1 < stack.length && !stack[at + 1].library && stack[at + 1].location;
    const site = inConstructor ? stack[at + 1] : stack[at];
    growth.push({
      stack,
      site,
      ...(inConstructor ? { constructs: stack[at].function } : {}),
      liveSamples: live,
      survivorsPerRound: e.survivors,
      estimatedBytes: e.bytes,
    });
  }
  growth.sort((a, b) => b.estimatedBytes - a.estimatedBytes);
  return { interval, rounds, growth };
}

/** Each profile node's stack (innermost first, internal frames dropped) and its key. */
function stacksOf(profile: SamplingProfile): Map<number, { key: string; frames: SamplingCallFrame[] }> {
  const out = new Map<number, { key: string; frames: SamplingCallFrame[] }>();
  const walk = (node: SamplingProfileNode, outer: SamplingCallFrame[]): void => {
    const frames =
      isInternal(node.callFrame) || node.callFrame.functionName === '(root)' ? outer : [node.callFrame, ...outer];
    out.set(node.id, {
      key: frames.map((f) => `${f.functionName}|${f.url}|${f.lineNumber}|${f.columnNumber}`).join('\n'),
      frames,
    });
    for (const child of node.children) walk(child, frames);
  };
  walk(profile.head, []);
  return out;
}

/**
 * A frame's place: for a caller, the line in it that calls the next frame's function (found in the source); for the
 * innermost frame, and where the call is not found, the function's first line (all V8 records).
 */
function frameOf(f: SamplingCallFrame, resolver?: SourceResolver, callee?: string): SamplingFrame {
  const runtime = { file: f.url, line: f.lineNumber + 1, column: f.columnNumber + 1 };
  const location = resolver
    ? ((callee ? resolver.findCall(runtime, callee) : undefined) ?? resolver.resolve(runtime))
    : undefined;
  return {
    function: f.functionName || '(anonymous)',
    ...(location ? { location } : {}),
    ...(/[\\/]node_modules[\\/]/.test(f.url) ? { library: true as const } : {}),
  };
}
