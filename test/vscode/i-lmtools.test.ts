/// <reference types="mocha" />
/**
 * Leak Lens's language model tools, called the way an agent's host calls them: through `vscode.lm.invokeTool`, on the
 * demo server started with VS Code's JavaScript debugger (its default `node` launch configuration). Invoked without
 * a chat's toolInvocationToken, VS Code asks for the tool's confirmation in a dialog; the test host answers such
 * dialogs by itself, so the test checks the confirmation the tool asked for through the extension's API.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { api, nextEvent, stopAllSessions } from './helpers';

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
    assert.ok((find.inputSchema as { properties: Record<string, unknown> }).properties.workloadCommand, 'findLeaks takes a workloadCommand');
  });

  test('without a debugged program, findLeaks answers with one line that says to start it under the debugger', async () => {
    const answer = await invoke('leak-lens_findLeaks', { workloadCommand: 'node demo/load.js 100', cwd: repoRoot });
    assert.strictEqual(answer.split('\n').length, 1, answer);
    assert.match(answer, /none is being debugged/);
    assert.match(answer, /debug session \(F5\)/);
  });

  test('findLeaks on the demo server names Connection held by _connections at demo/leaky-server.js:28, after confirming the shell command', async () => {
    const name = 'demo leaky-server (lm tools)';
    const config = { type: 'node', request: 'launch', name, skipFiles: ['<node_internals>/**'], program: path.join(repoRoot, 'demo', 'leaky-server.js') };
    const child = nextEvent(vscode.debug.onDidStartDebugSession, (s) => !!s.parentSession && s.parentSession.name === name, 45_000, `js-debug child session of ${name}`);
    assert.ok(await vscode.debug.startDebugging(vscode.workspace.workspaceFolders?.[0], config), 'startDebugging returned false');
    await child;

    const answer = await invoke('leak-lens_findLeaks', { workloadCommand: 'node demo/load.js 100', rounds: 2, cwd: repoRoot });
    const confirmation = (await api()).lastToolConfirmation();
    assert.strictEqual(confirmation?.tool, 'leak-lens_findLeaks');
    assert.match(confirmation.title, /shell command/);
    assert.ok(confirmation.message.includes('`node demo/load.js 100`'), confirmation.message);

    assert.match(answer, /^\d+ leaks? found across 3 snapshots/, answer);
    const group = answer.split(/\n(?=\d+\. )/).find((g) => /^\d+\. Connection x\d+ \(\+100 per round\)/.test(g));
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
});
