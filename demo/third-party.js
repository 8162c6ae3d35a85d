'use strict';
// API with Prometheus metrics via prom-client. Latency is recorded in one histogram per route,
// created on first use... but the "route" is taken from req.url, query string included, so every
// request (?requestId=...) registers a brand-new Histogram in prom-client's global registry,
// which keeps every metric ever registered. The leaked objects live inside node_modules/prom-client.
const client = require('prom-client');
const { serve } = require('./lib/serve');

function routeHistogram(req) {
  const name = `http_route_${req.url.replace(/[^a-zA-Z0-9_]/g, '_')}_duration_seconds`;
  return (
    client.register.getSingleMetric(name) ||
    new client.Histogram({
      name,
      help: `Request duration for ${req.url}`,
      labelNames: ['method', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    })
  );
}

serve(async (req, res) => {
  if (req.url === '/metrics') {
    res.writeHead(200, { 'content-type': client.register.contentType });
    res.end(await client.register.metrics());
    return;
  }
  const histogram = routeHistogram(req);
  const end = histogram.startTimer({ method: req.method });
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ ok: true, at: new Date().toISOString() }));
  end({ status: res.statusCode });
});
