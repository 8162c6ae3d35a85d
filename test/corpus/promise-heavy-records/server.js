// Modelled on https://github.com/diegosouzapw/OmniRoute/pull/4107 (per-request details kept in module-level
// structures that are only trimmed on a path that never runs); see also https://github.com/nodejs/node/issues/28787
// (memory that only grows while a debugger is attached, through async stack tracking of promises).
'use strict';
// Orders endpoint with a chain of awaits (user lookup, orders, pricing, an audit delay). After each request it
// stores a small record for the "recent requests" dashboard; the dashboard was meant to trim the list when it
// is read, and nobody reads it.
const express = require('express');
const { setTimeout: sleep, setImmediate: yieldToLoop } = require('timers/promises');

class RequestRecord {
  constructor(requestId, user, orderCount, total, ms) {
    this.requestId = requestId;
    this.user = user;
    this.orderCount = orderCount;
    this.total = total;
    this.ms = ms;
    this.at = Date.now();
  }
}

const recentRequests = [];

const db = {
  async findUser(id) {
    await sleep(1);
    return { id, name: `customer ${id.slice(0, 6)}`, tier: id.charCodeAt(0) % 3 };
  },
  async findOrders(user) {
    await yieldToLoop();
    const orders = [];
    for (let i = 0; i < 3 + user.tier; i++) orders.push({ sku: `SKU-${i}`, qty: i + 1, price: 100 + i * 25 });
    return orders;
  },
};

async function price(orders, tier) {
  await yieldToLoop();
  const gross = orders.reduce((sum, o) => sum + o.qty * o.price, 0);
  await sleep(1);
  return Math.round(gross * (1 - tier * 0.05));
}

const app = express();

app.get('/', async (req, res, next) => {
  try {
    const started = Date.now();
    const id = req.get('x-request-id') || String(req.query.requestId || 'anonymous');
    const user = await db.findUser(id);
    const orders = await db.findOrders(user);
    const total = await price(orders, user.tier);
    await sleep(1);
    recentRequests.push(new RequestRecord(id, user.name, orders.length, total, Date.now() - started));
    res.json({ user: user.name, orders: orders.length, total });
  } catch (err) {
    next(err);
  }
});

app.get('/recent', (req, res) => {
  res.json(recentRequests.slice(-20));
  recentRequests.splice(0, Math.max(0, recentRequests.length - 1000));
});

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`orders listening on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
