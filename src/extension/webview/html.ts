/**
 * The memory webview's HTML: a strict content security policy (scripts only with the page's nonce, styles and
 * images only from the bundle's origin, nothing else), the bundled script and style sheet, and no inline markup
 * beyond an empty body. Shared by the real webview and the browser test harness, so both run under the same policy.
 */
import { randomBytes } from 'crypto';

export interface WebviewHtmlOptions {
  /** `webview.cspSource`: the origin the bundle is served from. */
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
  title: string;
}

/** A fresh nonce for one page load: 128 random bits. */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for an HTML text node or a quoted attribute. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => escapes[c]);
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    `default-src 'none'`,
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource}`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
  ].join('; ');
}

export function webviewHtml(o: WebviewHtmlOptions): string {
  const e = escapeHtml;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${e(contentSecurityPolicy(o.cspSource, o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(o.title)}</title>
<link rel="stylesheet" href="${e(o.styleUri)}">
</head>
<body>
<script nonce="${e(o.nonce)}" src="${e(o.scriptUri)}"></script>
</body>
</html>
`;
}
