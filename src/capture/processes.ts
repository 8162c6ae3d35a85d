// The Node processes of this machine and which of them can be inspected now: a process whose inspector is open
// answers `/json/list` on one of the TCP ports it listens on. Linux only (procfs); elsewhere the lists are empty and
// only ports named by the caller are asked.
import * as fs from 'fs';
import * as path from 'path';
import { listInspectorTargets, type InspectorTarget } from './target';

/** A Node process: its id and its command line (arguments joined by spaces). */
export interface NodeProcess {
  pid: number;
  command: string;
}

/** Node processes of this machine (Linux: from procfs), newest first; never this process itself. */
export function listNodeProcesses(): NodeProcess[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const out: NodeProcess[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    try {
      const argv = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (argv.length && /^(node|nodejs)(\.exe)?$/.test(path.basename(argv[0])))
        out.push({ pid, command: argv.join(' ') });
    } catch {
      // Gone, or not ours to read.
    }
  }
  return out.sort((a, b) => b.pid - a.pid);
}

/** A TCP socket in the LISTEN state: where it listens, and its inode (how procfs names it among a process's fds). */
interface ListeningSocket {
  host: string;
  port: number;
  inode: string;
}

/** Every listening TCP socket of the machine, from /proc/net/tcp and /proc/net/tcp6. */
function listeningSockets(): ListeningSocket[] {
  const out: ListeningSocket[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // Fields: sl, local_address, rem_address, st, queues, tr, retrnsmt, uid, timeout, inode. State 0A is LISTEN.
      const fields = line.trim().split(/\s+/);
      if (fields.length <= 9 || fields[3] !== '0A') continue;
      const [addressHex, portHex] = fields[1].split(':');
      out.push({ host: hostOf(addressHex), port: parseInt(portHex, 16), inode: fields[9] });
    }
  }
  return out;
}

/** The host to connect to for a socket listening on `addressHex` (procfs's little-endian hex): loopback for "any". */
function hostOf(addressHex: string): string {
  if (addressHex.length === 8) {
    const bytes = [6, 4, 2, 0].map((i) => parseInt(addressHex.slice(i, i + 2), 16));
    const dotted = bytes.join('.');
    return dotted === '0.0.0.0' ? '127.0.0.1' : dotted;
  }
  // IPv6: the inspector listens on ::1 or on every address; either answers on ::1.
  return '::1';
}

/** The TCP ports process `pid` listens on, with their hosts; empty when procfs cannot tell. */
export function listeningPortsOf(
  pid: number,
  sockets: ListeningSocket[] = listeningSockets(),
): { host: string; port: number }[] {
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  const inodes = new Set<string>();
  for (const fd of fds) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode) inodes.add(inode);
    } catch {
      // The descriptor closed while we looked.
    }
  }
  return sockets.filter((s) => inodes.has(s.inode)).map(({ host, port }) => ({ host, port }));
}

/** A process (or a port) whose inspector answered, with the targets it offers. */
export interface InspectableProcess {
  /** Undefined for a port named by the caller whose owner procfs does not show (another user, a container). */
  pid?: number;
  command?: string;
  host: string;
  port: number;
  targets: InspectorTarget[];
}

/** What {@link listInspectableProcesses} found. */
export interface InspectableListing {
  inspectable: InspectableProcess[];
  /** Node processes without an open inspector (attaching by pid opens one with SIGUSR1). */
  others: NodeProcess[];
  /** Ports named by the caller where no inspector answered, with why. */
  failedPorts: { port: number; reason: string }[];
}

/**
 * The Node processes with an open inspector (each listening port of each Node process is asked for `/json/list`),
 * and the inspectors on `ports` of 127.0.0.1, whoever owns them.
 */
export async function listInspectableProcesses(ports: number[] = [], timeoutMs = 1_000): Promise<InspectableListing> {
  const sockets = listeningSockets();
  const inspectable: InspectableProcess[] = [];
  const others: NodeProcess[] = [];
  const seen = new Set<number>();
  const ask = async (host: string, port: number): Promise<InspectorTarget[] | undefined> => {
    try {
      return await listInspectorTargets(host, port, { timeoutMs });
    } catch {
      return undefined;
    }
  };
  await Promise.all(
    listNodeProcesses().map(async (p) => {
      let found = false;
      for (const { host, port } of listeningPortsOf(p.pid, sockets)) {
        const targets = await ask(host, port);
        if (!targets) continue;
        inspectable.push({ pid: p.pid, command: p.command, host, port, targets });
        seen.add(port);
        found = true;
      }
      if (!found) others.push(p);
    }),
  );
  const failedPorts: { port: number; reason: string }[] = [];
  for (const port of ports) {
    if (seen.has(port)) continue;
    try {
      const targets = await listInspectorTargets('127.0.0.1', port, { timeoutMs });
      inspectable.push({ host: '127.0.0.1', port, targets });
    } catch (e) {
      failedPorts.push({ port, reason: (e as Error).message });
    }
  }
  inspectable.sort((a, b) => (b.pid ?? 0) - (a.pid ?? 0));
  others.sort((a, b) => b.pid - a.pid);
  return { inspectable, others, failedPorts };
}
