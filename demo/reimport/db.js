'use strict';
// Database access layer. Configuration comes from the environment and is read when the module
// loads; the server "hot reloads" this module so that config changes are picked up without a
// restart. Each load opens its own pool and starts a keep-alive ping that is never stopped, so
// every reload leaves the previous DbPool (and this whole module scope) alive behind the timer.

class PooledConnection {
  constructor(pool, index) {
    this.pool = pool;
    this.index = index;
    this.state = 'idle';
    this.lastUsed = 0;
    this.statementCache = new Map();
    this.readBuffer = [];
  }
}

class DbPool {
  constructor(config) {
    this.config = config;
    this.connections = [];
    for (let i = 0; i < config.poolSize; i++) this.connections.push(new PooledConnection(this, i));
    this.pings = 0;
    this.lastPingAt = 0;
    this.queryLog = [];
  }

  ping() {
    this.pings++;
    this.lastPingAt = Date.now();
  }

  query(sql, params = []) {
    const conn = this.connections.find((c) => c.state === 'idle') || this.connections[0];
    conn.lastUsed = Date.now();
    conn.statementCache.set(sql, { sql, preparedAt: conn.lastUsed });
    this.queryLog.push(`${new Date(conn.lastUsed).toISOString()} [conn ${conn.index}] ${sql} ${JSON.stringify(params)}`);
    return [{ id: params[0] || 1, name: 'demo', pool: this.config.url }];
  }
}

const config = {
  url: process.env.DATABASE_URL || 'postgres://app@127.0.0.1:5432/app',
  poolSize: Number(process.env.DB_POOL_SIZE || 8),
};

const pool = new DbPool(config);
setInterval(() => pool.ping(), 1000);

module.exports = {
  query: (sql, params) => pool.query(sql, params),
  config,
};
