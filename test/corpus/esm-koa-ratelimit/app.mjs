// Modelled on https://github.com/SandeepVashishtha/Eventra/issues/7795 (see ratelimit.mjs).
// Catalogue API on Koa, behind the rate limiter. Clients identify themselves with x-request-id (our load
// balancer sets it per client connection), which is what the limiter keys its buckets on.
import process from 'node:process';
import Koa from 'koa';
import { rateLimit } from './ratelimit.mjs';

const app = new Koa();
app.use(rateLimit());
app.use(async (ctx) => {
  ctx.body = { items: [{ sku: 'A-1', price: 990 }, { sku: 'B-7', price: 1490 }], at: Date.now() };
});

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  process.stdout.write(`catalogue listening on http://127.0.0.1:${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
