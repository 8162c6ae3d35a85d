/// <reference types="mocha" />
/**
 * What a person sees around the analysis: the Heap Snapshots view (real paths in tooltips; Find Leaks runs as groups,
 * newest first), Find Leaks' progress (stages in words, reading that only goes forward) and the log (each connection
 * said once).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { FindLeaksResult } from '../../src/extension/commands/findLeaks';
import type { SnapshotEntry } from '../../src/extension/snapshots/store';
import type { SnapshotNode } from '../../src/extension/snapshots/view';
import { STAGE_WORDS } from '../../protocol/progress';
import { api, fixture, nextEvent, ok, setSetting, startPwaNode, stopAllSessions, until } from './helpers';

/** The text of the "Leak Lens" log channel, as VS Code wrote it to its file. */
async function logText(): Promise<string> {
  const file = path.join((await api()).logFolder().fsPath, 'Leak Lens.log');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
}

function describeNode(n: SnapshotNode): string {
  return n.kind === 'group' ? `[${n.group}: ${n.entries.map((e) => e.label).join(', ')}]` : n.entry.label;
}

suite('polish: snapshots view, progress, log', () => {
  let folder: string;

  suiteSetup(async () => {
    await api();
    // Characters markdown would escape, and a backtick, in the folder the snapshots go to.
    folder = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'leak-lens-polish-')), 'snap-shots_`x`.d');
    await setSetting('snapshots.folder', folder);
    await startPwaNode(fixture('leaky-array.js'), { LEAK_PER_TICK: '50', TICK_MS: '50' }, 'leaky-array (polish)');
  });

  suiteTeardown(async () => {
    await stopAllSessions();
    await setSetting('snapshots.folder', undefined);
    fs.rmSync(path.dirname(folder), { recursive: true, force: true });
  });

  test('Heap Snapshots view: Find Leaks runs are groups, newest first', async () => {
    const view = (await api()).snapshotsView;
    const first = await ok<FindLeaksResult>('leakLens.findLeaks', { interactive: false, rounds: 1, waitMs: 200 });
    await ok<SnapshotEntry>('leakLens.takeHeapSnapshot', { interactive: false, label: 'taken alone' });
    const second = await ok<FindLeaksResult>('leakLens.findLeaks', { interactive: false, rounds: 1, waitMs: 200 });

    // One session: its runs and lone snapshots are the top level, newest first; a run's snapshots in the order taken.
    const top = (await view.getChildren(undefined)) ?? [];
    assert.deepStrictEqual(top.map(describeNode), [
      '[run: baseline, after round 1]',
      'taken alone',
      '[run: baseline, after round 1]',
    ]);
    const [run2, lone, run1] = top;
    assert.ok(run2.kind === 'group' && run1.kind === 'group' && lone.kind === 'snapshot');
    assert.deepStrictEqual(
      run2.entries.map((e) => e.file),
      second.snapshots,
    );
    assert.deepStrictEqual(
      run1.entries.map((e) => e.file),
      first.snapshots,
    );
    assert.deepStrictEqual(((await view.getChildren(run2)) ?? []).map(describeNode), ['baseline', 'after round 1']);
    const runItem = await view.getTreeItem(run2);
    assert.match(String(runItem.label), /^Find Leaks at /);
    assert.strictEqual(runItem.description, '2 snapshots');
  });

  test('Heap Snapshots view: the tooltip shows the real path', async () => {
    const view = (await api()).snapshotsView;
    const alone = await ok<SnapshotEntry>('leakLens.takeHeapSnapshot', {
      interactive: false,
      label: 'for the tooltip',
    });
    const all = async (nodes: SnapshotNode[]): Promise<SnapshotNode[]> =>
      (await Promise.all(nodes.map(async (n) => [n, ...(await all((await view.getChildren(n)) ?? []))]))).flat();
    const node = (await all((await view.getChildren(undefined)) ?? [])).find(
      (n) => n.kind === 'snapshot' && n.entry.file === alone.file,
    );
    assert.ok(node, 'the new snapshot is in the view');
    // The tooltip names the file as it is on disk: no markdown escapes inside the code span.
    const item = await view.getTreeItem(node);
    assert.ok(item.tooltip instanceof vscode.MarkdownString, 'the tooltip is markdown');
    const md = item.tooltip.value;
    assert.ok(
      md.includes(`\`\` ${alone.file} \`\``) || md.includes(`\`\`${alone.file}\`\``),
      `the tooltip shows ${alone.file} as it is:\n${md}`,
    );
    assert.ok(!md.includes('\\-') && !md.includes('\\.'), `no markdown escapes in the tooltip:\n${md}`);
  });

  test('Find Leaks progress: stages in words, and reading goes forward snapshot by snapshot', async () => {
    const messages: string[] = [];
    const sub = (await api()).onDidReportProgress((r) => {
      if (r.title.startsWith('Leak Lens: finding leaks') && r.message) messages.push(r.message);
    });
    try {
      await ok<FindLeaksResult>('leakLens.findLeaks', { interactive: false, rounds: 2, waitMs: 200 });
    } finally {
      sub.dispose();
    }
    const words = [...new Set(Object.values(STAGE_WORDS))];
    const known = (m: string): boolean =>
      /^(baseline|after round \d+): /.test(m) ||
      /^round \d+ of \d+: /.test(m) ||
      m === 'analysing the snapshots' ||
      words.some((w) => m === w || m.startsWith(`${w} `));
    assert.deepStrictEqual(
      messages.filter((m) => !known(m)),
      [],
      `every message says what happens in words (all: ${messages.join(' | ')})`,
    );
    const reading = messages.filter((m) => m.startsWith('Reading'));
    const steps = reading.map((m) => {
      const r = /^Reading snapshot (\d) of (\d)(?: — (\d+)%)?$/.exec(m);
      assert.ok(r, `"${m}" says which snapshot of how many`);
      return { snapshot: Number(r[1]), of: Number(r[2]), pct: Number(r[3] ?? 0) };
    });
    assert.deepStrictEqual(
      [...new Set(steps.map((s) => s.snapshot))],
      [1, 2, 3],
      `each of the 3 snapshots is read, in order: ${reading.join(' | ')}`,
    );
    assert.ok(steps.every((s) => s.of === 3));
    for (let i = 1; i < steps.length; i++) {
      const [a, b] = [steps[i - 1], steps[i]];
      assert.ok(
        b.snapshot > a.snapshot || (b.snapshot === a.snapshot && b.pct >= a.pct),
        `reading went back: ${reading.join(' | ')}`,
      );
    }
  });
});

