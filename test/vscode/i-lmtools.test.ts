/// <reference types="mocha" />
/**
 * Leak Lens's language model tools, called the way an agent's host calls them: through `vscode.lm.invokeTool`, on the
 * demo server started with VS Code's JavaScript debugger (its default `node` launch configuration). Invoked without
 * a chat's toolInvocationToken, VS Code asks for the tool's confirmation in a dialog; the test host answers such
 * dialogs by itself, so the test checks the confirmation the tool asked for through the extension's API.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { api, nextEvent, stopAllSessions, until } from './helpers';

/** The repository (out/test/vscode -> the root), where demo/ lives. */
const repoRoot = path.resolve(__dirname, '..', '..', '..');
const TOOLS = ['leak-lens_findLeaks', 'leak-lens_takeSnapshot', 'leak-lens_readReport'];

async function invoke(name: string, input: object): Promise<string> {
  const source = new vscode.CancellationTokenSource();
  try {
    const result = await vscode.lm.invokeTool(name, { input, toolInvocationToken: undefined }, source.token);
    return result.content.map((p) => (p instanceof vscode.LanguageModelTextPart ? p.value : '')).join('');
  } finally {
    source.dispose();
  }
}

suite('language model tools (vscode.lm.invokeTool)', () => {
  suiteSetup(async () => {
    await api();
  });

  suiteTeardown(async () => {
    await stopAllSessions();
  });

  test('the three tools are listed in vscode.lm.tools with their input schemas', () => {
    const listed = vscode.lm.tools.filter((t) => t.name.startsWith('leak-lens_'));
    assert.deepStrictEqual(listed.map((t) => t.name).sort(), [...TOOLS].sort());
    const find = listed.find((t) => t.name === 'leak-lens_findLeaks')!;
    assert.ok(
      (find.inputSchema as { properties: Record<string, unknown> }).properties.workloadCommand,
      'findLeaks takes a workloadCommand',
    );
  });

  test('without a debugged program, findLeaks answers with one line that says to start it under the debugger', async () => {
    const answer = await invoke('leak-lens_findLeaks', { workloadCommand: 'node demo/load.js 100', cwd: repoRoot });
    assert.strictEqual(answer.split('\n').length, 1, answer);
    assert.match(answer, /none is being debugged/);
    assert.match(answer, /debug session \(F5\)/);
  });
});

suite('language model tools on the demo server (vscode.lm.invokeTool)', () => {
  suiteSetup(async () => {
    await api();
    const name = 'demo leaky-server (lm tools)';
    const config = {
      type: 'node',
      request: 'launch',
      name,
      skipFiles: ['<node_internals>/**'],
      program: path.join(repoRoot, 'demo', 'leaky-server.js'),
    };
    const child = nextEvent(
      vscode.debug.onDidStartDebugSession,
      (s) => !!s.parentSession && s.parentSession.name === name,
      45_000,
      `js-debug child session of ${name}`,
    );
    assert.ok(
      await vscode.debug.startDebugging(vscode.workspace.workspaceFolders?.[0], config),
      'startDebugging returned false',
    );
    await child;
  });

  suiteTeardown(async () => {
    await stopAllSessions();
  });

  test('findLeaks names Connection held by _connections at demo/leaky-server.js:28, after confirming the shell command', async () => {
    const answer = await invoke('leak-lens_findLeaks', {
      workloadCommand: 'node demo/load.js 100',
      rounds: 2,
      cwd: repoRoot,
    });
    const confirmation = (await api()).lastToolConfirmation();
    assert.strictEqual(confirmation?.tool, 'leak-lens_findLeaks');
    assert.match(confirmation.title, /shell command/);
    assert.ok(confirmation.message.includes('`node demo/load.js 100`'), confirmation.message);

    assert.match(answer, /^\d+ leaks? found across 3 snapshots/, answer);
    const group = answer.split(/\n(?=\d+\. )/).find((g) => /^\d+\. Connection x200 \(\+100 per round\)/.test(g));
    assert.ok(group, `a Connection group growing by 100 per round in:\n${answer}`);
    assert.match(group, /held by _connections \[[^\]]+\]\s+\S*demo\/leaky-server\.js:28\b/, group);
    assert.match(group, /allocated in \w+\(\)\s+\S*demo\/leaky-server\.js:\d+/, group);

    // The report tool answers with the same report.
    const report = await invoke('leak-lens_readReport', {});
    assert.strictEqual(report, answer.slice(0, answer.indexOf('\n\nSnapshots on disk: ')));
  });

  test('takeSnapshot saves a snapshot of the debugged program and answers with its path, size and label', async () => {
    const answer = await invoke('leak-lens_takeSnapshot', { label: 'from a tool' });
    assert.strictEqual((await api()).lastToolConfirmation()?.tool, 'leak-lens_takeSnapshot');
    const m = /^Heap snapshot "from a tool" saved: (.+\.heapsnapshot) \(([\d.]+ [KMG]?B)/.exec(answer);
    assert.ok(m, answer);
    const file = m[1];
    try {
      assert.ok(fs.statSync(file).size > 100_000, `${file} holds a heap`);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  test('cancelling the findLeaks call stops its workload command and ends the call', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-lens-lmtools-'));
    const source = new vscode.CancellationTokenSource();
    let pid: number | undefined;
    try {
      // A workload that never ends on its own, and says its pid.
      const pidFile = path.join(dir, 'pid');
      const script = path.join(dir, 'forever.js');
      fs.writeFileSync(
        script,
        `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000);\n`,
      );
      const warming = nextEvent(
        (await api()).onDidReportProgress,
        (p) => /warming up/.test(p.message ?? ''),
        30_000,
        'the warm-up run of the workload',
      );
      const call = vscode.lm.invokeTool(
        'leak-lens_findLeaks',
        { input: { workloadCommand: `node "${script}"`, rounds: 1, cwd: dir }, toolInvocationToken: undefined },
        source.token,
      );
      const ended = Promise.resolve(call).then(
        (r) => r.content.map((p) => (p instanceof vscode.LanguageModelTextPart ? p.value : '')).join(''),
        (e: unknown) => `rejected: ${String(e)}`,
      );
      await warming;
      pid = Number(
        await until(
          () => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8'),
          20_000,
          'the workload to write its pid',
        ),
      );
      source.cancel();
      const answer = await ended;
      // The tool answers that it was cancelled, or VS Code's RPC rejects the cancelled call first.
      assert.match(answer, /Find Leaks was cancelled before it finished|rejected: .*Cancel/i, answer);
      await until(
        () => {
          try {
            process.kill(pid!, 0);
            return false;
          } catch {
            return true;
          }
        },
        20_000,
        `the workload (pid ${pid}) to end`,
      );
      pid = undefined;
    } finally {
      source.dispose();
      // A workload left running by a failed check is stopped here.
      if (pid !== undefined) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
