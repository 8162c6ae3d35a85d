// Modelled on https://github.com/DataDog/dd-trace-js/pull/7276 (a plugin that holds on to the framework's
// request objects strongly after the requests are done).
'use strict';
// Inventory API on Fastify with a small "slow request" plugin: it remembers requests so that a later hook can
// correlate them with their responses. It keeps the request object itself, and it only forgets one when a
// response is slower than the threshold, which here never happens.
const fastify = require('fastify');
const requestLog = require('./request-log');

const app = fastify({ logger: false });
app.register(requestLog, { slowMs: 5000 });

app.get('/', async (request) => {
  return { sku: 'INV-42', inStock: 17, requestId: request.headers['x-request-id'] || request.query.requestId };
});

app.listen({ port: Number(process.env.PORT || 0), host: '127.0.0.1' }).then((address) => {
  console.log(`inventory listening on ${address}`);
}, (err) => {
  console.error(err.message);
  process.exit(1);
});
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
