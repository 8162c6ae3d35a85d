/**
 * Watching real processes from tests: a child whose output is read line by line and awaited by pattern, and the
 * living members of a process group read from procfs.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'child_process';
import { readdirSync, readFileSync } from 'fs';

/** A started process: its output so far, a way to wait for a line, and its end. */
export interface Watched {
  child: ChildProcess;
  /** Everything read so far from stdout and stderr, in arrival order per stream. */
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the first match of `pattern` in stderr (or stdout), now or later; rejects if the process ends first. */
  waitFor: (pattern: RegExp) => Promise<RegExpExecArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function watch(command: string, args: string[], options: SpawnOptions = {}): Watched {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const poke = (): void => {
    for (const w of [...waiters]) w();
  };
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    poke();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    poke();
  });
  let ended = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => {
      ended = true;
      poke();
      resolve({ code, signal });
    });
  });
  const waitFor = (pattern: RegExp): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const m = pattern.exec(err) ?? pattern.exec(out);
        if (m) {
          waiters.delete(check);
          resolve(m);
        } else if (ended) {
          waiters.delete(check);
          reject(new Error(`the process ended before printing ${pattern}; stderr:\n${err}\nstdout:\n${out}`));
        }
      };
      waiters.add(check);
      check();
    });
  return { child, stdout: () => out, stderr: () => err, waitFor, exited };
}

/** The pids of the living (not zombie) processes whose process group is `pgid`, from /proc. */
export function groupMembers(pgid: number): number[] {
  const living: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') living.push(Number(entry));
    } catch {
      // Gone while we looked.
    }
  }
  return living;
}

/** True while process `pid` exists (a zombie counts as gone). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
