/**
 * User-facing failures: each says what happened and what to do next. Errors from capture, the engine and the file
 * system are turned into these sentences at the edge (`describeError`), and logged with their details.
 */
import * as vscode from 'vscode';
import { CancelledError } from '../../protocol/cancel';
import { log } from './log';

/**
 * A failure whose message is ready to show; `actions` are buttons that help with it. `detail` (a program's last
 * output, say) goes to the log only, where "Show Log" leads.
 */
export class UserError extends Error {
  readonly detail: string | undefined;
  constructor(
    message: string,
    readonly actions: ErrorAction[] = [],
    options?: { cause?: unknown; detail?: string },
  ) {
    super(message, options);
    this.name = 'UserError';
    this.detail = options?.detail;
  }
}

/** A button beside an error message, and what it does. */
export interface ErrorAction {
  title: string;
  run: () => unknown;
}

/** The user cancelled (a CancelledError, an AbortError, or an error that says only `cancelled`); nothing to report. */
export function isCancellation(error: unknown): boolean {
  if (error instanceof CancelledError) return true;
  const e = error as { name?: string; code?: string } | undefined;
  return (
    e?.name === 'AbortError' || e?.code === 'ABORT_ERR' || (error instanceof Error && error.message === 'cancelled')
  );
}

function sentence(text: string): string {
  const t = text.trim();
  const s = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

/** What went wrong, in the words a user needs, for an error from any layer. `doing` names the step ("take a snapshot"). */
export function describeError(error: unknown, doing: string): UserError {
  if (error instanceof UserError) return error;
  const e = error as NodeJS.ErrnoException & { cause?: unknown };
  const text = e?.message ?? String(error);
  const code = e?.code ?? (e?.cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || /ENOSPC|no space left/i.test(text)) {
    return new UserError(
      `Could not ${doing}: the disk is full. Nothing was saved (the partial file was removed). Free some space, or choose another folder in the setting "leakLens.snapshots.folder".`,
      [openSettingAction('leakLens.snapshots.folder')],
      { cause: error },
    );
  }
  if (
    /closed the inspector connection|socket closed|target closed|connection is closed|was closed by this side|capture session was closed/i.test(
      text,
    )
  ) {
    return new UserError(
      `Could not ${doing}: the program ended (or its debug session stopped) while Leak Lens was working. Nothing was saved. Start the program again and keep it running until the capture finishes.`,
      [],
      { cause: error },
    );
  }
  if (/EACCES|EPERM|EROFS|ENOTDIR|EEXIST|cannot write a snapshot/i.test(text)) {
    return new UserError(
      `Could not ${doing}: ${sentence(text)} Choose a folder you can write to in the setting "leakLens.snapshots.folder".`,
      [openSettingAction('leakLens.snapshots.folder')],
      { cause: error },
    );
  }
  return new UserError(`Could not ${doing}: ${sentence(text)}`, [], { cause: error });
}

export function openSettingAction(setting: string): ErrorAction {
  return {
    title: 'Open Settings',
    run: () => vscode.commands.executeCommand('workbench.action.openSettings', setting),
  };
}

/** Logs an error and shows it (without waiting for the user to dismiss it). Cancellations are logged only. */
export function reportError(error: unknown, doing: string): UserError | undefined {
  if (isCancellation(error)) {
    log().info(`cancelled: ${doing}`);
    return undefined;
  }
  const u = describeError(error, doing);
  log().error(
    `${u.message}${u.detail ? `\n  ${u.detail.replace(/\n/g, '\n  ')}` : ''}${u.cause ? `\n  cause: ${(u.cause as Error)?.stack ?? String(u.cause)}` : ''}`,
  );
  showError(u);
  return u;
}

/** The button every error message has: the log holds the message again, with the details it leaves out. */
const SHOW_LOG: ErrorAction = { title: 'Show Log', run: () => log().show() };

/**
 * Shows a user error with its buttons, and "Show Log" last; resolves at once, the buttons act when clicked. An error
 * message with a button stays until dismissed and shows its whole text (VS Code collapses one without buttons to its
 * first line, cut with "...").
 */
export function showError(u: UserError): void {
  const actions = [...u.actions, SHOW_LOG];
  void vscode.window.showErrorMessage(u.message, ...actions.map((a) => a.title)).then((picked) => {
    const action = actions.find((a) => a.title === picked);
    if (action)
      void Promise.resolve(action.run()).catch((e: unknown) => log().error(`${action.title} failed: ${String(e)}`));
  });
}
