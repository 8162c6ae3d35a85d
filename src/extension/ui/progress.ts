/**
 * `window.withProgress` that also tells listeners what it reports: the extension's API passes each report on to
 * tests and other extensions (a notification's text cannot be read back from VS Code).
 */
import * as vscode from 'vscode';

/** One report of a progress notification: its title and the message (and increment) given. */
export interface ProgressReport {
  title: string;
  message?: string;
  increment?: number;
}

let emitter: vscode.EventEmitter<ProgressReport> | undefined;

/** Starts passing reports on; the returned disposable stops it. */
export function createProgressEvents(): { event: vscode.Event<ProgressReport>; dispose(): void } {
  const e = new vscode.EventEmitter<ProgressReport>();
  emitter = e;
  return {
    event: e.event,
    dispose: () => {
      if (emitter === e) emitter = undefined;
      e.dispose();
    },
  };
}

/** `vscode.window.withProgress`, each report also fired as a {@link ProgressReport}. */
export function withProgress<R>(
  options: vscode.ProgressOptions & { title: string },
  task: (
    progress: vscode.Progress<{ message?: string; increment?: number }>,
    token: vscode.CancellationToken,
  ) => Thenable<R>,
): Thenable<R> {
  return vscode.window.withProgress(options, (progress, token) =>
    task(
      {
        report: (value) => {
          emitter?.fire({ title: options.title, ...value });
          progress.report(value);
        },
      },
      token,
    ),
  );
}
