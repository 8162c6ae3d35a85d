/**
 * Leak Lens's language model tools: what an agent in VS Code (agent mode, or any extension through `vscode.lm`) can do
 * on the user's live debug session. Find Leaks and Take Heap Snapshot run the same commands a person runs, without
 * questions (`interactive: false`), after the same confirmation a person would give: VS Code shows the message of
 * `prepareInvocation` (in the chat, or as a dialog when invoked outside one) before `invoke` runs. Answers are plain
 * text sized for a model's context, rendered by the CLI's `formatReport`; snapshots stay on disk.
 */
import * as vscode from 'vscode';
import { formatReport } from '../../cli/format';
import { settings } from '../settings';
import { formatBytes } from '../ui/format';
import { takeHeapSnapshot } from './capture';
import type { Services } from './common';
import { findLeaksCommand } from './findLeaks';
import type { LeakReport } from '../../../protocol/report';

export const FIND_LEAKS_TOOL = 'leak-lens_findLeaks';
export const TAKE_SNAPSHOT_TOOL = 'leak-lens_takeSnapshot';
export const READ_REPORT_TOOL = 'leak-lens_readReport';

/** How many leak groups an answer shows unless asked for more: each is about ten lines. */
const DEFAULT_TOP = 5;

export interface FindLeaksToolInput {
  workloadCommand?: string;
  rounds?: number;
  cwd?: string;
  top?: number;
}

export interface TakeSnapshotToolInput {
  label?: string;
}

export interface ReadReportToolInput {
  top?: number;
}

/** The last confirmation a tool asked for (for tests: VS Code's test host answers its dialog by itself). */
export interface ToolConfirmation {
  tool: string;
  title: string;
  message: string;
}

function text(value: string): vscode.LanguageModelToolResult {
  return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(value)]);
}

function cwdOf(input: { cwd?: string }): string | undefined {
  return input.cwd?.trim() || vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/** Where file paths in answers are relative to (when below it): the first workspace folder, where an agent works. */
function shownFrom(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

function roundsOf(input: { rounds?: number }): number {
  return Math.max(1, Math.min(20, Math.round(input.rounds ?? settings.findLeaksRounds())));
}

/** The program the tools would work on, in words, without asking or connecting (prepareInvocation has no side effects). */
function targetWords(s: Services): string {
  const active = s.registry.activeTarget();
  if (active) return `"${active.label}"`;
  return 'the Node.js program being debugged';
}

/** A report as text with its first `top` groups, saying how many more there are. */
export function reportAnswer(report: LeakReport, top: number, cwd: string | undefined): string {
  const shown = report.leaks.slice(0, Math.max(1, top));
  const body = formatReport({ ...report, leaks: shown }, cwd);
  const rest = report.leaks.length - shown.length;
  return rest > 0
    ? `${body}\n\n(${rest} more leak group${rest > 1 ? 's' : ''} not shown; call ${READ_REPORT_TOOL} with a larger top.)`
    : body;
}

/** Registers the three tools; `lastReport` is the report Find Leaks last showed in this window. */
export function registerLanguageModelTools(
  s: Services,
  lastReport: () => LeakReport | undefined,
  onConfirmation?: (c: ToolConfirmation) => void,
): vscode.Disposable[] {
  const confirm = (
    tool: string,
    title: string,
    message: string,
    invocationMessage: string,
  ): vscode.PreparedToolInvocation => {
    onConfirmation?.({ tool, title, message });
    return { invocationMessage, confirmationMessages: { title, message } };
  };

  const findLeaksTool: vscode.LanguageModelTool<FindLeaksToolInput> = {
    prepareInvocation({ input }) {
      const workload = (input.workloadCommand ?? settings.workloadCommand()).trim();
      const rounds = roundsOf(input);
      const target = targetWords(s);
      const snapshots = `${rounds + 1} heap snapshots of ${target} (each pauses it while V8 walks its heap)`;
      const message = workload
        ? `Leak Lens will run the shell command \`${workload}\` in ${cwdOf(input) ?? "the extension host's folder"} ${rounds + 1} times (a warm-up, then ${rounds} round${rounds > 1 ? 's' : ''}), with TARGET_URL set to where the program listens, and take ${snapshots}.`
        : `Leak Lens will take ${snapshots}, letting the program run on its own for a second between them (no workload command given).`;
      return confirm(
        FIND_LEAKS_TOOL,
        workload ? 'Run a shell command and find leaks?' : 'Find leaks?',
        message,
        `Finding leaks in ${target}`,
      );
    },
    async invoke({ input }, token) {
      const outcome = await findLeaksCommand(s, {
        interactive: false,
        rounds: roundsOf(input),
        workload: input.workloadCommand,
        workloadCwd: cwdOf(input),
        token,
      });
      if (!outcome.ok)
        return text(
          outcome.cancelled ? 'Find Leaks was cancelled before it finished.' : `Find Leaks failed: ${outcome.error}`,
        );
      const { report, snapshots } = outcome.value;
      return text(
        `${reportAnswer(report, input.top ?? DEFAULT_TOP, shownFrom())}\n\nSnapshots on disk: ${snapshots.join(', ')}`,
      );
    },
  };

  const takeSnapshotTool: vscode.LanguageModelTool<TakeSnapshotToolInput> = {
    prepareInvocation() {
      const target = targetWords(s);
      return confirm(
        TAKE_SNAPSHOT_TOOL,
        'Take a heap snapshot?',
        `Leak Lens will take a heap snapshot of ${target}: it collects garbage and pauses the program while V8 writes its whole heap to a file in the snapshot folder (${s.store.folder()}).`,
        `Taking a heap snapshot of ${target}`,
      );
    },
    async invoke({ input }, token) {
      const outcome = await takeHeapSnapshot(s, {
        interactive: false,
        token,
        ...(input.label?.trim() ? { label: input.label.trim() } : {}),
      });
      if (!outcome.ok)
        return text(
          outcome.cancelled ? 'The heap snapshot was cancelled.' : `Taking a heap snapshot failed: ${outcome.error}`,
        );
      const e = outcome.value;
      const heap = e.heapUsed !== undefined ? `, heap used ${formatBytes(e.heapUsed)}` : '';
      const workers = e.workers.length
        ? `\nWorker threads snapshotted beside it: ${e.workers.map((w) => `${w.name} (${w.file})`).join(', ')}`
        : '';
      return text(
        `Heap snapshot "${e.label}" saved: ${e.file} (${formatBytes(e.size)}${heap}${e.pid !== undefined ? `, pid ${e.pid}` : ''}).${workers}`,
      );
    },
  };

  const readReportTool: vscode.LanguageModelTool<ReadReportToolInput> = {
    prepareInvocation() {
      return { invocationMessage: 'Reading the last leak report' };
    },
    invoke({ input }) {
      const report = lastReport();
      if (!report)
        return text(
          `No leak report yet in this window: run ${FIND_LEAKS_TOOL} (or Leak Lens: Find Leaks) on the program being debugged first.`,
        );
      return text(reportAnswer(report, input.top ?? DEFAULT_TOP, shownFrom()));
    },
  };

  return [
    vscode.lm.registerTool(FIND_LEAKS_TOOL, findLeaksTool),
    vscode.lm.registerTool(TAKE_SNAPSHOT_TOOL, takeSnapshotTool),
    vscode.lm.registerTool(READ_REPORT_TOOL, readReportTool),
  ];
}
