// Modelled on https://github.com/knockout/knockout/issues/2077 (circular references flagged as a leak; a mark-and-sweep collector frees unreachable cycles)
'use strict';
const http = require('http');

class CartNode {
  constructor(requestId) {
    this.requestId = requestId;
    this.lines = [];
    this.customer = null;
  }
}

class CustomerNode {
  constructor(id) {
    this.id = id;
    this.cart = null;
    this.addresses = [{ kind: 'billing', country: 'FR' }];
  }
}

class LineNode {
  constructor(cart, sku, qty) {
    this.cart = cart;
    this.sku = sku;
    this.qty = qty;
  }
}

function buildCart(requestId) {
  const cart = new CartNode(requestId);
  const customer = new CustomerNode(`c-${requestId}`);
  cart.customer = customer;
  customer.cart = cart;
  for (const [sku, qty] of [['A-100', 1], ['B-200', 3]]) cart.lines.push(new LineNode(cart, sku, qty));
  return cart;
}

const server = http.createServer((req, res) => {
  const cart = buildCart(req.headers['x-request-id']);
  const total = cart.lines.reduce((n, l) => n + l.qty, 0);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ customer: cart.customer.id, items: total }));
});

server.listen(0, '127.0.0.1', () => {
  console.log(`cart api listening on http://127.0.0.1:${server.address().port}/`);
});
