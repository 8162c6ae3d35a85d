/// <reference types="mocha" />
/**
 * The language server in real VS Code: `leak-lens run` profiles demo/leaky-server.js, the language client (started
 * the way the extension starts it, `startLanguageClient`) sends the report, and the editor shows a warning on the
 * `_connections` name with a code lens above it, and a hover with the retainer path.
 */
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ReportStatusParams } from '../../protocol/lsp';
import { LeakLensLanguageClient, startLanguageClient } from '../../src/extension/languageClient';
import { repoRoot } from '../helpers/fixtures';

const leakyServer = path.join(repoRoot, 'demo', 'leaky-server.js');

/** The first status of `source` the client reports. */
function statusOf(client: LeakLensLanguageClient, source: string, ms: number): Promise<ReportStatusParams> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`no status for ${source} within ${ms} ms`));
    }, ms);
    const sub = client.onReportStatus((s) => {
      if (s.source !== source) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(s);
    });
  });
}

/** Resolves with the first diagnostic that matches, as soon as VS Code has it. */
function diagnostic(uri: vscode.Uri, match: (d: vscode.Diagnostic) => boolean, ms: number): Promise<vscode.Diagnostic> {
  return new Promise((resolve, reject) => {
    const find = (): boolean => {
      const d = vscode.languages.getDiagnostics(uri).find(match);
      if (!d) return false;
      clearTimeout(timer);
      sub.dispose();
      resolve(d);
      return true;
    };
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`no matching diagnostic on ${uri.fsPath} within ${ms} ms`));
    }, ms);
    const sub = vscode.languages.onDidChangeDiagnostics((e) => {
      if (e.uris.some((u) => u.toString() === uri.toString())) find();
    });
    find();
  });
}

/** `leak-lens run` on the demo with the machine's node, as a user would run it; resolves with the report's file. */
function runDemo(out: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const cli = path.join(repoRoot, 'bin', 'leak-lens.js');
    const child = spawn(
      'node',
      [
        cli,
        'run',
        '--track-allocations',
        '--format',
        'json',
        '--action',
        'node demo/load.js',
        '--',
        'node',
        'demo/leaky-server.js',
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 1 || !stdout) return reject(new Error(`leak-lens run exited ${code}: ${stderr.slice(-2000)}`));
      fs.writeFileSync(out, stdout);
      resolve(out);
    });
  });
}

suite('language server', () => {
  let dir: string;
  let reportFile: string;
  let client: LeakLensLanguageClient;
  let log: vscode.LogOutputChannel;

  suiteSetup(async function () {
    this.timeout(180_000);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-lens-vscode-lsp-'));
    reportFile = await runDemo(path.join(dir, 'report.json'));
    log = vscode.window.createOutputChannel('Leak Lens language server test', { log: true });
    // The extension's own way of starting it; only asAbsolutePath is used from the context.
    const context = { asAbsolutePath: (p: string) => path.join(repoRoot, p) } as vscode.ExtensionContext;
    client = startLanguageClient(context, log);
    assert.strictEqual(await client.ready, true, 'the language server started');
  });

  suiteTeardown(async () => {
    await client?.dispose();
    log?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('opening demo/leaky-server.js with a report shows the diagnostic on `_connections` and its code lens', async () => {
    const doc = await vscode.workspace.openTextDocument(leakyServer);
    await vscode.window.showTextDocument(doc);
    const applied = statusOf(client, reportFile, 30_000);
    await client.setReport({ file: reportFile });
    const status = await applied;
    assert.strictEqual(status.ok, true);
    assert.strictEqual(status.skipped.length, 0, JSON.stringify(status.skipped));

    const owner = await diagnostic(doc.uri, (d) => d.source === 'leak-lens' && d.code === 'leak-owner', 20_000);
    assert.deepStrictEqual(
      [owner.range.start.line, owner.range.start.character, owner.range.end.line, owner.range.end.character],
      [27, 6, 27, 18],
    );
    assert.strictEqual(doc.getText(owner.range), '_connections');
    assert.strictEqual(owner.severity, vscode.DiagnosticSeverity.Warning);
    assert.match(owner.message, /^_connections holds \d+ Connection \(\+100 per round, [\d.]+ [KM]B retained\)/);
    const alloc = vscode.languages
      .getDiagnostics(doc.uri)
      .find((d) => d.source === 'leak-lens' && d.code === 'leak-allocation');
    assert.ok(alloc && doc.getText(alloc.range) === 'new Connection' && alloc.range.start.line === 31);

    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri);
    const ours = lenses.filter((l) => l.command?.command === 'leakLens.showLeakGroup');
    const lens = ours.find((l) => l.range.start.line === 27);
    assert.ok(
      lens,
      `a Leak Lens code lens on line 28 (got ${JSON.stringify(ours.map((l) => [l.range.start.line, l.command?.title]))})`,
    );
    assert.strictEqual(doc.getText(lens.range), '_connections');
    assert.match(lens.command!.title, /^\d+ Connection leaked, [\d.]+ [KM]B, show retainers$/);
    assert.deepStrictEqual(lens.command!.arguments, [{ groupId: 'Connection@_connections', reportFile, at: 'owner' }]);

    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      doc.uri,
      new vscode.Position(27, 10),
    );
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(text, /\*\*Retainer path\*\*/);
    assert.ok(text.includes('- `_connections -> Array` **← owner**'), text);
  });
});
