/**
 * Closing a window in the middle of memory work leaves nothing of Leak Lens behind (scripts/vscode-test.js runs this
 * after the mocha suites, with the browser and the VS Code server it started). In a window of its own, test/vscode/close/work.ts
 * starts a `leak-lens` launch session, Find Leaks with a workload that never ends, the language server and a heap
 * snapshot written by the extension host, then writes `ready.json`. This side then records, from /proc, every process
 * the extension host started for Leak Lens (its children that run Leak Lens's files or the workload, their
 * descendants and their process groups), holds the snapshot half-written (SIGSTOP to the js-debug debuggee, which
 * is not Leak Lens's), and closes the extension host one of three ways:
 *  - deactivate: the extension host is restarted, as a window closing cleanly (deactivate runs, then it exits);
 *  - SIGTERM: what VS Code's server sends the extension host of a closed window (no deactivate: Node just exits);
 *  - SIGKILL: what it sends when that takes too long.
 * Then every recorded process must end (known by pid and start time, so a reused pid does not count) and no
 * `.partial` file may remain in the snapshot folder. Those waits look at /proc and the folder until the condition
 * holds; the limit only bounds a failure.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as util from 'util';
import type { Browser } from 'playwright-core';
import type { CloseReady } from './work';

interface CloseContext {
  browser: Browser;
  /** The workbench URL for a folder and a development payload. */
  url(folder: string, payload: [string, string][]): string;
  root: string;
  tmp: string;
  /** A fresh copy of the fixture workspace. */
  workspace(name: string): string;
  check(name: string, fn: () => Promise<void>): Promise<void>;
  log(...args: unknown[]): void;
  waitLimitMs: number;
}

interface Proc {
  pid: number;
  ppid: number;
  pgid: number;
  state: string;
  start: string;
  cmd: string;
}

function readProc(pid: number): Proc | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command name's closing parenthesis: state, ppid, pgrp, ..., starttime (the 20th of them).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return { pid, state: fields[0], ppid: Number(fields[1]), pgid: Number(fields[2]), start: fields[19], cmd };
  } catch {
    return undefined;
  }
}

