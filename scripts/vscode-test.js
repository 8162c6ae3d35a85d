#!/usr/bin/env node
// Runs the extension's tests in a real VS Code.
//
//   node scripts/vscode-test.js            code-server's VS Code server + headless Chromium (this machine's way):
//                                          1. the mocha suite in out/test/vscode (standard extensionTestsPath contract),
//                                             then its no-folder part (out/test/vscode/nofolder) in an empty window,
//                                          1b. closing a window mid-work (out/test/vscode/close/driver.js): its extension
//                                             host is deactivated, sent SIGTERM, or SIGKILLed; nothing of Leak Lens survives,
//                                          2. the UI tests (out/test/vscode/ui/*.ui.js): playwright drives the workbench,
//                                          3. the packaged .vsix, installed into code-server and driven through the palette.
//   node scripts/vscode-test.js --electron @vscode/test-electron's runTests with the desktop VS Code named by
//                                          $VSCODE_EXECUTABLE (same mocha suite; the UI tests need the web workbench).
//
// Options: --only integration|nofolder|close|ui|vsix, --no-integration, --no-nofolder, --no-close, --no-ui, --no-vsix, --grep <text> (mocha grep for
//          integration; with --only ui, the UI test files whose name contains it), --keep (keep the temporary folders), --headed.
// Env: LEAK_LENS_VSCODE_HOST (host cache), LEAK_LENS_TEST_OUT (screenshots, default .vscode-test/out),
//      LEAK_LENS_TEST_TIMEOUT_MS (whole mocha run, default 10 min), VERBOSE=1 (browser console).
// The last line printed is `vscode: N passed, N failed`; the exit code is 0 only if nothing failed. The VS Code host
// is installed first if missing (scripts/vscode-setup.js); when that is impossible the run fails, never skips.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const util = require('util');

const root = path.join(__dirname, '..');
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const option = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const testsPath = path.join(root, 'out', 'test', 'vscode', 'index.js');
const uiDir = path.join(root, 'out', 'test', 'vscode', 'ui');
const outDir = path.resolve(process.env.LEAK_LENS_TEST_OUT || path.join(root, '.vscode-test', 'out'));
const fixtureWorkspace = path.join(root, 'test', 'vscode', 'fixtures', 'workspace');
const timeoutMs = Number(process.env.LEAK_LENS_TEST_TIMEOUT_MS || 10 * 60_000);
// The UI and .vsix steps wait on what the workbench shows; this only bounds one wait that never ends (a failure),
// set high enough for a 2-core machine under other load.
const waitLimitMs = Number(process.env.LEAK_LENS_UI_WAIT_MS || 180_000);

const say = (...a) => console.log('[vscode-test]', ...a);
const cleanups = [];
/** Removes the run's temporary folder (set once it exists). */
let removeTmp = () => {};

function summary(passed, failed, extra = '') {
  console.log(`vscode: ${passed} passed, ${failed} failed${extra}`);
}

function fail(message) {
  console.error(`[vscode-test] ${message}`);
  try {
    removeTmp();
  } catch {}
  summary(0, 1);
  process.exit(1);
}

/**
 * Stops a detached child and its process group: SIGTERM, then, once the child has exited (or after 10 s, a failure
 * bound), SIGKILL for whatever of its group is left.
 */
