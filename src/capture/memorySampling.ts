// The target's memory, asked through the inspector: one reading of `process.memoryUsage()`, and a sampler that takes
// one every so often for a memory timeline.
import { ConnectionClosedError, type CdpClient, type Disposable } from './cdp';
import type { MemorySample, MemoryUsage } from '../../protocol/memory';

/**
 * `process.memoryUsage()` of the target. Where that cannot run (not Node, `process` replaced, or the program
 * has finished) it falls back to `Runtime.getHeapUsage`, which knows only the JS heap.
 */
export async function readMemoryUsage(client: CdpClient): Promise<MemoryUsage> {
  const reply = await client
    .send('Runtime.evaluate', { expression: 'process.memoryUsage()', returnByValue: true, silent: true })
    .catch((error: unknown) => {
      // No context to evaluate in (the program finished) is a protocol error; a dead connection is not.
      if (error instanceof ConnectionClosedError) throw error;
      return undefined;
    });
  const value = reply?.result.value as Partial<MemoryUsage> | undefined;
  if (!reply?.exceptionDetails && typeof value?.heapUsed === 'number' && typeof value.heapTotal === 'number') {
    return {
      rss: value.rss,
      heapTotal: value.heapTotal,
      heapUsed: value.heapUsed,
      external: value.external,
      arrayBuffers: value.arrayBuffers,
    };
  }
  const heap = await client.send('Runtime.getHeapUsage', {});
  return { heapUsed: heap.usedSize, heapTotal: heap.totalSize };
}

/** How a sampler reads the target and when it must leave it alone. */
export interface MemorySamplerOptions {
  intervalMs: number;
  read: () => Promise<MemoryUsage>;
  /** True while the target cannot answer (a snapshot in progress) or is gone: the tick is skipped. */
  skip: () => boolean;
  onSample: (sample: MemorySample) => void;
  onError?: (error: Error) => void;
  /** Called once when the sampler is disposed. */
  onDispose?: () => void;
}

/**
 * Reads the target's memory now and then every `intervalMs` until disposed. A tick is skipped while the previous
 * reading is still in flight or `skip` says so. The timer alone does not keep the process alive.
 */
export function startMemorySampler(options: MemorySamplerOptions): Disposable {
  let inFlight = false;
  let disposed = false;
  const tick = (): void => {
    if (inFlight || disposed || options.skip()) return;
    inFlight = true;
    options.read().then(
      (usage) => {
        inFlight = false;
        if (!disposed) options.onSample({ time: Date.now(), ...usage });
      },
      (error: Error) => {
        inFlight = false;
        if (!disposed) options.onError?.(error);
      },
    );
  };
  const timer = setInterval(tick, options.intervalMs);
  // The sampler alone must not keep a CLI alive; the connection does that while it matters.
  timer.unref();
  tick();
  return {
    dispose: () => {
      if (disposed) return;
      disposed = true;
      clearInterval(timer);
      options.onDispose?.();
    },
  };
}
