/**
 * Custom messages between the Leak Lens language server and its clients (the VS Code extension, or any LSP client
 * such as Neovim or Emacs), plus the initialization options and settings the server reads. Types and method names
 * only: the server (vscode-languageserver) and the extension (vscode-languageclient) bundle different copies of
 * vscode-jsonrpc, so this module carries no runtime imports and both sides register handlers by method name.
 *
 * Everything else the server does is standard LSP: publishDiagnostics, codeLens, hover, definition,
 * didChangeWatchedFiles (registered dynamically for the report files) and executeCommand.
 */
import type { LeakReport, LeakGroup } from './report';

/** Settings section read from `workspace/didChangeConfiguration` (`{ settings: { leakLens: ... } }`). */
export const SETTINGS_SECTION = 'leakLens';

/** Default report files, relative to each workspace folder (what `leak-lens run --out` and the extension write). */
export const DEFAULT_REPORT_FILES = ['.leak-lens/report.json'];

/** The command a leak code lens runs; arguments: one {@link ShowLeakGroupArgs}. The extension implements it. */
export const SHOW_LEAK_GROUP_COMMAND = 'leakLens.showLeakGroup';

/** Settings, given as `initializationOptions` and later as the `leakLens` section of didChangeConfiguration. */
export interface LeakLensSettings {
  /**
   * Prefix rewrites for file paths in reports written on another machine or in a container:
   * `{ "/app": "/home/me/project" }`. Applied before anything else; longest prefix wins.
   */
  pathMap?: Record<string, string>;
  /**
   * Report files to load and watch: absolute, or relative to each workspace folder. The file name part may hold
   * `*` wildcards (`.leak-lens/*.json`); directories may not. Default {@link DEFAULT_REPORT_FILES}.
   */
  reportFiles?: string[];
  /** Syntactic leak-suspect checks on open JavaScript/TypeScript files (hints). Default true. */
  staticChecks?: boolean;
}

/** Initialization options: the settings plus what the client implements itself. */
export interface LeakLensInitializationOptions extends LeakLensSettings {
  /**
   * True when the client implements {@link SHOW_LEAK_GROUP_COMMAND} itself (the VS Code extension opens its
   * webview). Otherwise the server offers it through `workspace/executeCommand` and answers with the group as data
   * and markdown, also sent as {@link ShowGroupNotification}.
   */
  hostCommands?: boolean;
}

/** Argument of {@link SHOW_LEAK_GROUP_COMMAND}. */
export interface ShowLeakGroupArgs {
  /** `LeakGroup.id` in the report. */
  groupId: string;
  /** The report file the group came from, when it came from a file. */
  reportFile?: string;
  /** Which marker was clicked: the owner's declaration or an allocation site. */
  at: 'owner' | 'allocation';
}

/**
 * Client -> server: here is a report. Either the report itself or the path (or file URL) of a report JSON file
 * written by `leak-lens run --format json`. A report replaces the one from the same source (same file, or the same
 * `source` label for inline reports); reports from different sources are shown together.
 */
export const SetReportNotification = { method: 'leakLens/setReport' } as const;
export interface SetReportParams {
  report?: LeakReport;
  file?: string;
  /** A name for an inline report (default `inline`), so a later report with the same name replaces it. */
  source?: string;
}

/** Client -> server: forget the report from `source` (a file or an inline label), or every report when omitted. */
export const ClearReportNotification = { method: 'leakLens/clearReport' } as const;
export interface ClearReportParams {
  source?: string;
}

/** Why a leak group, or one marker of it, is not shown. */
export interface SkippedMarker {
  groupId: string;
  at: 'owner' | 'allocation';
  reason: string;
}

/**
 * Server -> client, after every report arrives (and is applied) or fails to load: what is shown, what was skipped
 * and how long it took from arrival to diagnostics published. A log line with the same content goes to the client's
 * log (`window/logMessage`).
 */
export const ReportStatusNotification = { method: 'leakLens/reportStatus' } as const;
export interface ReportStatusParams {
  /** The report file, or the inline label. */
  source: string;
  ok: boolean;
  /** Why the report could not be used, when `ok` is false. */
  error?: string;
  groups: number;
  /** Markers (diagnostics with a lens and a hover) placed, across files. */
  markers: number;
  files: number;
  /** Markers moved because the file changed since the snapshot (re-anchored by name). */
  reanchored: number;
  skipped: SkippedMarker[];
  /** Milliseconds from the report's arrival to its diagnostics being sent. */
  durationMs: number;
}

/**
 * Server -> client: the user ran {@link SHOW_LEAK_GROUP_COMMAND} through `workspace/executeCommand` (clients without
 * `hostCommands`). Carries the whole group and a markdown rendering of it.
 */
export const ShowGroupNotification = { method: 'leakLens/showGroup' } as const;
export interface ShowGroupParams {
  args: ShowLeakGroupArgs;
  group: LeakGroup;
  markdown: string;
}

/** Diagnostic codes the server publishes (`Diagnostic.code`, with `source: 'leak-lens'`). */
export type LeakDiagnosticCode =
  | 'leak-owner'
  | 'leak-allocation'
  /** The application's line that holds a library object whose internals keep the leak (the owner is in node_modules). */
  | 'leak-holder'
  | 'module-loaded-repeatedly'
  | 'static/growing-collection'
  | 'static/listener-never-removed'
  | 'static/interval-never-cleared'
  | 'static/module-reloaded'
  | 'static/resource-in-reloaded-module'
  | 'static/per-request-cache-key';

/** `Diagnostic.data` of runtime markers, so clients can act on a diagnostic without asking the server. */
export interface LeakDiagnosticData {
  groupId?: string;
  reportFile?: string;
  /** For static suspects: true once a runtime report confirms the same declaration. */
  confirmed?: boolean;
}
