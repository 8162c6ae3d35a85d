/**
 * A browser harness for the memory webview without VS Code: a tiny HTTP server serves the real bundle (media/dist)
 * in the page the extension builds (src/extension/webview/html.ts, same content security policy and nonce), with a stub of
 * `acquireVsCodeApi` loaded under the same nonce. Messages the page posts go to a real PanelController backed by the
 * real engine, and its answers are delivered back as VS Code would, as `message` events. Used by the webview tests
 * and by bench/webview-bench.ts.
 */
import { EventEmitter } from 'events';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import type { FromWebview, SourceLocation, ToWebview } from '../../protocol/webview';
import { EngineLike, PanelController, PanelInput } from '../../src/extension/webview/controller';
import { makeNonce, webviewHtml } from '../../src/extension/webview/html';
import { ThemeName, themes } from './themes';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');
const dist = path.join(repoRoot, 'media', 'dist');
export const screenshotDir = path.join(repoRoot, '.leak-lens', 'screenshots');

/** The Chromium the tests drive; Debian's package by default. */
export function chromiumPath(): string {
  const p = process.env.CHROMIUM ?? '/usr/bin/chromium';
  if (!fs.existsSync(p))
    throw new Error(
      `the webview tests need Chromium at ${p}: \`npm test\` installs it first (or run \`node scripts/vscode-setup.js --chromium\`), or set CHROMIUM to its path`,
    );
  if (!fs.existsSync(path.join(dist, 'main.js')))
    throw new Error('media/dist/main.js is missing: run `npm run build` first');
  return p;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--font-render-hinting=none'],
  });
}

/** Stub of VS Code's webview API: posts go to the test through a binding; state lives in the page. */
function stubScript(theme: ThemeName): string {
  const t = themes[theme];
  return `(() => {
  const root = document.documentElement;
  for (const [k, v] of Object.entries(${JSON.stringify(t.vars)})) root.style.setProperty(k, v);
  document.body.className = ${JSON.stringify(t.bodyClass)};
  document.body.dataset.vscodeThemeKind = ${JSON.stringify(t.bodyClass)};
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
  let state;
  let acquired = false;
  window.acquireVsCodeApi = () => {
    if (acquired) throw new Error('acquireVsCodeApi may only be called once');
    acquired = true;
    return {
      postMessage: (m) => window.__leakLensPost(JSON.parse(JSON.stringify(m))),
      getState: () => state,
      setState: (s) => { state = s; },
    };
  };
  window.__leakLensDeliver = (m) => window.dispatchEvent(new MessageEvent('message', { data: m }));
})();`;
}

export interface Server {
  origin: string;
  close(): Promise<void>;
}

