/**
 * A real LSP client for tests and the benchmark: spawns `node out/server/main.js --stdio` and speaks JSON-RPC to it
 * over its stdin/stdout with vscode-jsonrpc's stream reader and writer, as an editor would. It records what the
 * server pushes (diagnostics, log messages, report statuses, capability registrations) and lets a test wait for a
 * condition on them; waits end on the server's own messages, and time out only as a failure guard.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createMessageConnection,
  MessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-jsonrpc/node';
import type {
  CodeLens,
  Diagnostic,
  Hover,
  InitializeResult,
  LocationLink,
  PublishDiagnosticsParams,
} from 'vscode-languageserver';
import type { LeakLensInitializationOptions, ReportStatusParams, SetReportParams } from '../../protocol/lsp';
import { repoRoot } from '../helpers/fixtures';

/** The server to test: tsc's output, or another build of it (such as the dist/server.js bundle) in LEAK_LENS_SERVER. */
export const serverMain = process.env.LEAK_LENS_SERVER
  ? path.resolve(process.env.LEAK_LENS_SERVER)
  : path.join(repoRoot, 'out', 'server', 'main.js');

export interface StartOptions {
  /** Workspace folders (absolute paths). */
  roots: string[];
  initializationOptions?: LeakLensInitializationOptions;
  /** Offer dynamic registration of file watchers (the server then asks for them instead of using fs.watch). */
  watchFiles?: boolean;
  codeLensRefresh?: boolean;
  /** Node options for the server process (e.g. `--cpu-prof` when profiling it). */
  execArgv?: string[];
}

export function uri(file: string): string {
  return pathToFileURL(file).href;
}

export class LspClient {
  readonly diagnostics = new Map<string, Diagnostic[]>();
  /** Every publishDiagnostics in arrival order, with the time it arrived (performance.now()). */
  readonly published: { uri: string; count: number; at: number }[] = [];
  readonly logs: string[] = [];
  readonly statuses: ReportStatusParams[] = [];
  readonly registrations: { method: string; registerOptions?: unknown }[] = [];
  readonly notifications: { method: string; params: unknown }[] = [];
  stderr = '';
  initializeResult: InitializeResult | undefined;
  private readonly waiters = new Set<() => void>();
  private versions = new Map<string, number>();
  exited: Promise<number | null>;

