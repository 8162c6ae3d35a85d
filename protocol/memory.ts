/**
 * The memory figures of a process, as `process.memoryUsage()` gives them (bytes), and one point of a time series of
 * them. One shape for the capture library, the debug adapter's requests, the sidecar, the report and the timeline.
 * No imports.
 */

/** `process.memoryUsage()` of a target, in bytes. Fields a fallback cannot know are absent. */
export interface MemoryUsage {
  rss?: number;
  heapTotal: number;
  heapUsed: number;
  external?: number;
  arrayBuffers?: number;
}

/** One point of a memory time series: the figures and when they were read, in milliseconds since the epoch. */
export interface MemorySample extends MemoryUsage {
  time: number;
}
