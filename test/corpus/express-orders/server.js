// Modelled on https://github.com/expressjs/express/issues/3552 (an express server whose heap grows with every request and never goes back down)
'use strict';
const express = require('express');

class Order {
  constructor(body, req) {
    this.id = req.get('x-request-id');
    this.customer = body.customer;
    this.lines = [{ sku: body.sku, qty: Number(body.qty) || 1, unitPrice: 12.5 }];
    this.total = this.lines.reduce((sum, l) => sum + l.qty * l.unitPrice, 0);
    this.status = 'received';
    this.receivedAt = new Date();
    this.client = { ip: req.ip, userAgent: req.get('user-agent') };
  }
}

// Kept so that GET /orders/recent can show the latest orders on the ops dashboard.
const recentOrders = [];

function acceptOrder(body, req) {
  const order = new Order(body, req);
  recentOrders.push(order);
  return order;
}

const app = express();
app.use(express.json());

app.post('/orders', (req, res) => {
  if (!req.body || !req.body.sku) return res.status(400).json({ error: 'sku is required' });
  const order = acceptOrder(req.body, req);
  res.status(201).json({ id: order.id, total: order.total, status: order.status });
});

app.get('/orders/recent', (req, res) => {
  res.json(recentOrders.slice(-10).map((o) => ({ id: o.id, total: o.total })));
});

const server = app.listen(0, '127.0.0.1', () => {
  console.log(`orders service listening on http://127.0.0.1:${server.address().port}/`);
});
