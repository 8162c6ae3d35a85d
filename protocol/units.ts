/**
 * Human-readable figures: the one `formatBytes`, shared by the CLI, the language server, the extension, the webview,
 * the engine's messages and capture's refusals. It lives in protocol/ because the engine and capture may import
 * nothing else of the project. No imports.
 */

/** Bytes as B / KB / MB / GB with one or two decimals; `?` for a missing value. */
export function formatBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '?';
  const abs = Math.abs(n);
  if (abs < 1024) return `${Math.round(n)} B`;
  if (abs < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (abs < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}
