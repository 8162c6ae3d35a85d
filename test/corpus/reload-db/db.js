// Modelled on https://github.com/nodejs/node/issues/8443 (modules uncached from require.cache and required again stay on the heap)
'use strict';
const { randomUUID } = require('crypto');

const settings = {
  host: process.env.DB_HOST || '127.0.0.1',
  database: process.env.DB_NAME || 'catalog',
  poolSize: Number(process.env.DB_POOL || 4),
  keepAliveMs: 30 * 1000,
};

class Connection {
  constructor(options) {
    this.id = randomUUID();
    this.options = { ...options };
    this.openedAt = Date.now();
    this.statements = new Map();
    this.lastPing = 0;
    this.buffer = Buffer.alloc(4096);
  }

  ping() {
    this.lastPing = Date.now();
  }

  query(sql, params) {
    if (!this.statements.has(sql)) this.statements.set(sql, { sql, prepared: true });
    return { rows: [{ id: 1, name: 'widget', params }], connection: this.id };
  }
}

const connection = new Connection(settings);
setInterval(() => connection.ping(), settings.keepAliveMs);

module.exports = {
  query: (sql, params) => connection.query(sql, params),
  settings,
};
