// Modelled on https://github.com/giauphan/codeatlas-platform/issues/21 (an in-memory rate limiter Map in a
// TypeScript HTTP server that grows with every new caller and never evicts).
// Search API in TypeScript: every request passes the sliding-window limiter, keyed by tenant and caller.
import * as http from 'http';
import { SlidingWindowLimiter } from './rateLimiter';

const limiter = new SlidingWindowLimiter(60_000, 300);

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const tenant = url.searchParams.get('tenant') ?? 'public';
  const caller = String(req.headers['x-request-id'] ?? req.socket.remoteAddress ?? 'unknown');
  const verdict = limiter.check(`${tenant}/${caller}`, Date.now());
  res.writeHead(verdict.allowed ? 200 : 429, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ allowed: verdict.allowed, remaining: verdict.remaining, results: [] }));
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  console.log(`search API listening on http://127.0.0.1:${port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
