/**
 * Where a program can be reached, for the workload that drives it: the CLI's `--action` and Find Leaks' workload
 * command both get it as `TARGET_URL`. The first URL the program prints counts; a program whose output is not seen
 * (VS Code's JavaScript debugger shows no `process.stdout.write` under its default launch configuration) or that
 * prints none is asked through the inspector which servers it listens on.
 */
import { ConnectionClosedError, type CdpClient } from './cdp';

/** A server socket the program listens on, as `server.address()` tells it inside the program. */
export interface ListeningAddress {
  /** `http` and `https` for Node's HTTP servers (express, fastify, koa... listen through them), else `tls` or `tcp`. */
  protocol: 'http' | 'https' | 'tls' | 'tcp';
  /** The host to connect to: 127.0.0.1 for a server on every interface, an IPv6 address in brackets. */
  host: string;
  port: number;
  /** `http://127.0.0.1:3000` for an HTTP(S) server; absent for other protocols. */
  url?: string;
}

/**
 * Evaluated in the program: its listening servers, as plain data. It is one expression that defines nothing global
 * and returns by value, so it leaves nothing behind in the program's heap (the object group is released besides).
 * `process._getActiveHandles()` lists the handles that keep the program alive; a listening `net.Server` (the base
 * of `http.Server`, `https.Server` and `tls.Server`) is the one with `listen` and a numeric port in `address()`.
 */
const LISTENING_SERVERS = `(() => {
  const found = [];
  const handles = typeof process === 'object' && typeof process._getActiveHandles === 'function' ? process._getActiveHandles() : [];
  for (const h of handles) {
    if (!h || typeof h.listen !== 'function' || typeof h.address !== 'function' || h.listening === false) continue;
    let a;
    try { a = h.address(); } catch { continue; }
    if (!a || typeof a !== 'object' || typeof a.port !== 'number') continue;
    const tls = typeof h.addContext === 'function';
    const http = typeof h.closeIdleConnections === 'function' || (typeof h.listenerCount === 'function' && h.listenerCount('request') > 0);
    found.push({ address: String(a.address), family: String(a.family), port: a.port, protocol: http ? (tls ? 'https' : 'http') : tls ? 'tls' : 'tcp' });
  }
  return found;
})()`;

const OBJECT_GROUP = 'leak-lens-address';

/** The host to connect to for a server bound to `address`. */
function connectHost(address: string, family: string): string {
  if (address === '0.0.0.0' || address === '::' || address === '') return '127.0.0.1';
  return family === 'IPv6' || family === '6' || address.includes(':') ? `[${address}]` : address;
}

/** Turns what the program answered into addresses, HTTP servers first (in the order the program opened them). */
export function listeningFromValue(value: unknown): ListeningAddress[] {
  if (!Array.isArray(value)) return [];
  const out: ListeningAddress[] = [];
  for (const v of value as { address?: unknown; family?: unknown; port?: unknown; protocol?: unknown }[]) {
    if (!v || typeof v.port !== 'number' || !Number.isInteger(v.port) || v.port <= 0 || v.port > 65535) continue;
    const protocol = v.protocol === 'http' || v.protocol === 'https' || v.protocol === 'tls' ? v.protocol : 'tcp';
    const host = connectHost(String(v.address ?? ''), String(v.family ?? ''));
    if (out.some((o) => o.host === host && o.port === v.port)) continue;
    out.push({
      protocol,
      host,
      port: v.port,
      ...(protocol === 'http' || protocol === 'https' ? { url: `${protocol}://${host}:${v.port}` } : {}),
    });
  }
  const web = (a: ListeningAddress): number => (a.url ? 0 : 1);
  return out
    .map((a, i) => ({ a, i }))
    .sort((x, y) => web(x.a) - web(y.a) || x.i - y.i)
    .map(({ a }) => a);
}

/**
 * The servers the program behind `client` listens on, asked through the inspector. A program that cannot answer
 * (it finished, it is not Node) gives an empty list; a closed connection rejects.
 */
export async function listeningAddresses(client: CdpClient, timeoutMs = 5_000): Promise<ListeningAddress[]> {
  try {
    const reply = await client.send(
      'Runtime.evaluate',
      {
        expression: LISTENING_SERVERS,
        objectGroup: OBJECT_GROUP,
        returnByValue: true,
        silent: true,
        includeCommandLineAPI: false,
      },
      { timeoutMs },
    );
    return reply.exceptionDetails ? [] : listeningFromValue(reply.result.value);
  } catch (error) {
    if (error instanceof ConnectionClosedError) throw error;
    return [];
  } finally {
    if (!client.isClosed)
      void client.send('Runtime.releaseObjectGroup', { objectGroup: OBJECT_GROUP }).catch(() => undefined);
  }
}

/** The first http(s) URL in a line of the program's output. */
export function urlInLine(line: string): string | undefined {
  return /https?:\/\/[^\s'"]+/.exec(line)?.[0];
}

/** What the workload is pointed at: the URL the program printed, else its first HTTP server found through the inspector. */
export function chooseTargetUrl(
  printed: string | undefined,
  listening: readonly ListeningAddress[],
): string | undefined {
  return printed ?? listening.find((a) => a.url)?.url;
}

/** The environment a workload (the CLI's `--action`, Find Leaks' workload command) runs with, over the given one. */
export function workloadEnvironment(
  targetUrl: string | undefined,
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  return { ...base, ...(targetUrl ? { TARGET_URL: targetUrl } : {}) };
}
