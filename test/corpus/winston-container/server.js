// Modelled on https://github.com/CyberSource/cybersource-rest-client-node/issues/141 (a winston logger fetched
// with `winston.loggers.get(category)` under a new category on every call; the container keeps each one).
'use strict';
// Payments front end: each request gets "its own" logger category so that log lines can be told apart. Winston's
// default container creates a logger for every new category and keeps it until it is closed, which never happens.
const express = require('express');
const winston = require('winston');

function requestLogger(requestId) {
  return winston.loggers.get(`payments-${requestId}`, {
    level: 'info',
    format: winston.format.json(),
    transports: [new winston.transports.Console({ level: 'warn', silent: true })],
  });
}

const app = express();

app.get('/', (req, res) => {
  const id = req.get('x-request-id') || String(req.query.requestId || 'anonymous');
  const log = requestLogger(id);
  log.info('payment authorised', { requestId: id, amount: 1250 });
  res.json({ ok: true, requestId: id });
});

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`payments listening on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
