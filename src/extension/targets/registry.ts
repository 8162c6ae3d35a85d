/**
 * Knows the debug sessions of this window and which of them are Node processes Leak Lens can work on. js-debug runs
 * a parent session per launch and a child session per process; only a child has the process's CDP connection. A
 * command works on the active session's process, and asks which one when that is ambiguous (several processes, no
 * active one). Targets are created when first needed and disposed with their session.
 */
import * as vscode from 'vscode';
import { DEBUG_TYPE } from '../../../protocol/adapter';
import { UserError } from '../errors';
import { log } from '../log';
import { AdapterTarget } from './adapterTarget';
import { JsDebugTarget } from './jsDebugTarget';
import { workerTitle, type MemoryTarget } from './target';

/** What a debug session is to Leak Lens. */
export type SessionKind = 'node' | 'worker' | 'launcher' | 'browser' | 'other';

const NODE_CHILD_TYPES = new Set(['pwa-node', 'node']);
const LAUNCHER_TYPES = new Set(['pwa-node', 'node', 'node-terminal']);
const BROWSER_TYPES = new Set(['pwa-chrome', 'pwa-msedge', 'chrome', 'msedge']);

export function sessionKind(session: vscode.DebugSession): SessionKind {
  if (session.type === DEBUG_TYPE) return 'node';
  if (BROWSER_TYPES.has(session.type)) return 'browser';
  if (isWorkerSession(session)) return 'worker';
  // A js-debug child session is the process; its parent only launched or attached it.
  if (session.parentSession && NODE_CHILD_TYPES.has(session.type)) return 'node';
  if (!session.parentSession && LAUNCHER_TYPES.has(session.type)) return 'launcher';
  return 'other';
}

/** A js-debug session of a worker thread: a child of a process's session, never a process of its own. */
function isWorkerSession(session: vscode.DebugSession): boolean {
  const parent = session.parentSession;
  return (
    NODE_CHILD_TYPES.has(session.type) &&
    !!parent &&
    !!parent.parentSession &&
    NODE_CHILD_TYPES.has(parent.type) &&
    workerTitle(session.name) !== undefined
  );
}

/** Options for {@link TargetRegistry.pick}. */
export interface PickOptions {
  /** May ask the user which process when several could be meant. */
  interactive: boolean;
  /** Prefix of the "no session" message, e.g. "Take Heap Snapshot needs". */
  purpose: string;
}

/** The user-facing failure "no Node process is being debugged", with the buttons that fix it. */
export function noSessionError(purpose: string): UserError {
  return new UserError(
    `${purpose} a running Node.js program, and none is being debugged. Launch one with Leak Lens, attach to a running process, or start a Node debug session (F5).`,
    [
      { title: 'Launch Program...', run: () => vscode.commands.executeCommand('leakLens.launchProgram') },
      { title: 'Attach to Process...', run: () => vscode.commands.executeCommand('leakLens.attachToProcess') },
    ],
  );
}

export class TargetRegistry implements vscode.Disposable {
  private readonly sessions = new Map<string, vscode.DebugSession>();
  private readonly targets = new Map<string, MemoryTarget>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  private readonly activeEmitter = new vscode.EventEmitter<MemoryTarget | undefined>();
  /** Fires when Node sessions come or go. */
  readonly onDidChangeSessions = this.changeEmitter.event;
  /** Fires with the target of the active session (undefined when the active session is not a Node process). */
  readonly onDidChangeActiveTarget = this.activeEmitter.event;

  /** js-debug sessions that have answered their launch/attach request, or a promise of it. */
  private readonly readiness = new Map<string, { done: boolean; promise: Promise<void>; resolve: () => void }>();

