// Sliding-window rate limiter: remembers the request times of each key within the window.

export interface Verdict {
  allowed: boolean;
  remaining: number;
}

export class ClientWindow {
  readonly hits: number[] = [];
  lastSeen: number;

  constructor(readonly key: string, now: number) {
    this.lastSeen = now;
  }
}

export class SlidingWindowLimiter {
  private readonly windows = new Map<string, ClientWindow>();

  constructor(private readonly windowMs: number, private readonly limit: number) {}

  check(key: string, now: number): Verdict {
    let win = this.windows.get(key);
    if (win === undefined) {
      win = new ClientWindow(key, now);
      this.windows.set(key, win);
    }
    // Old hits fall out of the window, but a key whose hits have all expired keeps its (empty) window.
    while (win.hits.length > 0 && now - win.hits[0] > this.windowMs) win.hits.shift();
    win.lastSeen = now;
    if (win.hits.length >= this.limit) return { allowed: false, remaining: 0 };
    win.hits.push(now);
    return { allowed: true, remaining: this.limit - win.hits.length };
  }
}
