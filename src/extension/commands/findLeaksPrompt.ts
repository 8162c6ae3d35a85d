/**
 * The questions Find Leaks asks between rounds ("run your workload, then Continue"), kept in reach until answered.
 * An information message with buttons hides after about 10 s, and the person is usually in a terminal by then; so
 * beside it a status bar item offers the main answer ("Leak Lens: Continue round 1") and the command
 * `leakLens.findLeaks.continue` ("Leak Lens: Continue Find Leaks") offers every answer. The Find Leaks progress
 * notification, which stays while it runs, says what it waits for and has the Cancel button.
 */
import * as vscode from 'vscode';
import { CancelledError } from '../../../protocol/cancel';
import type { Outcome } from './common';

/** The command that answers the waiting question. */
export const CONTINUE_COMMAND = 'leakLens.findLeaks.continue';
/** The context key that enables it. */
const WAITING_KEY = 'leakLens.findLeaksWaiting';

export interface PromptOptions {
  /** The notification's text. */
  message: string;
  /** The status bar item's text (the main answer), e.g. "Leak Lens: Continue round 1". */
  status: string;
  /** The status bar item's tooltip: what the person is asked to do. */
  tooltip: string;
  /** The answers, the main one first (the status bar item gives it). */
  answers: string[];
}

interface Waiting {
  options: PromptOptions;
  answer: (answer: string) => void;
  cancel: () => void;
}

let waiting: Waiting | undefined;

/** The question Find Leaks is waiting on, if any (its status bar text and answers), for the extension's API. */
export function waitingPrompt(): { status: string; answers: string[] } | undefined {
  return waiting ? { status: waiting.options.status, answers: [...waiting.options.answers] } : undefined;
}

/**
 * Asks, and resolves with the answer chosen in the notification, the status bar or the command; rejects with a
 * CancelledError when `token` is cancelled (the progress notification's Cancel). Closing the notification leaves
 * the question in the status bar.
 */
export function ask(options: PromptOptions, token: vscode.CancellationToken): Promise<string> {
  if (token.isCancellationRequested) return Promise.reject(new CancelledError());
  return new Promise<string>((resolve, reject) => {
    const item = vscode.window.createStatusBarItem('leakLens.findLeaksPrompt', vscode.StatusBarAlignment.Left, 11);
    item.name = 'Leak Lens: Find Leaks';
    item.text = `$(debug-continue) ${options.status}`;
    item.tooltip = options.tooltip;
    item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    item.command = {
      title: options.answers[0],
      command: CONTINUE_COMMAND,
      arguments: [{ answer: options.answers[0] }],
    };
    item.show();
    let done = false;
    const finish = (settle: () => void): void => {
      if (done) return;
      done = true;
      if (waiting === current) waiting = undefined;
      item.dispose();
      sub.dispose();
      void vscode.commands.executeCommand('setContext', WAITING_KEY, waiting !== undefined);
      settle();
    };
    const current: Waiting = {
      options,
      answer: (answer) => finish(() => resolve(answer)),
      cancel: () => finish(() => reject(new CancelledError())),
    };
    waiting = current;
    void vscode.commands.executeCommand('setContext', WAITING_KEY, true);
    const sub = token.onCancellationRequested(() => finish(() => reject(new CancelledError())));
    void vscode.window.showInformationMessage(options.message, ...options.answers).then((picked) => {
      if (picked) current.answer(picked);
    });
  });
}

/**
 * `leakLens.findLeaks.continue`: gives the waiting question `answer` (the status bar item passes its main answer),
 * or, run from the palette, lets the person pick one of its answers or cancel Find Leaks.
 */
export async function answerPrompt(arg?: { answer?: string }): Promise<Outcome<string>> {
  const now = waiting;
  if (!now) {
    void vscode.window.showInformationMessage(
      'Leak Lens: Find Leaks is not waiting for you; run "Leak Lens: Find Leaks" to start it.',
    );
    return { ok: false, error: 'Find Leaks is not waiting' };
  }
  let answer = typeof arg?.answer === 'string' && now.options.answers.includes(arg.answer) ? arg.answer : undefined;
  if (!answer) {
    const cancel = 'Cancel Find Leaks';
    const picked = await vscode.window.showQuickPick([...now.options.answers, cancel], {
      title: `Leak Lens: ${now.options.status}`,
      placeHolder: now.options.tooltip,
    });
    if (!picked || waiting !== now) return { ok: false, error: 'cancelled', cancelled: true };
    if (picked === cancel) {
      now.cancel();
      return { ok: true, value: cancel };
    }
    answer = picked;
  }
  now.answer(answer);
  return { ok: true, value: answer };
}
