/// <reference types="mocha" />
/**
 * The workload between Find Leaks' rounds, on the demo server started with VS Code's JavaScript debugger and its
 * DEFAULT `node` launch configuration (no `outputCapture`: the program's `process.stdout.write`, and so its URL, is
 * not shown anywhere). Leak Lens finds where the program listens through the inspector, and the workload command of
 * the setting's own example (`node demo/load.js 100`) gets it as TARGET_URL, as the CLI's `--action` does.
 */
import * as assert from 'assert';
import * as path from 'path';
import * as vscode from 'vscode';
import type { FindLeaksResult } from '../../src/extension/commands/findLeaks';
import { api, nextEvent, ok, run, setSetting, stopAllSessions, until } from './helpers';

/** The repository (out/test/vscode -> the root), where demo/ lives. */
const repoRoot = path.resolve(__dirname, '..', '..', '..');

suite('workload between rounds (default node launch configuration)', () => {
  suiteSetup(async () => {
    await api();
    const name = 'demo leaky-server (default node launch)';
    // What VS Code writes into a new launch.json for Node.js: no console, no outputCapture.
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
    await setSetting('findLeaks.workloadCommand', undefined);
    await stopAllSessions();
  });

  test('the round questions wait in "Leak Lens: Continue Find Leaks" (the status bar item\'s command) until answered', async () => {
    const a = await api();
    const idle = await run('leakLens.findLeaks.continue', { answer: 'Continue' });
    assert.strictEqual(idle.ok, false, 'nothing to continue before Find Leaks asks');
    const finding = run<FindLeaksResult>('leakLens.findLeaks', { rounds: 2, workloadCwd: repoRoot });
    for (const [status, answer] of [
      ['Leak Lens: Continue round 1', 'Continue'],
      ['Leak Lens: Continue round 2', 'Continue'],
      ['Leak Lens: Analyze 3 snapshots', 'Analyze'],
    ]) {
      const prompt = await until(
        () => (a.findLeaksPrompt()?.status === status ? a.findLeaksPrompt() : undefined),
        60_000,
        `the question "${status}"`,
      );
      assert.ok(prompt.answers.includes(answer), `${status} offers ${answer} (${prompt.answers.join(', ')})`);
      await ok('leakLens.findLeaks.continue', { answer });
    }
    const outcome = await finding;
    assert.ok(outcome.ok, `Find Leaks finished: ${outcome.ok ? '' : outcome.error}`);
    assert.strictEqual(outcome.value.snapshots.length, 3);
    assert.strictEqual(a.findLeaksPrompt(), undefined, 'no question is left once answered');
  });

  test("the workload command of the setting's example gets TARGET_URL where the program listens, and Find Leaks finds the Connection leak", async () => {
    // The example in the setting's description (package.json), word for word.
    const manifest = vscode.extensions.getExtension('leak-lens.leak-lens')!.packageJSON as {
      contributes: { configuration: { properties: Record<string, { markdownDescription: string }> } };
    };
    const description =
      manifest.contributes.configuration.properties['leakLens.findLeaks.workloadCommand'].markdownDescription;
    const example = /for the bundled demo: `([^`]+)`/.exec(description)?.[1];
    assert.ok(example, `the setting's description gives an example for the demo: ${description}`);
    await setSetting('findLeaks.workloadCommand', example);
    const result = await ok<FindLeaksResult>('leakLens.findLeaks', {
      interactive: false,
      rounds: 2,
      workloadCwd: repoRoot,
    });
    assert.match(result.targetUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+$/, 'Find Leaks found where the program listens');
    const g = result.report.leaks.find((l) => l.className === 'Connection');
    assert.ok(
      g,
      `a Connection group (got ${result.report.leaks.map((l) => `${l.className}@${l.owner.name}`).join(', ')})`,
    );
    assert.strictEqual(g.owner.name, '_connections');
    assert.strictEqual(g.growthPerRound, 100);
  });
});