  private constructor(
    readonly proc: ChildProcess,
    readonly conn: MessageConnection,
  ) {
    this.exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
    proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    conn.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      this.diagnostics.set(p.uri, p.diagnostics);
      this.published.push({ uri: p.uri, count: p.diagnostics.length, at: performance.now() });
      this.wake();
    });
    conn.onNotification('window/logMessage', (p: { message: string }) => {
      this.logs.push(p.message);
      this.wake();
    });
    conn.onNotification('leakLens/reportStatus', (p: ReportStatusParams) => {
      this.statuses.push(p);
      this.wake();
    });
    conn.onNotification((method: string, params: unknown) => {
      this.notifications.push({ method, params });
      this.wake();
    });
    conn.onRequest(
      'client/registerCapability',
      (p: { registrations: { method: string; registerOptions?: unknown }[] }) => {
        this.registrations.push(...p.registrations);
        this.wake();
        return null;
      },
    );
    conn.onRequest(() => null);
    conn.listen();
  }

  static async start(options: StartOptions): Promise<LspClient> {
    const proc = spawn(process.execPath, [...(options.execArgv ?? []), serverMain, '--stdio'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const conn = createMessageConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
    const client = new LspClient(proc, conn);
    client.initializeResult = await conn.sendRequest<InitializeResult>('initialize', {
      processId: process.pid,
      rootUri: options.roots[0] ? uri(options.roots[0]) : null,
      workspaceFolders: options.roots.map((r) => ({ uri: uri(r), name: path.basename(r) })),
      initializationOptions: options.initializationOptions ?? {},
      capabilities: {
        workspace: {
          didChangeWatchedFiles: { dynamicRegistration: !!options.watchFiles },
          codeLens: { refreshSupport: !!options.codeLensRefresh },
          configuration: false,
        },
        textDocument: {
          publishDiagnostics: { relatedInformation: true },
          hover: { contentFormat: ['markdown'] },
          definition: { linkSupport: true },
        },
      },
    });
    await conn.sendNotification('initialized', {});
    return client;
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves with the first truthy value of `check`, evaluated now and after every message from the server. */
  waitFor<T>(check: () => T | undefined | false | null, what: string, timeoutMs = 60_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const first = check();
      if (first) return resolve(first);
      const timer = setTimeout(() => {
        this.waiters.delete(tryNow);
        reject(
          new Error(
            `timed out waiting for ${what}; logs:\n${this.logs.slice(-20).join('\n')}\nstderr: ${this.stderr.slice(-2000)}`,
          ),
        );
      }, timeoutMs);
      const tryNow = (): void => {
        let v: T | undefined | false | null;
        try {
          v = check();
        } catch (e) {
          clearTimeout(timer);
          this.waiters.delete(tryNow);
          reject(e as Error);
          return;
        }
        if (v) {
          clearTimeout(timer);
          this.waiters.delete(tryNow);
          resolve(v);
        }
      };
      this.waiters.add(tryNow);
    });
  }

  /** Sends a report and waits for the server's status about it (the status comes after its diagnostics). */
  async setReport(params: SetReportParams, source?: string): Promise<ReportStatusParams> {
    const expected = source ?? (params.file ? path.normalize(params.file) : (params.source ?? 'inline'));
    const seen = this.statuses.length;
    await this.conn.sendNotification('leakLens/setReport', params);
    return this.waitFor(
      () => this.statuses.slice(seen).find((s) => s.source === expected),
      `the status of report ${expected}`,
    );
  }

  /** Waits for the next status of `source` after the call. */
  nextStatus(source: string): Promise<ReportStatusParams> {
    const seen = this.statuses.length;
    return this.waitFor(
      () => this.statuses.slice(seen).find((s) => s.source === source),
      `the status of report ${source}`,
    );
  }

  diagnosticsOf(file: string): Diagnostic[] {
    return this.diagnostics.get(uri(file)) ?? [];
  }

  /** Opens a document (its text from disk unless given) and waits for the diagnostics the opening produces. */
  async open(
    file: string,
    text?: string,
    languageId = /\.tsx?$/.test(file) ? 'typescript' : 'javascript',
  ): Promise<Diagnostic[]> {
    const seen = this.published.length;
    this.versions.set(file, 1);
    await this.conn.sendNotification('textDocument/didOpen', {
      textDocument: { uri: uri(file), languageId, version: 1, text: text ?? fs.readFileSync(file, 'utf8') },
    });
    await this.waitFor(
      () => this.published.slice(seen).some((p) => p.uri === uri(file)),
      `diagnostics of ${file} after opening it`,
    );
    return this.diagnosticsOf(file);
  }

  /** Replaces a document's whole text and waits for its new diagnostics. */
  async change(file: string, text: string): Promise<Diagnostic[]> {
    const seen = this.published.length;
    const version = (this.versions.get(file) ?? 1) + 1;
    this.versions.set(file, version);
    await this.conn.sendNotification('textDocument/didChange', {
      textDocument: { uri: uri(file), version },
      contentChanges: [{ text }],
    });
    await this.waitFor(
      () => this.published.slice(seen).some((p) => p.uri === uri(file)),
      `diagnostics of ${file} after a change`,
    );
    return this.diagnosticsOf(file);
  }

  async close(file: string): Promise<void> {
    await this.conn.sendNotification('textDocument/didClose', { textDocument: { uri: uri(file) } });
  }

  hover(file: string, line: number, character: number): Promise<Hover | null> {
    return this.conn.sendRequest('textDocument/hover', {
      textDocument: { uri: uri(file) },
      position: { line, character },
    });
  }

  codeLenses(file: string): Promise<CodeLens[] | null> {
    return this.conn.sendRequest('textDocument/codeLens', { textDocument: { uri: uri(file) } });
  }

  definition(file: string, line: number, character: number): Promise<LocationLink[] | null> {
    return this.conn.sendRequest('textDocument/definition', {
      textDocument: { uri: uri(file) },
      position: { line, character },
    });
  }

  /** Shuts the server down the LSP way and waits for the process to exit. */
  async stop(): Promise<number | null> {
    if (this.proc.exitCode === null) {
      try {
        await Promise.race([this.conn.sendRequest('shutdown'), this.exited]);
        await this.conn.sendNotification('exit');
      } catch {
        // The server already went away; the exit code says how.
      }
    }
    const code = await this.exited;
    this.conn.dispose();
    return code;
  }
}
