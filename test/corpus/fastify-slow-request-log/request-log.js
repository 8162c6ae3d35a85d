'use strict';
// Fastify plugin: notes each request when it arrives and checks its duration when the response is sent.
// Requests slower than `slowMs` are reported and dropped from the list; fast ones are never dropped.
const tracked = [];

function requestLog(app, opts, done) {
  const slowMs = opts.slowMs || 1000;
  app.addHook('onRequest', (request, reply, next) => {
    request.startedAt = Date.now();
    tracked.push(request);
    next();
  });
  app.addHook('onResponse', (request, reply, next) => {
    const ms = Date.now() - request.startedAt;
    if (ms > slowMs) {
      process.stderr.write(`slow request ${request.method} ${request.url}: ${ms} ms\n`);
      tracked.splice(tracked.indexOf(request), 1);
    }
    next();
  });
  done();
}

// What fastify-plugin does: the hooks apply to the whole app rather than to an encapsulated child context.
requestLog[Symbol.for('skip-override')] = true;
requestLog[Symbol.for('fastify.display-name')] = 'request-log';

module.exports = requestLog;
