/**
 * The extension's side of the Leak Lens language server. The extension calls {@link startLanguageClient} on first
 * need (a JavaScript/TypeScript file is open, or a report was written) and disposes the result on deactivation.
 * The server runs in its own Node process (`dist/server.js`, or `out/server/main.js`, over IPC), so parsing reports and sources never
 * runs on the extension host's thread.
 *
 * What the extension must provide (package.json and src/extension/main.ts):
 *  - the command `leakLens.showLeakGroup` (argument: `ShowLeakGroupArgs` from protocol/lsp.ts), which code lenses and
 *    hover links run to open the webview at a group;
 *  - the settings `leakLens.pathMap`, `leakLens.reportFiles`, `leakLens.staticChecks.enabled`.
 */
import * as fs from 'fs';
import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions, State, TransportKind } from 'vscode-languageclient/node';
import {
  ClearReportNotification,
  ClearReportParams,
  DEFAULT_REPORT_FILES,
  LeakLensInitializationOptions,
  ReportStatusNotification,
  ReportStatusParams,
  SETTINGS_SECTION,
  SetReportNotification,
  SetReportParams,
  SHOW_LEAK_GROUP_COMMAND,
} from '../../protocol/lsp';

/** A running (or starting) language client. Disposing it stops the server process. */
export interface LeakLensLanguageClient extends vscode.Disposable {
  readonly client: LanguageClient;
  /** Resolves true once the server is up, false if it could not start (the log says why). Never rejects. */
  readonly ready: Promise<boolean>;
  /** Fires after every report the server applied or refused: what is shown, what was skipped. */
  readonly onReportStatus: vscode.Event<ReportStatusParams>;
  /** Shows a report (the report itself, or the path of a report JSON file) in the editor. */
  setReport(params: SetReportParams): Promise<void>;
  /** Forgets one report (by its file or inline label), or all of them. */
  clearReport(source?: string): Promise<void>;
  dispose(): Promise<void>;
}

type LogChannel = Pick<vscode.LogOutputChannel, 'info' | 'warn' | 'error'> & Partial<vscode.OutputChannel>;

/** The settings the server reads, from the `leakLens` configuration section. */
function initializationOptions(): LeakLensInitializationOptions {
  const cfg = vscode.workspace.getConfiguration(SETTINGS_SECTION);
  return {
    pathMap: cfg.get<Record<string, string>>('pathMap', {}),
    reportFiles: cfg.get<string[]>('reportFiles', DEFAULT_REPORT_FILES),
    staticChecks: cfg.get<boolean>('staticChecks.enabled', true),
    hostCommands: true,
  };
}

/**
 * The client writes to its output channel on its own schedule, also after stop() has resolved (the server process's
 * exit is reported later). Once the extension has disposed the channel, VS Code throws "Channel has been closed" at
 * such a write, outside any caller. This view of the channel drops writes that the channel refuses.
 */
function quietAfterClose(channel: vscode.OutputChannel): vscode.OutputChannel {
  return new Proxy(channel, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        try {
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch {
          return undefined;
        }
      };
    },
  });
}

export function startLanguageClient(context: vscode.ExtensionContext, log: LogChannel): LeakLensLanguageClient {
  // The packaged extension ships the esbuild bundle (scripts/build-extension.js); a development tree may only have tsc's.
  const bundled = context.asAbsolutePath('dist/server.js');
  const module = fs.existsSync(bundled) ? bundled : context.asAbsolutePath('out/server/main.js');
  // A report can be large; give the server room beyond Node's default heap.
  const run = { module, transport: TransportKind.ipc, options: { execArgv: ['--max-old-space-size=4096'] } };
  const serverOptions: ServerOptions = {
    run,
    debug: { ...run, options: { execArgv: ['--max-old-space-size=4096', '--nolazy', '--inspect=6019'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: ['javascript', 'typescript', 'javascriptreact', 'typescriptreact'].map((language) => ({
      scheme: 'file',
      language,
    })),
    synchronize: { configurationSection: SETTINGS_SECTION },
    initializationOptions: initializationOptions(),
    diagnosticCollectionName: 'leak-lens',
    // Hovers link to the command that opens a group in the webview; no other command runs from a hover.
    markdown: { isTrusted: { enabledCommands: [SHOW_LEAK_GROUP_COMMAND] } },
    ...(log.appendLine ? { outputChannel: quietAfterClose(log as vscode.OutputChannel) } : {}),
  };
  const client = new LanguageClient('leakLens', 'Leak Lens Language Server', serverOptions, clientOptions);
  const statusEmitter = new vscode.EventEmitter<ReportStatusParams>();
  const subscriptions: vscode.Disposable[] = [statusEmitter];

  const ready = client.start().then(
    () => {
      subscriptions.push(
        client.onNotification(ReportStatusNotification.method, (status: ReportStatusParams) => {
          if (!status.ok)
            log.warn(
              `Leak Lens could not use the report ${status.source}: ${status.error}. Write it again with \`leak-lens run --format json\`.`,
            );
          statusEmitter.fire(status);
        }),
      );
      return true;
    },
    (e: unknown) => {
      log.error(
        `The Leak Lens language server did not start: ${e instanceof Error ? e.message : String(e)}. Leak markers in the editor are off; run "Developer: Reload Window" to try again.`,
      );
      return false;
    },
  );

  const send = async (method: string, params: unknown): Promise<void> => {
    if (!(await ready) || client.state !== State.Running) return;
    await client.sendNotification(method, params);
  };

  return {
    client,
    ready,
    onReportStatus: statusEmitter.event,
    setReport: (params) => send(SetReportNotification.method, params),
    clearReport: (source) => send(ClearReportNotification.method, { source } satisfies ClearReportParams),
    dispose: async () => {
      for (const s of subscriptions) s.dispose();
      await ready;
      if (client.state !== State.Stopped) {
        try {
          await client.stop();
        } catch (e) {
          log.warn(`The Leak Lens language server did not stop cleanly: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    },
  };
}