async function stopGroup(child, exited) {
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  let timer;
  await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
  clearTimeout(timer);
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {}
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

/** A fresh copy of the fixture workspace, so tests never write into the repository. */
function workspaceCopy(tmp, name) {
  const dir = path.join(tmp, name);
  fs.cpSync(fixtureWorkspace, dir, { recursive: true });
  return dir;
}

function readResults(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

async function runElectron(tmp) {
  const exe = process.env.VSCODE_EXECUTABLE;
  if (!exe)
    fail('--electron needs VSCODE_EXECUTABLE: the path of a desktop VS Code (Code, code-insiders, or its executable)');
  const { runTests } = require('@vscode/test-electron');
  let passed = 0;
  let failed = 0;
  for (const suite of option('--grep') ? ['main'] : ['main', 'nofolder']) {
    const results = path.join(tmp, `results-${suite}.json`);
    const ws = suite === 'main' ? [workspaceCopy(tmp, 'ws')] : [];
    let code = 1;
    try {
      code = await runTests({
        vscodeExecutablePath: exe,
        extensionDevelopmentPath: root,
        extensionTestsPath: testsPath,
        launchArgs: [
          ...ws,
          '--disable-workspace-trust',
          '--skip-welcome',
          '--skip-release-notes',
          '--user-data-dir',
          path.join(tmp, `user-${suite}`),
        ],
        extensionTestsEnv: {
          LEAK_LENS_TEST_SUITE: suite,
          LEAK_LENS_TEST_RESULTS: results,
          LEAK_LENS_TEST_GREP: option('--grep') || '',
        },
      });
    } catch (e) {
      say(`VS Code exited with an error: ${e.message || e}`);
    }
    const r = readResults(results);
    if (!r) say(`${suite}: no results (the test host did not finish)`);
    passed += r ? r.passes : 0;
    failed += r ? r.failures + (code === 0 || r.failures > 0 ? 0 : 1) : 1;
  }
  summary(passed, failed);
  return failed === 0 ? 0 : 1;
}

/** Starts the VS Code server of code-server in its own process group. */
async function startServer(host, tmp, env) {
  const port = await freePort();
  const args = [
    host.serverMain,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--without-connection-token',
    '--accept-server-license-terms',
    '--enable-smoke-test-driver',
    '--disable-telemetry',
    '--disable-workspace-trust',
    '--server-data-dir',
    path.join(tmp, 'server'),
    '--user-data-dir',
    path.join(tmp, 'user'),
    '--extensions-dir',
    path.join(tmp, 'extensions'),
  ];
  fs.mkdirSync(path.join(tmp, 'user', 'User'), { recursive: true });
  fs.writeFileSync(
    path.join(tmp, 'user', 'User', 'settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        'telemetry.telemetryLevel': 'off',
        'extensions.autoUpdate': false,
        'extensions.autoCheckUpdates': false,
        'update.mode': 'none',
        'workbench.enableExperiments': false,
        'security.workspace.trust.enabled': false,
        'chat.disableAIFeatures': true,
        'workbench.tips.enabled': false,
        'debug.internalConsoleOptions': 'neverOpen',
        'debug.openDebug': 'neverOpen',
      },
      null,
      1,
    ),
  );
  // The server must not inherit the outer npm's view of Node (it runs on Node 24; debuggees run on PATH's node).
  const serverEnv = { EXTENSIONS_GALLERY: '{}', ...process.env, ...env };
  for (const k of Object.keys(serverEnv)) if (/^npm_/i.test(k)) delete serverEnv[k];
  const server = spawn(host.node, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: serverEnv });
  const exited = new Promise((r) => server.once('exit', r));
  if (process.env.VERBOSE)
    for (const stream of [server.stdout, server.stderr])
      stream.on('data', (d) => say(`server: ${String(d).trimEnd().slice(0, 2000)}`));
  const stop = () => stopGroup(server, exited);
  cleanups.push(stop);
  let log = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the VS Code server did not start within 60 s:\n${log.slice(-2000)}`)),
      60_000,
    );
    const on = (d) => {
      log += d;
      if (/Extension host agent listening/.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    server.stdout.on('data', on);
    server.stderr.on('data', on);
    server.once('exit', (c) => {
      clearTimeout(timer);
      reject(new Error(`the VS Code server exited (${c}) before it listened:\n${log.slice(-2000)}`));
    });
  });
  return { port, server, stop };
}

function workbenchUrl(port, folder, payload) {
  return `http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/**
 * One mocha run in a workbench window: `suite` 'main' opens a copy of the fixture workspace, 'nofolder' an empty
 * window. The suite's name and results file reach the extension host through the payload's extensionEnvironment.
 */
async function runIntegration(browser, port, tmp, suite) {
  const results = path.join(tmp, `results-${suite}.json`);
  const ws = suite === 'main' ? workspaceCopy(tmp, 'ws-integration') : undefined;
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  let finish;
  const done = new Promise((r) => (finish = r));
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    const text = util.format(...(Array.isArray(args) ? args : [args]));
    // Mocha's spec reporter and the extension's console output from the extension host.
    if (type === 'error') console.error(text);
    else console.log(text);
  });
  await page.exposeFunction('codeAutomationExit', (code) => finish(code));
  page.on('pageerror', (e) => say('page error:', e.message));
  if (process.env.VERBOSE) page.on('console', (m) => say(`browser ${m.type()}:`, m.text().slice(0, 400)));
  const payload = [
    ['extensionDevelopmentPath', `vscode-remote://remote${root}`],
    ['extensionTestsPath', `vscode-remote://remote${testsPath}`],
    [
      'extensionEnvironment',
      JSON.stringify({
        LEAK_LENS_TEST_SUITE: suite,
        LEAK_LENS_TEST_RESULTS: results,
        LEAK_LENS_TEST_GREP: option('--grep') || '',
      }),
    ],
  ];
  const t0 = Date.now();
  await page.goto(
    ws
      ? workbenchUrl(port, ws, payload)
      : `http://127.0.0.1:${port}/?ew=true&payload=${encodeURIComponent(JSON.stringify(payload))}`,
  );
  let timer;
  const code = await Promise.race([done, new Promise((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)))]);
  clearTimeout(timer);
  const r = readResults(results);
  say(`${suite}: exit ${code} after ${Math.round((Date.now() - t0) / 1000)} s`);
  if (code === 'timeout') {
    fs.mkdirSync(outDir, { recursive: true });
    await page.screenshot({ path: path.join(outDir, `${suite}-timeout.png`) }).catch(() => {});
  }
  await page.close().catch(() => {});
  if (!r)
    return {
      passed: 0,
      failed: 1,
      note: code === 'timeout' ? `the suite did not finish within ${timeoutMs / 1000} s` : 'the suite wrote no results',
    };
  return { passed: r.passes, failed: r.failures + (code === 0 || r.failures > 0 ? 0 : 1) };
}