/** The environment of a process of this user, one `NAME=value` per entry; empty if it cannot be read. */
function environment(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

function allProcs(): Proc[] {
  return fs
    .readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map((e) => readProc(Number(e)))
    .filter((p): p is Proc => p !== undefined);
}

/** Alive: the same process (pid and start time) and not a zombie. */
function alive(p: Proc): boolean {
  const now = readProc(p.pid);
  return !!now && now.start === p.start && now.state !== 'Z' && now.state !== 'X';
}

async function until<T>(check: () => T | undefined | false, ms: number, what: () => string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`after ${ms / 1000} s: ${what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The processes the extension host started for Leak Lens: its children whose command line names the extension's
 * folder (adapter, language server, sweeper) or the test's folder (the workload's shell), everything below them,
 * and everything in their process groups (a launched program runs in a group of its own).
 */
function leakLensProcesses(extensionHost: number, root: string, dir: string): Proc[] {
  const procs = allProcs();
  const children = new Map<number, Proc[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const found = new Map<number, Proc>();
  const walk = (p: Proc): void => {
    if (found.has(p.pid)) return;
    found.set(p.pid, p);
    for (const c of children.get(p.pid) ?? []) walk(c);
  };
  for (const c of children.get(extensionHost) ?? []) if (c.cmd.includes(root) || c.cmd.includes(dir)) walk(c);
  // The groups Leak Lens made (detached processes lead their own); not the extension host's, which is VS Code's.
  const hostGroup = readProc(extensionHost)?.pgid;
  const groups = new Set([...found.values()].filter((p) => p.pgid === p.pid && p.pgid !== hostGroup).map((p) => p.pgid));
  for (const p of procs) if (groups.has(p.pgid) && p.pid !== extensionHost) walk(p);
  return [...found.values()];
}

const VARIANTS = ['deactivate', 'SIGTERM', 'SIGKILL'] as const;

export async function run(ctx: CloseContext): Promise<void> {
  for (const variant of VARIANTS) await closeOnce(ctx, variant);
}

async function closeOnce(ctx: CloseContext, variant: (typeof VARIANTS)[number]): Promise<void> {
  const dir = path.join(ctx.tmp, `close-${variant}`);
  fs.mkdirSync(dir);
  const ws = ctx.workspace(`ws-close-${variant}`);
  const page = await ctx.browser.newPage({ viewport: { width: 1280, height: 800 } });
  let output = '';
  await page.exposeFunction('codeAutomationLog', (type: string, args: unknown) => {
    const text = util.format(...(Array.isArray(args) ? args : [args]));
    output += `${text}\n`;
    if (process.env.VERBOSE) ctx.log(`close ${variant} (${type}): ${text}`);
  });
  await page.exposeFunction('codeAutomationExit', (code: number) => void ctx.log(`close ${variant}: the test host exited with ${code}`));
  const payload: [string, string][] = [
    ['extensionDevelopmentPath', `vscode-remote://remote${ctx.root}`],
    ['extensionTestsPath', `vscode-remote://remote${path.join(ctx.root, 'out', 'test', 'vscode', 'close', 'work.js')}`],
    ['extensionEnvironment', JSON.stringify({ LEAK_LENS_CLOSE_DIR: dir, LEAK_LENS_CLOSE_VARIANT: variant })],
  ];
  let recorded: Proc[] = [];
  let stopped: Proc[] = [];
  try {
    await page.goto(ctx.url(ws, payload));
    const readyFile = path.join(dir, 'ready.json');
    await ctx.check(`close (${variant}): the work starts (launch session, Find Leaks workload, language server, snapshot in writing)`, async () => {
      await until(() => fs.existsSync(readyFile), ctx.waitLimitMs, () => `no ${readyFile}; the extension host said:\n${output.slice(-3000)}`);
    });
    if (!fs.existsSync(readyFile)) return;
    const ready = JSON.parse(fs.readFileSync(readyFile, 'utf8')) as CloseReady;
    const host = readProc(ready.extensionHost);
    recorded = leakLensProcesses(ready.extensionHost, ctx.root, dir);
    // The js-debug debuggee (not Leak Lens's; marked by its environment) stops where it is, so the snapshot stays
    // half-written until the close.
    stopped = allProcs().filter((p) => environment(p.pid).includes(`LEAK_LENS_CLOSE_DEBUGGEE=${dir}`));
    for (const p of stopped) process.kill(p.pid, 'SIGSTOP');
    const partials = () => (fs.existsSync(ready.snapshotFolder) ? fs.readdirSync(ready.snapshotFolder).filter((n) => /\.partial(\.meta)?$/.test(n)) : []);
    const describe = (procs: Proc[]): string => procs.map((p) => `${p.pid} ${p.cmd.slice(0, 160)}`).join('\n  ');

    await ctx.check(`close (${variant}): every kind of process Leak Lens starts runs, and a snapshot is being written`, async () => {
      const kinds: [string, (p: Proc) => boolean][] = [
        ['debug adapter', (p) => p.cmd.includes('adapter.js')],
        ['launched program', (p) => p.pid === ready.programPid],
        ['workload', (p) => p.pid === ready.workloadPids[0]],
        ["workload's child", (p) => p.pid === ready.workloadPids[1]],
        ['language server', (p) => /server\.js|server\/main\.js/.test(p.cmd)],
      ];
      const missing = kinds.filter(([, is]) => !recorded.some(is)).map(([name]) => name);
      if (missing.length) throw new Error(`not found among the extension host's processes: ${missing.join(', ')}; found:\n  ${describe(recorded)}`);
      if (stopped.length === 0) throw new Error('the js-debug debuggee (big-heap.js) was not found');
      if (partials().length === 0) throw new Error(`no .partial file in ${ready.snapshotFolder}`);
      ctx.log(`close (${variant}): ${recorded.length} processes of Leak Lens; writing ${partials().join(', ')}`);
    });

    if (!host) throw new Error(`the extension host ${ready.extensionHost} is gone before the close`);
    if (variant === 'deactivate') fs.writeFileSync(path.join(dir, 'go'), '');
    else process.kill(host.pid, variant);
    await ctx.check(`close (${variant}): the extension host ends`, async () => {
      await until(() => !alive(host), 30_000, () => `extension host ${host.pid} still runs`);
    });
    await ctx.check(`close (${variant}): no process Leak Lens started survives`, async () => {
      await until(() => !recorded.some(alive), 15_000, () => `still running:\n  ${describe(recorded.filter(alive))}`);
    });
    await ctx.check(`close (${variant}): no partial snapshot remains`, async () => {
      await until(() => partials().length === 0, 15_000, () => `left in ${ready.snapshotFolder}: ${partials().join(', ')}`);
    });
  } finally {
    // Whatever a failure left running ends here, by pid and group; the debuggee is woken to die.
    for (const p of [...recorded, ...stopped].filter(alive)) {
      try {
        process.kill(p.pid, 'SIGKILL');
        process.kill(p.pid, 'SIGCONT');
      } catch {
        // Gone meanwhile.
      }
    }
    for (const g of new Set(recorded.filter((p) => p.pgid === p.pid && alive(p)).map((p) => p.pgid))) {
      try {
        process.kill(-g, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
    await page.close().catch(() => undefined);
  }
}
