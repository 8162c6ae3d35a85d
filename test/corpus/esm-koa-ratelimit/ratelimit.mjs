// Modelled on https://github.com/SandeepVashishtha/Eventra/issues/7795 (a rate limiter's module-level Map that
// gets an entry per client and never drops expired ones).
// Fixed-window rate limiter middleware for Koa. Each client gets a bucket; a bucket whose window has passed is
// reset when the same client comes back, but buckets of clients that never come back are never removed.
const WINDOW_MS = 60_000;
const LIMIT = 120;

class Bucket {
  constructor(client, now) {
    this.client = client;
    this.count = 0;
    this.windowStart = now;
    this.firstSeen = new Date(now).toISOString();
  }
}

const buckets = new Map();

export function rateLimit() {
  return async (ctx, next) => {
    const client = ctx.get('x-request-id') || ctx.ip;
    const now = Date.now();
    let bucket = buckets.get(client);
    if (!bucket) {
      bucket = new Bucket(client, now);
      buckets.set(client, bucket);
    } else if (now - bucket.windowStart > WINDOW_MS) {
      bucket.count = 0;
      bucket.windowStart = now;
    }
    bucket.count++;
    if (bucket.count > LIMIT) {
      ctx.status = 429;
      ctx.body = { error: 'too many requests' };
      return;
    }
    ctx.set('x-ratelimit-remaining', String(LIMIT - bucket.count));
    await next();
  };
}
