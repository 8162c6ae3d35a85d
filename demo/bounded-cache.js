'use strict';
// CONTROL app (no leak). A profile service with a bounded LRU cache: every request inserts a new
// key and, once the cache is full, the least recently used entry is evicted, so the cache never
// holds more than MAX_ENTRIES CacheEntry objects. Each request also builds a pair of objects that
// point at each other (a.peer = b; b.peer = a); the cycle is dropped with the request and the
// garbage collector reclaims it. Memory stays flat after warm-up.
const { serve } = require('./lib/serve');

const MAX_ENTRIES = 50;

class CacheEntry {
  constructor(key, value) {
    this.key = key;
    this.value = value;
    this.storedAt = Date.now();
    this.hits = 0;
  }
}

class LruCache {
  constructor(max) {
    this.max = max;
    this.map = new Map();
  }

  get(key) {
    const entry = this.map.get(key);
    if (!entry) return undefined;
    // Re-insert to mark as most recently used.
    this.map.delete(key);
    this.map.set(key, entry);
    entry.hits++;
    return entry.value;
  }

  set(key, value) {
    this.map.delete(key);
    this.map.set(key, new CacheEntry(key, value));
    while (this.map.size > this.max) {
      const oldest = this.map.keys().next().value;
      this.map.delete(oldest);
    }
  }
}

class PeerSpan {
  constructor(role, requestId) {
    this.role = role;
    this.requestId = requestId;
    this.peer = null;
    this.events = [`${role} opened`];
  }
}

const cache = new LruCache(MAX_ENTRIES);

function loadProfile(key) {
  return {
    key,
    displayName: `user ${key.slice(-6)}`,
    bio: `Profile for ${key}. `.repeat(20),
    loadedAt: new Date().toISOString(),
  };
}

function trace(requestId) {
  const client = new PeerSpan('client', requestId);
  const server = new PeerSpan('server', requestId);
  client.peer = server;
  server.peer = client;
  server.events.push('handled');
  return client.events.length + client.peer.events.length;
}

serve((req, res) => {
  const key = req.url;
  let profile = cache.get(key);
  if (!profile) {
    profile = loadProfile(key);
    cache.set(key, profile);
  }
  const spans = trace(req.headers['x-request-id'] || key);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ name: profile.displayName, spans, cached: cache.map.size }));
});
