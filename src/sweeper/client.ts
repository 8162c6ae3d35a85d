/**
 * The extension host's side of the sweeper (src/sweeper/main.ts): started on first need, it learns which process
 * groups and snapshot files are in flight, and sweeps them when the extension host ends without doing so itself
 * (a closed window kills the extension host; `deactivate` does not run then). Plain Node: no `vscode` here.
 */
import { spawn, type ChildProcess } from 'child_process';
import type { SweeperMessage } from './protocol';

export interface Registration {
  dispose(): void;
}

export class Sweeper {
  private child: ChildProcess | undefined;
  private closed = false;
  private readonly groups = new Set<number>();
  private readonly snapshots = new Set<string>();

  /** `script`: the sweeper's entry file; `onError` receives one line when it cannot start (the work goes on). */
  constructor(
    private readonly script: string,
    private readonly onError: (message: string) => void = () => undefined,
  ) {}

  /** Until disposed, the process group `pgid` is stopped should the extension host go away. */
  watchGroup(pgid: number): Registration {
    return this.register(this.groups, pgid, { op: 'group', pgid }, { op: 'ungroup', pgid });
  }

  /** Until disposed, the partial files of the snapshot being written to `file` are removed should the extension host go away. */
  watchSnapshot(file: string): Registration {
    return this.register(this.snapshots, file, { op: 'snapshot', file }, { op: 'unsnapshot', file });
  }

  /** Tells the sweeper to sweep what is still registered, and to exit. */
  dispose(): void {
    this.closed = true;
    this.child?.stdin?.end();
    this.child = undefined;
  }

  private register<T>(set: Set<T>, key: T, add: SweeperMessage, remove: SweeperMessage): Registration {
    set.add(key);
    this.send(add);
    let done = false;
    return {
      dispose: () => {
        if (done) return;
        done = true;
        set.delete(key);
        this.send(remove, false);
      },
    };
  }

  private send(message: SweeperMessage, startIfNeeded = true): void {
    if (this.closed) return;
    const child = this.child ?? (startIfNeeded ? this.start() : undefined);
    child?.stdin?.write(`${JSON.stringify(message)}\n`);
  }

  private start(): ChildProcess | undefined {
    let child: ChildProcess;
    try {
      // In desktop VS Code process.execPath is Electron; ELECTRON_RUN_AS_NODE makes it a plain Node.
      child = spawn(process.execPath, [this.script], {
        detached: process.platform !== 'win32',
        stdio: ['pipe', 'ignore', 'ignore'],
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      });
    } catch (error) {
      this.onError(`the sweeper could not start: ${(error as Error).message}`);
      return undefined;
    }
    // Neither the process nor its pipe may keep the extension host alive: the pipe closing is what the sweeper waits for.
    child.unref();
    (child.stdin as { unref?: () => void } | null)?.unref?.();
    child.stdin?.on('error', () => undefined);
    child.once('error', (error) => this.onError(`the sweeper could not start: ${error.message}`));
    child.once('exit', () => {
      if (this.child !== child) return;
      // Gone early (killed): the next registration starts another one, told everything still in flight.
      this.child = undefined;
    });
    this.child = child;
    for (const pgid of this.groups)
      child.stdin?.write(`${JSON.stringify({ op: 'group', pgid } satisfies SweeperMessage)}\n`);
    for (const file of this.snapshots)
      child.stdin?.write(`${JSON.stringify({ op: 'snapshot', file } satisfies SweeperMessage)}\n`);
    return child;
  }
}
