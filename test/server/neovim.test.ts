/**
 * The language server from a real Neovim (Debian's package, 0.7.2 on Debian 12), a third-party client: the setup
 * block of server/README.md as written there, run by `nvim --headless` on a copy of the demo with the report of a
 * real run (`leak-lens run` on demo/leaky-server.js) in the workspace's `.leak-lens` folder. Neovim writes the
 * diagnostics it got to a file and quits; the test waits for its exit. scripts/run-tests.js installs Neovim before
 * this suite (scripts/vscode-setup.js ensureNeovim, apt-get install neovim).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { formatBytes } from '../../server/format';
import { isRunning } from '../helpers/processes';
import { mapReportFiles, repoRoot, runDemo, tempDir, writeJson } from './helpers';
import type { LeakReport } from '../../protocol/report';

const nvim = process.env.NVIM_BIN || '/usr/bin/nvim';
const leakyServer = path.join(repoRoot, 'demo', 'leaky-server.js');
const serverMain = path.join(repoRoot, 'out', 'server', 'main.js');

/** The lua block after the `neovim-setup` comment of server/README.md, with this checkout's server in it. */
function readmeSetup(): string {
  const readme = fs.readFileSync(path.join(repoRoot, 'server', 'README.md'), 'utf8');
  const m = /<!-- neovim-setup[^>]*-->\s*```lua\n([\s\S]*?)```/.exec(readme);
  assert.ok(m, 'server/README.md has a lua block after its neovim-setup comment');
  assert.ok(
    m[1].includes("'/path/to/leak-lens/out/server/main.js'"),
    'the README block names the server path to replace',
  );
  return m[1].replace("'/path/to/leak-lens/out/server/main.js'", `'${serverMain}'`);
}

/** What the test's part of init.lua writes once a `leak-owner` diagnostic of leak-lens is there, then quits. */
const probe = `
local out = os.getenv('LEAK_LENS_NVIM_OUT')
vim.api.nvim_create_autocmd('DiagnosticChanged', {
  callback = function()
    local found, owner = {}, false
    for _, d in ipairs(vim.diagnostic.get()) do
      if d.source == 'leak-lens' then
        local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
        if code == 'leak-owner' then owner = true end
        table.insert(found, { file = vim.api.nvim_buf_get_name(d.bufnr), lnum = d.lnum, col = d.col, end_col = d.end_col, message = d.message, code = code, severity = d.severity })
      end
    end
    if not owner then return end
    local clients = {}
    for _, c in ipairs((vim.lsp.get_clients or vim.lsp.get_active_clients)()) do
      table.insert(clients, { name = c.name, pid = c.rpc and c.rpc.pid or vim.NIL })
    end
    local v = vim.version()
    vim.fn.writefile({ vim.fn.json_encode({ diagnostics = found, clients = clients, version = v.major .. '.' .. v.minor .. '.' .. v.patch }) }, out)
    vim.schedule(function() vim.cmd('qa!') end)
  end,
})
`;

interface Seen {
  diagnostics: {
    file: string;
    lnum: number;
    col: number;
    end_col: number;
    message: string;
    code: string;
    severity: number;
  }[];
  clients: { name: string; pid: number | null }[];
  version: string;
}

/** Resolves once no process `pid` runs; the deadline only keeps a hung test from blocking the run. */
async function gone(pid: number, deadlineMs = 10_000): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (isRunning(pid)) {
    if (Date.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

describe('language server in Neovim (Debian package)', () => {
  let report: LeakReport;
  const dirs: string[] = [];

  before(() => {
    assert.ok(
      fs.existsSync(nvim),
      `no Neovim at ${nvim}: run \`node scripts/vscode-setup.js --neovim\` (or set NVIM_BIN)`,
    );
    report = runDemo('demo/leaky-server.js');
  });

  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  test(
    "the README's setup: Neovim shows the leak on `_connections` from the workspace's report file",
    { timeout: 120_000 },
    async () => {
      const g = report.leaks.find((x) => x.id === 'Connection@_connections');
      assert.ok(g, JSON.stringify(report.leaks.map((x) => x.id)));
      const ws = tempDir('nvim');
      dirs.push(ws);
      // A project of its own (its package.json is the root the setup finds) with the demo in it and its report.
      fs.writeFileSync(path.join(ws, 'package.json'), '{ "name": "nvim-demo", "private": true }\n');
      const app = path.join(ws, 'leaky-server.js');
      fs.copyFileSync(leakyServer, app);
      writeJson(
        path.join(ws, '.leak-lens', 'report.json'),
        mapReportFiles(report, (f) => (f === leakyServer ? app : f)),
      );
      const init = path.join(ws, 'init.lua');
      fs.writeFileSync(init, readmeSetup() + probe);
      const out = path.join(ws, 'seen.json');
      // Neovim's own files (logs, shada, state) go into the workspace, never into the home folder.
      const xdg = Object.fromEntries(
        ['CONFIG', 'DATA', 'STATE', 'CACHE', 'RUNTIME'].map((k) => [
          `XDG_${k}_HOME`,
          path.join(ws, 'xdg', k.toLowerCase()),
        ]),
      );
      const child = spawn(nvim, ['--headless', '-n', '-i', 'NONE', '-u', init, app], {
        cwd: ws,
        env: { ...process.env, ...xdg, LEAK_LENS_NVIM_OUT: out },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      // The guard only ends a Neovim that never got its diagnostics; the test waits for Neovim to exit.
      const guard = setTimeout(() => child.kill('SIGKILL'), 90_000);
      const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once('close', (code, signal) => resolve({ code, signal })),
      );
      clearTimeout(guard);
      assert.ok(
        fs.existsSync(out),
        `Neovim ended (${JSON.stringify(exit)}) without leak-lens diagnostics; its output:\n${output}`,
      );
      assert.deepEqual(exit, { code: 0, signal: null }, output);
      const seen = JSON.parse(fs.readFileSync(out, 'utf8')) as Seen;

      const owner = seen.diagnostics.filter((d) => d.code === 'leak-owner');
      assert.deepEqual(
        owner.map((d) => ({ file: d.file, lnum: d.lnum, col: d.col, end_col: d.end_col })),
        [{ file: app, lnum: 27, col: 6, end_col: 18 }],
        JSON.stringify(seen),
      );
      // The open file's static check agrees, and says so on a line of its own.
      const [runtime, ...rest] = owner[0].message.split('\n');
      assert.equal(
        runtime,
        `_connections holds ${g.count} Connection (+${g.growthPerRound} per round, ${formatBytes(g.retainedSize)} retained)`,
      );
      assert.deepEqual(
        rest.map((l) => l.replace(/ \(.*$/, '')),
        ['Static check agrees: _connections is a module-level array that is only ever added to'],
        owner[0].message,
      );
      assert.equal(fs.readFileSync(app, 'utf8').split('\n')[27].slice(6, 18), '_connections');

      // One leak-lens client, and it is gone with Neovim.
      const clients = seen.clients.filter((c) => c.name === 'leak-lens');
      assert.equal(clients.length, 1, JSON.stringify(seen.clients));
      if (clients[0].pid !== null)
        assert.ok(await gone(clients[0].pid), `the server (pid ${clients[0].pid}) outlived Neovim`);
      process.stdout.write(`# Neovim ${seen.version}: ${seen.diagnostics.length} leak-lens diagnostics\n`);
    },
  );
});
