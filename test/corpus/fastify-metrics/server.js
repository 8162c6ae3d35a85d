// Modelled on https://github.com/fastify/fastify/issues/2598 (state shared through a fastify decoration keeps growing across requests)
'use strict';
const Fastify = require('fastify');

class LatencySample {
  constructor(request, startedAt) {
    this.route = request.routeOptions.url;
    this.url = request.url;
    this.requestId = request.headers['x-request-id'];
    this.startedAt = startedAt;
    this.durations = [];
    this.labels = { method: request.method, host: request.hostname };
  }
}

class MetricsService {
  constructor() {
    this.samples = new Map();
    this.startedAt = Date.now();
  }

  begin(request) {
    const sample = new LatencySample(request, process.hrtime.bigint());
    this.samples.set(`${request.method} ${request.url}`, sample);
    return sample;
  }

  end(sample) {
    sample.durations.push(Number(process.hrtime.bigint() - sample.startedAt) / 1e6);
  }

  summary() {
    return { series: this.samples.size, uptimeMs: Date.now() - this.startedAt };
  }
}

const app = Fastify({ logger: false });
app.decorate('metrics', new MetricsService());

app.addHook('onRequest', async (request) => {
  request.latency = app.metrics.begin(request);
});
app.addHook('onResponse', async (request) => {
  app.metrics.end(request.latency);
});

app.get('/products', async () => ({ items: [{ sku: 'A-100', price: 12.5 }, { sku: 'B-200', price: 7 }] }));
app.get('/metrics', async () => app.metrics.summary());

app.listen({ port: 0, host: '127.0.0.1' }).then((address) => {
  console.log(`catalog api listening on ${address}/`);
});
