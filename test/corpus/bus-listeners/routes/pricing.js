// Modelled on https://github.com/statsd/statsd/issues/339 (the config-change handler stacks up one more listener every time it runs)
'use strict';
const bus = require('../bus');

let settings = { currency: 'EUR', vatRate: 0.2, roundTo: 0.05 };
bus.on('config-changed', (next) => (settings = { ...settings, ...next.pricing }));

class PriceView {
  constructor(req, settings) {
    this.requestId = req.headers['x-request-id'];
    this.currency = settings.currency;
    this.vatRate = settings.vatRate;
    this.items = [
      { sku: 'A-100', net: 10 },
      { sku: 'B-200', net: 24.5 },
    ];
    this.renderedAt = Date.now();
  }

  refresh(next) {
    this.currency = next.pricing ? next.pricing.currency : this.currency;
    this.vatRate = next.pricing ? next.pricing.vatRate : this.vatRate;
  }

  toJSON() {
    return { currency: this.currency, items: this.items.map((i) => ({ sku: i.sku, gross: +(i.net * (1 + this.vatRate)).toFixed(2) })) };
  }
}

function pricingHandler(req, res) {
  const view = new PriceView(req, settings);
  // Keep a long-polling view in step with a settings change made while it is open.
  bus.on('config-changed', (next) => view.refresh(next));
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(view));
}

module.exports = { pricingHandler };