  constructor() {
    this.disposables.push(
      // js-debug hands out a CDP proxy only once its child session has attached to the process; this tracker sees
      // the child's answer to its launch/attach request, which is the readiness signal to wait for.
      vscode.debug.registerDebugAdapterTrackerFactory('*', {
        createDebugAdapterTracker: (session) => {
          if (session.type === DEBUG_TYPE || !NODE_CHILD_TYPES.has(session.type)) return undefined;
          this.readinessOf(session.id);
          return {
            onDidSendMessage: (m: { type?: string; command?: string }) => {
              if (m.type === 'response' && (m.command === 'attach' || m.command === 'launch'))
                this.readinessOf(session.id).resolve();
            },
            onExit: () => this.readinessOf(session.id).resolve(),
          };
        },
      }),
      this.changeEmitter,
      this.activeEmitter,
      vscode.debug.onDidStartDebugSession((s) => this.add(s)),
      vscode.debug.onDidTerminateDebugSession((s) => this.remove(s)),
      vscode.debug.onDidChangeActiveDebugSession(() => this.activeEmitter.fire(this.activeTarget())),
      vscode.debug.onDidReceiveDebugSessionCustomEvent((e) => {
        const target = this.targets.get(e.session.id);
        if (target instanceof AdapterTarget) target.handleEvent(e.event, e.body);
      }),
    );
    const active = vscode.debug.activeDebugSession;
    if (active) this.add(active);
  }

  /** Sessions that have ended; VS Code may still name one as active for a moment afterwards. */
  private readonly ended = new Set<string>();

  private add(session: vscode.DebugSession): void {
    if (this.sessions.has(session.id) || this.ended.has(session.id)) return;
    this.sessions.set(session.id, session);
    if (session.parentSession) this.add(session.parentSession);
    log().debug(`debug session started: ${session.name} (${session.type}, ${sessionKind(session)})`);
    this.changeEmitter.fire();
    if (session === vscode.debug.activeDebugSession || this.resolveActive() === session)
      this.activeEmitter.fire(this.activeTarget());
  }

  private readinessOf(id: string): { done: boolean; promise: Promise<void>; resolve: () => void } {
    let r = this.readiness.get(id);
    if (!r) {
      let resolve!: () => void;
      const promise = new Promise<void>((res) => (resolve = res));
      const entry = { done: false, promise, resolve: () => undefined };
      entry.resolve = () => {
        entry.done = true;
        resolve();
      };
      r = entry;
      this.readiness.set(id, r);
    }
    return r;
  }

  /** Resolves once js-debug's session for a process is attached (at once for sessions started before activation). */
  private whenReady(session: vscode.DebugSession): Promise<void> {
    const r = this.readiness.get(session.id);
    return r ? r.promise : Promise.resolve();
  }

  private remove(session: vscode.DebugSession): void {
    this.ended.add(session.id);
    this.readiness.delete(session.id);
    const target = this.targets.get(session.id);
    this.targets.delete(session.id);
    const known = this.sessions.delete(session.id);
    target?.dispose();
    if (known) {
      log().debug(`debug session ended: ${session.name}`);
      this.changeEmitter.fire();
      this.activeEmitter.fire(this.activeTarget());
    }
  }

  /** Node process sessions known to this window. */
  nodeSessions(): vscode.DebugSession[] {
    return [...this.sessions.values()].filter((s) => sessionKind(s) === 'node');
  }

  /** The process sessions under a launcher session (js-debug's children, grandchildren for forked processes). */
  private childrenOf(session: vscode.DebugSession): vscode.DebugSession[] {
    const under = (s: vscode.DebugSession): boolean =>
      !!s.parentSession && (s.parentSession.id === session.id || under(s.parentSession));
    return this.nodeSessions().filter(under);
  }

  /** The js-debug sessions of the worker threads of a process session, alive now. */
  workersOf(session: vscode.DebugSession): vscode.DebugSession[] {
    return [...this.sessions.values()].filter(
      (s) => s.parentSession?.id === session.id && sessionKind(s) === 'worker' && !this.ended.has(s.id),
    );
  }

