// Modelled on https://github.com/unjs/ocache/pull/38 (a memory cache bounded with maxSize and LRU eviction, so high-cardinality keys can no longer grow it)
'use strict';
const http = require('http');

class CachedPage {
  constructor(key, html) {
    this.key = key;
    this.html = html;
    this.etag = `W/"${html.length.toString(16)}-${key.length}"`;
    this.storedAt = Date.now();
    this.hits = 0;
  }
}

class LruCache {
  constructor(maxSize) {
    this.maxSize = maxSize;
    this.entries = new Map();
  }

  get(key) {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    // Re-insert so that Map order stays least- to most-recently used.
    this.entries.delete(key);
    this.entries.set(key, entry);
    entry.hits++;
    return entry;
  }

  set(key, value) {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.maxSize) {
      this.entries.delete(this.entries.keys().next().value);
    }
  }
}

const pages = new LruCache(50);

function render(url) {
  return `<html><body><h1>Search</h1><p>Results for ${url.searchParams.get('requestId')}</p></body></html>`;
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const key = url.pathname + url.search;
  let page = pages.get(key);
  if (!page) {
    page = new CachedPage(key, render(url));
    pages.set(key, page);
  }
  res.writeHead(200, { 'content-type': 'text/html', etag: page.etag });
  res.end(page.html);
});

server.listen(0, '127.0.0.1', () => {
  console.log(`search pages listening on http://127.0.0.1:${server.address().port}/`);
});