/**
 * A tally of named checks: `check(name, fn)` runs one, prints ✔ or ✖ with its time, and counts it; `onFail(name)`
 * (say, a screenshot) runs after a failure. `fail(line)` counts a failure outside any check.
 */
function tally(onFail = async () => {}) {
  const counts = { passed: 0, failed: 0 };
  const check = async (name, fn) => {
    const t = Date.now();
    try {
      await fn();
      counts.passed++;
      console.log(`  ✔ ${name} (${Date.now() - t} ms)`);
    } catch (e) {
      counts.failed++;
      console.log(`  ✖ ${name}: ${String(e && e.message).split('\n')[0]}`);
      await onFail(name).catch(() => {});
    }
  };
  const fail = (line) => {
    counts.failed++;
    console.log(`  ✖ ${line}`);
  };
  return { counts, check, fail };
}

/** Closes windows in the middle of memory work and checks by pid that nothing Leak Lens started survives. */
async function runClose(browser, port, tmp) {
  const { counts, check, fail } = tally();
  console.log('close: a window closed in the middle of memory work');
  const t0 = Date.now();
  try {
    await require(path.join(root, 'out', 'test', 'vscode', 'close', 'driver.js')).run({
      browser,
      root,
      tmp,
      check,
      waitLimitMs,
      log: (...a) => say(...a),
      url: (folder, payload) => workbenchUrl(port, folder, payload),
      workspace: (name) => workspaceCopy(tmp, name),
    });
  } catch (e) {
    fail(`close stopped: ${e && e.message}`);
  }
  say(`close: ${Math.round((Date.now() - t0) / 1000)} s`);
  return { ...counts };
}

async function runUi(browser, port, tmp) {
  const grep = option('--grep');
  const files = fs.existsSync(uiDir)
    ? fs
        .readdirSync(uiDir)
        .filter((f) => f.endsWith('.ui.js') && (!grep || f.includes(grep)))
        .sort()
    : [];
  if (files.length === 0)
    return { passed: 0, failed: 1, note: `no UI tests in ${uiDir}${grep ? ` with "${grep}" in their name` : ''}` };
  fs.mkdirSync(outDir, { recursive: true });
  let page;
  const { counts, check, fail } = tally((name) =>
    page.screenshot({ path: path.join(outDir, `ui-fail-${name.replace(/\W+/g, '_').slice(0, 60)}.png`) }),
  );
  for (const f of files) {
    const ws = workspaceCopy(tmp, `ws-ui-${path.basename(f, '.ui.js')}`);
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(waitLimitMs);
    page.on('pageerror', (e) => say('page error:', e.message));
    if (process.env.VERBOSE) page.on('console', (m) => say(`browser ${m.type()}:`, m.text().slice(0, 400)));
    const payload = [['extensionDevelopmentPath', `vscode-remote://remote${root}`]];
    await page.goto(workbenchUrl(port, ws, payload));
    console.log(`ui: ${f}`);
    try {
      await require(path.join(uiDir, f)).run({
        page,
        check,
        outDir,
        workspace: ws,
        log: (...a) => say(...a),
        waitLimitMs,
      });
    } catch (e) {
      fail(`${f} stopped: ${e && e.message}`);
    }
    await page.close().catch(() => {});
  }
  return { ...counts };
}

/**
 * The packaged extension in code-server itself: `vsce package` (from the built dist/), `--install-extension`, then
 * the real code-server CLI (no smoke-test driver, no development payload) and a person's path through the palette.
 */