/** Serves the page, the stub and the bundle on a free local port. */
export async function serveWebview(): Promise<Server> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const origin = `http://${req.headers.host}`;
    if (url.pathname === '/') {
      const theme = (url.searchParams.get('theme') ?? 'dark') as ThemeName;
      const nonce = makeNonce();
      const html = webviewHtml({
        cspSource: origin,
        nonce,
        scriptUri: `${origin}/dist/main.js`,
        styleUri: `${origin}/dist/style.css`,
        title: 'Leak Lens',
      });
      // The stub goes in before the bundle, under the page's nonce, as VS Code's own script is there before ours.
      const page = html.replace(
        '<script nonce=',
        `<script nonce="${nonce}" src="${origin}/stub.js?theme=${encodeURIComponent(theme)}"></script>\n<script nonce=`,
      );
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
      return;
    }
    if (url.pathname === '/stub.js') {
      const theme = url.searchParams.get('theme') as ThemeName;
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(stubScript(themes[theme] ? theme : 'dark'));
      return;
    }
    const file = path.join(dist, path.normalize(url.pathname.replace(/^\/dist\//, '')));
    if (url.pathname.startsWith('/dist/') && file.startsWith(dist + path.sep) && fs.existsSync(file)) {
      const type = file.endsWith('.js')
        ? 'text/javascript'
        : file.endsWith('.css')
          ? 'text/css'
          : file.endsWith('.svg')
            ? 'image/svg+xml'
            : 'application/octet-stream';
      res.writeHead(200, { 'content-type': type }).end(fs.readFileSync(file));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export interface OpenOptions {
  theme?: ThemeName;
  width?: number;
  height?: number;
  /** The engine behind the controller. */
  engine: EngineLike;
  input: PanelInput;
}

/** One webview page wired to a real controller; records what the page posts and what the host was asked to do. */
export class WebviewPage {
  readonly posted: FromWebview[] = [];
  readonly opened: SourceLocation[] = [];
  readonly logs: string[] = [];
  readonly dialogs: string[] = [];
  readonly errors: string[] = [];
  readonly controller: PanelController;
  private readonly events = new EventEmitter();
  private delivery: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly page: Page,
    engine: EngineLike,
  ) {
    this.controller = new PanelController(engine, {
      post: (m) => this.deliver(m),
      openLocation: (loc) => {
        this.opened.push(loc);
        this.events.emit('opened', loc);
      },
      log: (level, message) => this.logs.push(`${level}: ${message}`),
    });
  }

  static async open(browser: Browser, server: Server, o: OpenOptions): Promise<WebviewPage> {
    const page = await browser.newPage({
      viewport: { width: o.width ?? 1100, height: o.height ?? 820 },
      deviceScaleFactor: 1,
    });
    // Every wait ends on what the page shows (an element, a text), never on a clock: answers come from the real
    // engine, which on a loaded machine may take longer than playwright's 30 s default. The limit only bounds a wait
    // that never ends, so that the failure names the element it waited for.
    page.setDefaultTimeout(120_000);
    const w = new WebviewPage(page, o.engine);
    w.controller.setInput(o.input);
    page.on('dialog', (d) => {
      w.dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('pageerror', (e) => w.errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') w.errors.push(m.text());
    });
    await page.exposeBinding('__leakLensPost', (_source, msg: FromWebview) => {
      w.posted.push(msg);
      w.events.emit('posted', msg);
      void w.controller.handle(msg);
    });
    const ready = w.waitForPosted((m) => m.type === 'ready');
    await page.goto(`${server.origin}/?theme=${o.theme ?? 'dark'}`);
    await ready;
    return w;
  }

  /** Delivers a message to the page as VS Code does, in order (as JSON text: much faster to pass than objects). */
  deliver(message: ToWebview): Promise<unknown> {
    this.delivery = this.delivery
      .then(() =>
        this.page.evaluate(
          (json) =>
            (globalThis as unknown as { __leakLensDeliver(m: unknown): void }).__leakLensDeliver(JSON.parse(json)),
          JSON.stringify(message),
        ),
      )
      .catch((e: Error) => this.errors.push(`deliver: ${e.message}`));
    return this.delivery;
  }

  /** Resolves with the first message (already posted or still to come) that matches. */
  waitForPosted(match: (m: FromWebview) => boolean, after = 0): Promise<FromWebview> {
    const seen = this.posted.slice(after).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const on = (m: FromWebview) => {
        if (!match(m)) return;
        this.events.off('posted', on);
        resolve(m);
      };
      this.events.on('posted', on);
    });
  }

  waitForOpened(): Promise<SourceLocation> {
    return new Promise((resolve) => this.events.once('opened', resolve));
  }

  /** Waits until every answer queued so far has reached the page. */
  async settled(): Promise<void> {
    await this.delivery;
  }

  cspViolations(): Promise<string[]> {
    return this.page.evaluate(() => (globalThis as unknown as { __cspViolations: string[] }).__cspViolations);
  }

  async screenshot(name: string, fullPage = false): Promise<string> {
    fs.mkdirSync(screenshotDir, { recursive: true });
    const file = path.join(screenshotDir, `${name}.png`);
    await this.page.screenshot({ path: file, fullPage });
    return file;
  }

  async close(): Promise<void> {
    this.controller.dispose();
    await this.page.close();
  }
}