suite('polish: the log', () => {
  suiteTeardown(async () => {
    await stopAllSessions();
  });

  test('the log says each connection to a process once', async () => {
    // VS Code's default launch configuration for Node (`node`, no output settings), as a new user starts a program.
    const name = 'Launch leaky-server (polish)';
    const child = nextEvent(
      vscode.debug.onDidStartDebugSession,
      (s) => !!s.parentSession && s.parentSession.name === name,
      45_000,
      'the program session',
    );
    assert.ok(
      await vscode.debug.startDebugging(vscode.workspace.workspaceFolders?.[0], {
        type: 'node',
        request: 'launch',
        name,
        program: fixture('leaky-server.js'),
        skipFiles: ['<node_internals>/**'],
      }),
    );
    const session = await child;
    // The status bar and a command both work on the new process; Find Leaks' result line comes after both connected.
    const a = await api();
    await until(
      () => a.statusBarText()?.match(/heap \d/) ?? undefined,
      30_000,
      'the heap of the new process in the status bar',
    );
    await ok<FindLeaksResult>('leakLens.findLeaks', { interactive: false, rounds: 1, waitMs: 200 });
    const log = await until(
      async () => {
        const text = await logText();
        return text.includes(`find leaks on ${session.name}`) ? text : undefined;
      },
      20_000,
      'the Find Leaks line in the log file',
    ).catch(async (e: Error) =>
      assert.fail(`${e.message}; the log ends:\n${(await logText()).split('\n').slice(-15).join('\n')}`),
    );
    const lines = log.split('\n');
    const connecting = lines.filter((l) => l.includes(`connecting to ${session.name} through`));
    const connected = lines.filter((l) => l.includes(`connected to ${session.name} (`));
    assert.strictEqual(connecting.length, 1, `one "connecting to" line:\n${connecting.join('\n')}`);
    assert.strictEqual(connected.length, 1, `one "connected to" line:\n${connected.join('\n')}`);
  });
});