async function runVsix(host, browser, tmp) {
  const t0 = Date.now();
  let page;
  const { counts, check: step } = tally(async (name) => {
    if (page)
      await page.screenshot({ path: path.join(outDir, `vsix-fail-${name.replace(/\W+/g, '_').slice(0, 60)}.png`) });
  });
  const vsix = path.join(tmp, 'leak-lens.vsix');
  const ext = path.join(tmp, 'vsix-extensions');
  const user = path.join(tmp, 'vsix-user');
  console.log('vsix: the packaged extension in code-server');
  await step('vsce packages the built extension', async () => {
    const r = require('child_process').spawnSync(
      process.execPath,
      [
        require.resolve('@vscode/vsce/vsce'),
        'package',
        '--no-dependencies',
        '--skip-license',
        '--no-rewrite-relative-links',
        '-o',
        vsix,
      ],
      { cwd: root, encoding: 'utf8' },
    );
    if (r.status !== 0)
      throw new Error(`vsce failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' / ')}`);
    say(`vsix: ${(fs.statSync(vsix).size / 1048576).toFixed(1)} MB`);
  });
  if (counts.failed) return { ...counts };
  await step('code-server installs the .vsix', async () => {
    const r = require('child_process').spawnSync(
      host.node,
      [host.entry, '--extensions-dir', ext, '--user-data-dir', user, '--install-extension', vsix],
      { encoding: 'utf8', env: { ...process.env, XDG_CONFIG_HOME: tmp, XDG_DATA_HOME: tmp } },
    );
    if (r.status !== 0 || !/was successfully installed/.test(r.stdout + r.stderr))
      throw new Error(`install failed: ${(r.stdout + r.stderr).trim().slice(-400)}`);
  });
  if (counts.failed) return { ...counts };
  const port = await freePort();
  fs.mkdirSync(path.join(user, 'User'), { recursive: true });
  fs.writeFileSync(
    path.join(user, 'User', 'settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'telemetry.telemetryLevel': 'off',
      'extensions.autoUpdate': false,
      'extensions.autoCheckUpdates': false,
      'security.workspace.trust.enabled': false,
      'chat.disableAIFeatures': true,
      'workbench.tips.enabled': false,
    }),
  );
  fs.writeFileSync(path.join(tmp, 'vsix-config.yaml'), 'auth: none\n');
  const env = { ...process.env, XDG_CONFIG_HOME: tmp, XDG_DATA_HOME: tmp };
  for (const k of Object.keys(env)) if (/^npm_/i.test(k)) delete env[k];
  const server = spawn(
    host.node,
    [
      host.entry,
      '--config',
      path.join(tmp, 'vsix-config.yaml'),
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--user-data-dir',
      user,
      '--extensions-dir',
      ext,
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env },
  );
  const serverExited = new Promise((r) => server.once('exit', r));
  cleanups.unshift(() => stopGroup(server, serverExited));
  let log = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`code-server did not start:\n${log.slice(-1000)}`)), 60_000);
    const on = (d) => {
      log += d;
      if (/HTTP server listening/.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    server.stdout.on('data', on);
    server.stderr.on('data', on);
  });
  const ws = workspaceCopy(tmp, 'ws-vsix');
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(waitLimitMs);
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}`);
  const palette = async (title) => {
    const input = page.locator('.quick-input-widget input');
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    // An installed extension's commands appear once the extension host has scanned it; the palette lists the
    // commands known when it opens, so reopen it until the command is there (2 s per look; the limit bounds failure).
    const deadline = Date.now() + waitLimitMs;
    for (;;) {
      await page.keyboard.press('Escape');
      await page.keyboard.press('F1');
      await input.waitFor({ state: 'visible' });
      await input.fill(`>${title}`);
      try {
        await row.waitFor({ timeout: 2_000 });
        break;
      } catch (e) {
        if (Date.now() > deadline)
          throw new Error(
            `no command "${title}" in the palette after ${waitLimitMs / 1000} s: ${String(e && e.message).split('\n')[0]}`,
          );
      }
    }
    await page.keyboard.press('Enter');
  };
  await step("the workbench lists the installed extension's commands", async () => {
    await page.locator('.monaco-workbench .part.statusbar').waitFor();
    // Typed as a person would, without the ellipsis (the palette's fuzzy match does not treat dots as text).
    await palette('Leak Lens: Launch Program for Memory Work');
  });
  await step(
    'Launch Program runs the chosen file under the packaged adapter; the status bar shows its heap',
    async () => {
      const input = page.locator('.quick-input-widget input');
      await input.fill('leaky-array');
      await page.locator('.quick-input-list .monaco-list-row', { hasText: 'leaky-array.js' }).first().waitFor();
      await page.keyboard.press('Enter');
      await page.locator('.statusbar-item', { hasText: /heap \d/ }).waitFor();
    },
  );
  await step('Take Heap Snapshot shows its toast', async () => {
    await palette('Leak Lens: Take Heap Snapshot');
    const toast = page.locator('.notification-toast', { hasText: /Heap snapshot ".*" saved/ });
    await toast.waitFor();
    say(`vsix toast: ${(await toast.innerText()).replace(/\s+/g, ' ')}`);
    fs.mkdirSync(outDir, { recursive: true });
    await page.screenshot({ path: path.join(outDir, 'vsix-snapshot.png') });
  });
  await page.close().catch(() => {});
  say(`vsix: ${Math.round((Date.now() - t0) / 1000)} s`);
  return { ...counts };
}

async function main() {
  const t0 = Date.now();
  if (!fs.existsSync(testsPath) || !fs.existsSync(path.join(root, 'dist', 'extension.js')))
    fail('the extension is not built: run `npm run build` first');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-lens-vscode-'));
  // Everything started from here (the VS Code server, its extension host and debuggees, Chromium, playwright) keeps
  // its temporary files and sockets in this run's folder, which is removed at the end, after they have stopped.
  fs.mkdirSync(path.join(tmp, 'tmp'));
  process.env.TMPDIR = path.join(tmp, 'tmp');
  removeTmp = () => {
    if (!flag('--keep')) fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 5 });
    else say(`kept ${tmp}`);
  };
  if (flag('--electron')) return runElectron(tmp);

  let host;
  try {
    host = require('./vscode-setup').setup();
  } catch (e) {
    fail(
      `cannot install the VS Code host (code-server + Node 24 + Chromium): ${e.message}\n` +
        'The VS Code tests need it; on a desktop with VS Code, run `VSCODE_EXECUTABLE=/path/to/code node scripts/vscode-test.js --electron` instead.',
    );
  }
  const { port } = await startServer(host, tmp, {});
  say(`VS Code server on port ${port} after ${Date.now() - t0} ms`);
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({
    executablePath: host.chromium,
    headless: !flag('--headed'),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      '--disable-dev-shm-usage',
    ],
  });
  cleanups.unshift(() => browser.close().catch(() => {}));
  const parts = [];
  const only = option('--only');
  const wanted = (phase) =>
    (only ? only === phase : phase === 'integration' || !option('--grep')) && !flag(`--no-${phase}`);
  if (wanted('integration')) parts.push(['integration', await runIntegration(browser, port, tmp, 'main')]);
  if (wanted('nofolder')) parts.push(['nofolder', await runIntegration(browser, port, tmp, 'nofolder')]);
  if (wanted('close')) parts.push(['close', await runClose(browser, port, tmp)]);
  if (wanted('ui')) parts.push(['ui', await runUi(browser, port, tmp)]);
  if (wanted('vsix')) parts.push(['vsix', await runVsix(host, browser, tmp)]);
  const passed = parts.reduce((n, [, r]) => n + r.passed, 0);
  const failed = parts.reduce((n, [, r]) => n + r.failed, 0);
  for (const [name, r] of parts) if (r.note) say(`${name}: ${r.note}`);
  say(
    `${parts.map(([name, r]) => `${name} ${r.passed}/${r.passed + r.failed}`).join(', ')} in ${Math.round((Date.now() - t0) / 1000)} s; screenshots in ${outDir}`,
  );
  summary(passed, failed);
  return failed === 0 ? 0 : 1;
}

/**
 * Stops the browser and servers (each step even if another failed), then removes the run's temporary folder. Every
 * caller (a signal, the end of main, an error) waits for the same single cleanup before the process exits.
 */
let cleaning;
function cleanup() {
  cleaning ??= runCleanups();
  return cleaning;
}

async function runCleanups() {
  for (const c of cleanups.splice(0)) {
    try {
      await c();
    } catch (e) {
      say(`cleanup: ${e && e.message}`);
    }
  }
  try {
    removeTmp();
  } catch (e) {
    say(`cleanup: ${e && e.message}`);
  }
}

process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));
process.on('SIGTERM', () => void cleanup().then(() => process.exit(143)));
main()
  .then(async (code) => {
    await cleanup();
    process.exit(code);
  })
  .catch(async (e) => {
    console.error('[vscode-test]', e && e.stack ? e.stack : e);
    await cleanup();
    summary(0, 1);
    process.exit(1);
  });
