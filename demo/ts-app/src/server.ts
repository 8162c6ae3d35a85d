// Users API written in TypeScript: GET /users/:id?requestId=... returns a user profile.
import * as fs from 'fs';
import * as http from 'http';
import { UserStore, type LookupRequest } from './store';

interface UserResponse {
  id: string;
  name: string;
  permissions: number;
}

function parseLookup(req: http.IncomingMessage): LookupRequest {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const match = /^\/users\/(\w+)/.exec(url.pathname);
  const requestId = url.searchParams.get('requestId') ?? String(req.headers['x-request-id'] ?? Date.now());
  return { userId: match ? match[1] : String(1 + Math.floor(Math.random() * 1000)), requestId };
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const user = await UserStore.lookup(parseLookup(req));
  const body: UserResponse = { id: user.id, name: user.profile.displayName, permissions: user.permissions.length };
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err: unknown) => {
    process.stderr.write(`${req.method} ${req.url} failed: ${String(err)}\n`);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
});

const port = Number.parseInt(process.env.PORT ?? '0', 10) || 0;
server.on('error', (err) => {
  process.stderr.write(`cannot listen on 127.0.0.1:${port}: ${err.message}\n`);
  process.exit(1);
});
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  const portFile = process.env.LEAK_LENS_PORT_FILE;
  if (portFile) {
    fs.writeFileSync(`${portFile}.${process.pid}.tmp`, `${actual}\n`);
    fs.renameSync(`${portFile}.${process.pid}.tmp`, portFile);
  }
  process.stdout.write(`listening on http://127.0.0.1:${actual}\n`);
});

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 1000).unref();
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
