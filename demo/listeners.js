'use strict';
// Feature-flag aware API. Each request builds a RequestContext and subscribes to the app-wide
// config bus so that a flag flip is seen even by requests in flight. The subscription is never
// removed when the response ends, so `bus` keeps one 'config-changed' listener (and through its
// closure one RequestContext) per request ever served.
const { EventEmitter } = require('events');
const { serve } = require('./lib/serve');

const bus = new EventEmitter();
bus.setMaxListeners(0);

let flags = { newCheckout: false, darkMode: true };

class RequestContext {
  constructor(req) {
    this.requestId = req.headers['x-request-id'] || `${Date.now()}-${Math.random()}`;
    this.method = req.method;
    this.url = req.url;
    this.headers = { ...req.headers };
    this.startedAt = process.hrtime.bigint();
    this.flags = { ...flags };
    this.breadcrumbs = [`start ${req.method} ${req.url}`];
    this.user = { id: 'anonymous', roles: ['guest'], locale: req.headers['accept-language'] || 'en-US' };
    this.log = ['received', 'auth', 'flags', 'route'].map((step) => `${new Date().toISOString()} [${this.requestId}] ${step} ${req.method} ${req.url}`);
  }
}

function onConfigChanged(ctx) {
  return (next) => {
    ctx.flags = { ...next };
    ctx.breadcrumbs.push('flags refreshed');
  };
}

function renderHome(ctx) {
  ctx.breadcrumbs.push('render home');
  return { requestId: ctx.requestId, checkout: ctx.flags.newCheckout ? 'v2' : 'v1', theme: ctx.flags.darkMode ? 'dark' : 'light' };
}

serve((req, res) => {
  const ctx = new RequestContext(req);
  bus.on('config-changed', onConfigChanged(ctx));
  if (req.method === 'POST' && req.url === '/admin/flags') {
    flags = { ...flags, newCheckout: !flags.newCheckout };
    bus.emit('config-changed', flags);
  }
  const body = renderHome(ctx);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
});
