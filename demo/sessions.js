'use strict';
// A small storefront API with in-memory sessions. A visitor without a `sid` cookie gets a fresh
// Session; sessions carry a maxAge but nothing ever sweeps them out of `sessions`, and clients
// that ignore cookies (API scripts, health checks, the load generator) create a new one per request.
const crypto = require('crypto');
const { serve } = require('./lib/serve');

const SESSION_MAX_AGE_MS = 30 * 60 * 1000;
const CATALOG = Array.from({ length: 20 }, (_, i) => ({ sku: `SKU-${1000 + i}`, name: `Product ${i}`, price: 5 + i }));

class Session {
  constructor(req) {
    this.id = crypto.randomUUID();
    this.createdAt = Date.now();
    this.expiresAt = this.createdAt + SESSION_MAX_AGE_MS;
    this.csrfToken = crypto.randomBytes(32).toString('hex');
    this.userAgent = req.headers['user-agent'] || '';
    this.ip = req.socket.remoteAddress;
    this.cart = [];
    this.recentlyViewed = [];
    this.flash = [];
    // Seeded so the first page can show something personal before the visitor has done anything.
    this.recommendations = CATALOG.slice(0, 12).map((p, i) => ({
      sku: p.sku,
      score: 1 - i / 12,
      reason: `Popular with visitors from ${this.ip} this week (#${i + 1})`,
    }));
  }
}

const sessions = new Map();

function parseCookies(header) {
  const out = {};
  for (const part of (header || '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

function loadSession(req, res) {
  const sid = parseCookies(req.headers.cookie).sid;
  const existing = sid && sessions.get(sid);
  if (existing) return existing;
  const session = new Session(req);
  sessions.set(session.id, session);
  res.setHeader('set-cookie', `sid=${session.id}; HttpOnly; Path=/; Max-Age=${SESSION_MAX_AGE_MS / 1000}`);
  return session;
}

serve((req, res) => {
  const session = loadSession(req, res);
  const product = CATALOG[Math.floor(Math.random() * CATALOG.length)];
  session.recentlyViewed.push({ sku: product.sku, at: new Date().toISOString(), path: req.url });
  if (session.recentlyViewed.length > 10) session.recentlyViewed.shift();
  session.cart.push({ sku: product.sku, qty: 1, price: product.price, addedFrom: req.headers['x-request-id'] || null });
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ product, cartSize: session.cart.length, csrfToken: session.csrfToken }));
});
