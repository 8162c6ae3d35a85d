/**
 * A guard against a V8 crash under allocation tracking. With `HeapProfiler.startTrackingHeapObjects({ trackAllocations:
 * true })`, V8 before version 12 (Node 20 and older) records a stack for every allocation, also for the objects the
 * deoptimizer materializes while it rebuilds the frames of optimized code that escape analysis had taken apart; the
 * stack walk then reads a half-built frame and the target dies of SIGSEGV in `AllocationTracker::AllocationEvent`
 * (the crash of nodejs/node#38985). Measured here: an ES module server under load with tracking on died in 5 of 14
 * runs on Node 20.20; with escape analysis off (`--no-turbo-escape`), 0 of 28; Node 22 and 24 never (0 of 16).
 *
 * So before tracking starts in a Node < 22 thread, escape analysis is switched off (V8 flags are per process, so
 * once is enough). That changes how fast optimized code is, never which objects are reachable: what is measured stays
 * the same. Code that V8 optimized before this point keeps its escape analysis until it is next deoptimized, so a
 * program attached to after long running is safer but not immune; a program Leak Lens starts is guarded before its
 * hot code is optimized.
 */

/*
 * The same expression also stops V8 from compacting the old generation, on every Node version. V8's allocation tracker
 * keeps each object's stack under the object's address, and a GC that moves an object moves its stack only while the
 * heap profiler has no id for it (HeapProfiler::ObjectMoveEvent: `if (!known_object && allocation_tracker_)`). Every
 * snapshot gives ids to all live objects, so a compaction after it (a later full GC, one before the next snapshot)
 * leaves the moved objects without a stack, and whatever is allocated at their old addresses later with a stale one.
 * Measured: a sessions server under `leak-lens run --track-allocations` showed 138, 100, 49 and 35 of 200 leaked
 * objects with a stack in some runs; 2000 objects kept across a snapshot and a compacting GC lost all their stacks,
 * none with `--no-compact`. It changes where objects sit in memory (the old generation is not defragmented while it
 * is off), never which are reachable.
 */

/** What the guard did in the target, as the expression below answers. */
export type TrackingGuard = 'set' | 'not-needed' | 'unavailable';

/**
 * Run in the target by `Runtime.evaluate` with the console's command-line API (which gives `require` in Node's
 * inspector, also in ES modules and workers). Node 20.16+ also has `process.getBuiltinModule`.
 */
const GUARD_EXPRESSION = `(() => {
  if (typeof process !== 'object' || !process.versions || !process.versions.node) return 'unavailable';
  const recent = Number(process.versions.node.split('.')[0]) >= 22;
  let v8;
  try { v8 = typeof require === 'function' ? require('v8') : process.getBuiltinModule && process.getBuiltinModule('v8'); } catch { v8 = undefined; }
  if (!v8 || typeof v8.setFlagsFromString !== 'function') return recent ? 'not-needed' : 'unavailable';
  v8.setFlagsFromString('--no-compact');
  if (recent) return 'not-needed';
  v8.setFlagsFromString('--no-turbo-escape');
  return 'set';
})()`;

/** Sends one CDP command to the thread (its main session, or a worker's channel) and returns the result. */
export type SendCommand = (method: string, params: object) => Promise<unknown>;

/** Switches escape analysis off in a Node < 22 target before allocation tracking starts. Never throws. */
export async function guardAllocationTracking(send: SendCommand): Promise<TrackingGuard> {
  try {
    const reply = (await send('Runtime.evaluate', {
      expression: GUARD_EXPRESSION,
      includeCommandLineAPI: true,
      returnByValue: true,
      silent: true,
    })) as {
      result?: { value?: unknown };
    };
    const value = reply.result?.value;
    return value === 'set' || value === 'not-needed' ? value : 'unavailable';
  } catch {
    return 'unavailable';
  }
}

/** A line for logs when the guard could not be set in a target that needs it. */
export function trackingGuardNote(guard: TrackingGuard, nodeVersion: string | undefined): string | undefined {
  if (guard !== 'unavailable' || !nodeVersion || Number(/^v?(\d+)/.exec(nodeVersion)?.[1] ?? 99) >= 22)
    return undefined;
  return `could not switch off escape analysis in the ${nodeVersion} target; V8 of Node < 22 can crash while it tracks allocations (nodejs/node#38985): Node 22 or later, or --no-turbo-escape in the program's node options, avoids it`;
}