  /** The target of a process session, created on first use. */
  targetFor(session: vscode.DebugSession): MemoryTarget {
    let target = this.targets.get(session.id);
    if (!target) {
      if (this.ended.has(session.id))
        throw new UserError(
          `The debug session "${session.name}" has ended. Start the program again to keep working on its memory.`,
        );
      log().debug(
        `new ${session.type === DEBUG_TYPE ? 'leak-lens' : 'js-debug'} target for ${session.name} (${session.id})`,
      );
      target =
        session.type === DEBUG_TYPE
          ? new AdapterTarget(session)
          : new JsDebugTarget(
              session,
              () => this.whenReady(session),
              () => this.workersOf(session).map((w) => ({ session: w, attached: () => this.whenReady(w) })),
            );
      // In the map before the session is added: adding fires the change events, whose listeners (the status bar)
      // ask for this same target; created a second time, it connected twice and one copy was never disposed.
      this.targets.set(session.id, target);
      this.add(session);
    }
    return target;
  }

  /** The process session the active debug session stands for, when that is unambiguous. */
  private resolveActive(): vscode.DebugSession | undefined {
    const active = vscode.debug.activeDebugSession;
    if (!active || this.ended.has(active.id)) return undefined;
    const kind = sessionKind(active);
    if (kind === 'node') return active;
    // A worker's session (selected in the Call Stack view, or stopped at a breakpoint) stands for its process.
    if (kind === 'worker') return active.parentSession;
    if (kind === 'launcher') {
      const children = this.childrenOf(active);
      return children.length === 1 ? children[0] : undefined;
    }
    return undefined;
  }

  /** The target of the active session, if it is (or launched exactly one) Node process; never asks. */
  activeTarget(): MemoryTarget | undefined {
    const session = this.resolveActive();
    return session ? this.targetFor(session) : undefined;
  }

  /**
   * The process a command should work on: the active session's, else the only one, else the user's choice (when
   * interactive). Throws a UserError that says what to do when there is none, or only a browser.
   */
  async pick(options: PickOptions, activeSession = vscode.debug.activeDebugSession): Promise<MemoryTarget> {
    const active = activeSession && !this.ended.has(activeSession.id) ? activeSession : undefined;
    if (active) this.add(active);
    let candidates: vscode.DebugSession[];
    const kind = active ? sessionKind(active) : 'other';
    if (active && kind === 'node') candidates = [active];
    else if (active && kind === 'worker' && active.parentSession) candidates = [active.parentSession];
    else if (active && kind === 'launcher') candidates = this.childrenOf(active);
    else if (active && kind === 'browser' && this.nodeSessions().length === 0) {
      throw new UserError(
        `The debug session "${active.name}" debugs a browser page. Leak Lens works on Node.js programs: launch or attach to a Node program, or make a Node debug session the active one in the Call Stack view.`,
        [
          { title: 'Launch Program...', run: () => vscode.commands.executeCommand('leakLens.launchProgram') },
          { title: 'Attach to Process...', run: () => vscode.commands.executeCommand('leakLens.attachToProcess') },
        ],
      );
    } else candidates = this.nodeSessions();

    if (candidates.length === 0 && active && kind === 'launcher') {
      throw new UserError(
        `The debug session "${active.name}" has no running Node process yet. Wait until the program has started, then try again.`,
      );
    }
    if (candidates.length === 0) throw noSessionError(options.purpose);
    if (candidates.length === 1) return this.targetFor(candidates[0]);
    if (!options.interactive) {
      throw new UserError(
        `Several Node processes are being debugged (${candidates.map((s) => `"${s.name}"`).join(', ')}). Select the one to work on in the Call Stack view, then try again.`,
      );
    }
    const picked = await vscode.window.showQuickPick(
      candidates.map((s) => {
        const target = this.targets.get(s.id);
        return {
          label: s.name,
          description:
            target?.pid !== undefined
              ? `pid ${target.pid}`
              : s.type === DEBUG_TYPE
                ? 'Leak Lens session'
                : s.parentSession?.name,
          session: s,
        };
      }),
      { title: 'Leak Lens: which process?', placeHolder: 'Several Node processes are being debugged; pick one' },
    );
    if (!picked) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
    return this.targetFor(picked.session);
  }

  dispose(): void {
    for (const target of this.targets.values()) target.dispose();
    this.targets.clear();
    this.sessions.clear();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
