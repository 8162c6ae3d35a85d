/**
 * The extension's log: one LogOutputChannel ("Leak Lens"), created on activation. Everything a user is told is also
 * logged here, with the details (stacks, URLs) that the message itself leaves out.
 */
import * as vscode from 'vscode';

let channel: vscode.LogOutputChannel | undefined;

/** Creates the channel; the returned disposable removes it. */
export function createLog(): vscode.Disposable {
  channel = vscode.window.createOutputChannel('Leak Lens', { log: true });
  return {
    dispose: () => {
      channel?.dispose();
      channel = undefined;
    },
  };
}

/** The channel itself, for components that take a LogOutputChannel (the webview, the language client). */
export function logChannel(): vscode.LogOutputChannel | undefined {
  return channel;
}

type Log = Pick<vscode.LogOutputChannel, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'show'>;

/** With LEAK_LENS_LOG_CONSOLE=1 (test runs) every line also goes to the extension host's console. */
const mirror = process.env.LEAK_LENS_LOG_CONSOLE === '1';

function mirrored(c: vscode.LogOutputChannel): Log {
  const at =
    (level: 'trace' | 'debug' | 'info' | 'warn' | 'error') =>
    (message: string | Error, ...args: unknown[]): void => {
      console.log(`[leak-lens ${level}] ${message instanceof Error ? message.message : message}`);
      (c[level] as (m: string | Error, ...a: unknown[]) => void)(message, ...args);
    };
  return {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    show: c.show.bind(c),
  };
}

/** The log; before activation (or after deactivation) a no-op stand-in. */
export function log(): Log {
  if (!channel) return { trace: noop, debug: noop, info: noop, warn: noop, error: noop, show: noop };
  return mirror ? mirrored(channel) : channel;
}

function noop(): void {
  // Nothing to log to.
}
