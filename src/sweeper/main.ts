/**
 * The sweeper: a small process the extension starts (dist/sweeper.js) to stop and remove what Leak Lens left behind
 * when the extension host ends without cleaning up itself. Closing a VS Code window ends its extension host with
 * SIGTERM, or SIGKILL after a grace period, and `deactivate` does not run then; processes the extension started in
 * their own process group (workload commands) do not get that signal, and a snapshot the extension host was writing
 * stays on disk as a `.partial` file.
 *
 * The extension host tells the sweeper, one JSON line at a time on its stdin (src/sweeper/protocol.ts), which process
 * groups and which snapshot files are in flight. When that pipe closes (the extension host exited, however it ended),
 * or the sweeper gets SIGINT, SIGTERM or SIGHUP, or its parent is gone, it sends SIGTERM to every group still
 * registered, SIGKILL to what is left of them after a short grace, removes the partial files of every snapshot still
 * being written, and exits. It runs in a process group of its own, so a signal to the extension host's group does
 * not end it before it has swept.
 */
import * as fs from 'fs';
import * as path from 'path';
import { partialFileOf, type SweeperMessage } from './protocol';

const groups = new Set<number>();
const snapshots = new Set<string>();
/** How long the groups get to end after SIGTERM before SIGKILL. */
const GRACE_MS = 1_000;

function apply(message: SweeperMessage): void {
  if (message.op === 'group' && Number.isInteger(message.pgid) && message.pgid > 1) groups.add(message.pgid);
  else if (message.op === 'ungroup') groups.delete(message.pgid);
  else if (message.op === 'snapshot' && typeof message.file === 'string' && path.isAbsolute(message.file))
    snapshots.add(message.file);
  else if (message.op === 'unsnapshot') snapshots.delete(message.file);
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Nobody is left in the group.
  }
}

/** Removes the hidden files of a snapshot in the making (the main thread's and its workers'), never a finished one. */
function removePartials(file: string): void {
  const dir = path.dirname(file);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!partialFileOf(file, name)) continue;
    try {
      fs.rmSync(path.join(dir, name), { force: true });
    } catch {
      // Not ours to remove after all (permissions); nothing else to do.
    }
  }
}

let sweeping = false;
async function sweep(): Promise<void> {
  if (sweeping) return;
  sweeping = true;
  clearInterval(watchdog);
  const pending = [...groups];
  for (const pgid of pending) signalGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + GRACE_MS;
  while (pending.some(groupAlive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  for (const pgid of pending) signalGroup(pgid, 'SIGKILL');
  for (const file of snapshots) removePartials(file);
  process.exit(0);
}

let buffer = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  buffer += chunk;
  const lines = buffer.split('\n');
  buffer = lines.pop() ?? '';
  for (const line of lines) {
    if (!line.trim()) continue;
    try {
      apply(JSON.parse(line) as SweeperMessage);
    } catch {
      // A line this process cannot read changes nothing.
    }
  }
});
process.stdin.on('end', () => void sweep());
process.stdin.on('error', () => void sweep());
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void sweep());

// The pipe closes when the extension host exits; the parent check is for a pipe held open by a process it started.
const parent = process.ppid;
const watchdog = setInterval(() => {
  let alive = process.ppid === parent;
  if (alive) {
    try {
      process.kill(parent, 0);
    } catch (error) {
      alive = (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  if (!alive) void sweep();
}, 1_000);
watchdog.unref();
