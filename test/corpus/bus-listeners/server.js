// Modelled on https://github.com/statsd/statsd/issues/339 (the config-change handler stacks up one more listener every time it runs)
'use strict';
const http = require('http');
const bus = require('./bus');
const { pricingHandler } = require('./routes/pricing');

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url.startsWith('/admin/settings')) {
    bus.emit('config-changed', { pricing: { currency: 'USD', vatRate: 0.1 } });
    res.writeHead(204).end();
    return;
  }
  pricingHandler(req, res);
});

server.listen(0, '127.0.0.1', () => {
  console.log(`pricing service listening on http://127.0.0.1:${server.address().port}/`);
});
