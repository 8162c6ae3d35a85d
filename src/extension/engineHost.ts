/**
 * The analysis engine as the extension uses it: one EngineClient (a worker thread with its own heap limit), started
 * on first use and stopped on deactivation. Parsing and analysis never run on the extension host's thread. Requests
 * take a cancellation token and report progress; answers that are errors become UserErrors here.
 */
import * as vscode from 'vscode';
import { EngineClient } from '../../engine/client';
import type { EngineRequest, EngineResults } from '../../protocol/engine';
import { progressText } from '../../protocol/progress';
import { CancelledError } from '../../protocol/cancel';
import { UserError } from './errors';
import { log } from './log';

export class EngineHost implements vscode.Disposable {
  private client: EngineClient | undefined;

  /** The engine client, for consumers (such as the memory panel) that page through results themselves. */
  get engine(): EngineClient {
    this.client ??= new EngineClient();
    return this.client;
  }

  /**
   * Sends one request; `progress` receives each stage in words (protocol/progress.ts: `Reading snapshot 2 of 3 —
   * 40%`, `Computing retained sizes`). Rejects with UserError or CancelledError.
   */
  async request<K extends EngineRequest['kind']>(
    request: Extract<EngineRequest, { kind: K }>,
    token?: vscode.CancellationToken,
    progress?: (message: string) => void,
  ): Promise<EngineResults[K]> {
    const controller = new AbortController();
    const sub = token?.onCancellationRequested(() => controller.abort());
    const t0 = Date.now();
    try {
      const answer = await this.engine.request<K>(request, {
        signal: controller.signal,
        onProgress: (p) => progress?.(progressText(p)),
      });
      log().info(
        `engine ${request.kind}: ${answer.ok ? 'ok' : `${answer.code}: ${answer.error}`} in ${Date.now() - t0} ms`,
      );
      if (answer.ok) return answer.value;
      if (answer.code === 'cancelled') throw new CancelledError();
      if (answer.code === 'parse')
        throw new UserError(
          `This file is not a heap snapshot Leak Lens can read: ${answer.error}. Take a new snapshot, or check that the file was copied whole.`,
        );
      if (answer.code === 'memory')
        throw new UserError(
          `${answer.error}. Close other large snapshots, or analyse this one with the CLI (leak-lens analyze) on a machine with more memory.`,
        );
      throw new UserError(
        answer.error.charAt(0).toUpperCase() + answer.error.slice(1) + (/[.!?]$/.test(answer.error) ? '' : '.'),
      );
    } finally {
      sub?.dispose();
    }
  }

  dispose(): void {
    const c = this.client;
    this.client = undefined;
    void c?.dispose();
  }
}
