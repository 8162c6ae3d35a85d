'use strict';
// Server-side rendered pages with a template cache. Compiling a template is costly, so compiled
// templates are cached in a static Map... but the cache key is the full request URL, query string
// included, so every request (each carries its own ?requestId=...) compiles and caches a new entry.
const { serve } = require('./lib/serve');

const PAGE_TEMPLATE = `<!doctype html>
<html>
  <head><title>{{title}}</title></head>
  <body>
    <header><h1>{{title}}</h1><p>Signed in as {{user}}</p></header>
    <main>
      <p>Request {{requestId}} served at {{time}}.</p>
      <ul>{{items}}</ul>
    </main>
    <footer>{{footer}}</footer>
  </body>
</html>
`.repeat(4);

class CompiledTemplate {
  constructor(key, source) {
    this.key = key;
    this.compiledAt = Date.now();
    // Split into literal chunks (whitespace collapsed) and placeholders: ['<html> ...', {name: 'title'}, ...].
    this.parts = [];
    const re = /\{\{(\w+)\}\}/g;
    let last = 0;
    let m;
    while ((m = re.exec(source)) !== null) {
      this.parts.push(source.slice(last, m.index).replace(/\s+/g, ' '), { name: m[1] });
      last = re.lastIndex;
    }
    this.parts.push(source.slice(last).replace(/\s+/g, ' '));
  }

  render(data) {
    return this.parts.map((p) => (typeof p === 'string' ? p : String(data[p.name] ?? ''))).join('');
  }
}

class TemplateCache {
  static entries = new Map();

  static get(key, source) {
    let tpl = TemplateCache.entries.get(key);
    if (!tpl) {
      tpl = new CompiledTemplate(key, source);
      TemplateCache.entries.set(key, tpl);
    }
    return tpl;
  }
}

serve((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const tpl = TemplateCache.get(req.url, PAGE_TEMPLATE);
  const html = tpl.render({
    title: 'Dashboard',
    user: 'demo',
    requestId: url.searchParams.get('requestId') || '-',
    time: new Date().toISOString(),
    items: ['alpha', 'beta', 'gamma'].map((x) => `<li>${x}</li>`).join(''),
    footer: 'static-cache demo',
  });
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(html);
});
