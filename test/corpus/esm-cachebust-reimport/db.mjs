// Database access for the orders API. Configuration is read from the environment when the module is
// evaluated; the module opens its connection at top level and keeps it warm with a ping timer.
import process from 'node:process';
import { setInterval } from 'node:timers';

class Connection {
  constructor(config) {
    this.url = config.url;
    this.openedAt = Date.now();
    this.pings = 0;
    this.statements = new Map();
    this.log = [];
  }

  ping() {
    this.pings++;
  }

  query(sql, params) {
    this.statements.set(sql, { sql, preparedAt: Date.now() });
    this.log.push(`${sql} ${JSON.stringify(params)}`);
    return [{ id: 1, url: this.url }];
  }
}

const config = {
  url: process.env.DATABASE_URL || 'postgres://orders@127.0.0.1:5432/orders',
  keepAliveMs: Number(process.env.DB_KEEPALIVE_MS || 1000),
};

const conn = new Connection(config);
setInterval(() => conn.ping(), config.keepAliveMs);

export function query(sql, params) {
  return conn.query(sql, params);
}
