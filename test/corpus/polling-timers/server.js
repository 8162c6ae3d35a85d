// Modelled on https://github.com/nodejs/help/issues/947 (memory and CPU kept climbing "due to setInterval functions: on every hit there is one more setInterval")
'use strict';
const { randomUUID } = require('crypto');
const http = require('http');

const POLL_EVERY_MS = 5 * 60 * 1000;

class ShipmentWatch {
  constructor(req, trackingNumber) {
    this.id = randomUUID();
    this.trackingNumber = trackingNumber;
    this.requestedBy = req.headers['x-request-id'];
    this.carrier = trackingNumber.startsWith('1Z') ? 'ups' : 'dhl';
    this.checks = [];
    this.lastStatus = 'label-created';
    this.notify = { channel: 'email', to: `${this.requestedBy}@customers.example` };
  }
}

class TrackingService {
  constructor() {
    this.polls = 0;
  }

  watch(req, trackingNumber) {
    const shipment = new ShipmentWatch(req, trackingNumber);
    // Poll the carrier until the parcel is delivered (the delivered check was never written).
    setInterval(() => this.check(shipment), POLL_EVERY_MS);
    return shipment;
  }

  check(shipment) {
    this.polls++;
    shipment.checks.push({ at: Date.now(), status: shipment.lastStatus });
  }
}

const tracking = new TrackingService();

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const number = url.searchParams.get('tracking') || `1Z${url.searchParams.get('requestId') || Date.now()}`;
  const shipment = tracking.watch(req, number);
  res.writeHead(202, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ watch: shipment.id, carrier: shipment.carrier }));
});

server.listen(0, '127.0.0.1', () => {
  console.log(`tracking service listening on http://127.0.0.1:${server.address().port}/`);
});
