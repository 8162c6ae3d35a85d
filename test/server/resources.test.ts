/**
 * Growing resources in the editor: the engine's report on snapshots a real Node process wrote
 * (test/fixtures/apps/resource-counts.js, with allocation tracking), sent to the language server inline and as a
 * report file, gives a warning at the line that creates each growing kind (pending promises, timers, vm contexts),
 * with the holder as related information and the same words in the hover.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import { buildLeakReport } from '../../engine/report';
import { fixture } from '../helpers/fixtures';
import { hoverMarkdown, repoRoot, tempDir, textAt, writeJson } from './helpers';
import { LspClient } from './lspClient';

const app = path.join(repoRoot, 'test', 'fixtures', 'apps', 'resource-counts.js');
const lineOf = (text: string) =>
  fs
    .readFileSync(app, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(text));

describe('language server: resources that grow', () => {
  const clients: LspClient[] = [];
  const dirs: string[] = [];
  after(async () => {
    for (const c of clients) assert.equal(await c.stop(), 0, c.stderr);
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  const report = buildLeakReport(fixture('resource-counts', { track: true }).files);

  test('a marker at the line that creates each growing kind, inline and from a report file', async () => {
    assert.deepEqual((report.resources ?? []).map((r) => r.kind).sort(), ['pending-promise', 'timer', 'vm-context']);
    const c = await LspClient.start({ roots: [repoRoot], initializationOptions: { reportFiles: [] } });
    clients.push(c);
    const check = () => {
      const ds = c.diagnosticsOf(app).filter((d) => d.code === 'resource-growth');
      assert.deepEqual(
        ds.map((d) => d.range.start.line),
        [
          lineOf('heldPending.set(seq++, new Promise('),
          lineOf('intervals.push(setInterval('),
          lineOf('contexts.push(vm.createContext('),
        ],
      );
      const promises = ds[0];
      assert.equal(promises.severity, 2);
      assert.match(
        promises.message,
        /^never-settled promises \(Promise\) x40, \+20 per round \(.*\): created in work\(\) here, held by heldPending\.$/,
      );
      assert.equal(textAt(app, promises.range).length > 0, true);
      // The holder's declaration is related information.
      assert.deepEqual(
        promises.relatedInformation?.map((r) => [r.location.range.start.line, r.message]),
        [[lineOf('const heldPending = new Map()'), 'held by heldPending']],
      );
      assert.match(ds[2].message, /^vm contexts \(vm context\) x10, \+5 per round/);
      return ds[0];
    };
    await c.setReport({ report, source: 'inline' });
    const d = check();
    const hover = hoverMarkdown(
      await c.conn.sendRequest('textDocument/hover', {
        textDocument: { uri: pathToFileURL(app).href },
        position: d.range.start,
      }),
    );
    assert.ok(hover.includes('never-settled promises (Promise) x40, +20 per round'), hover);
    await c.conn.sendNotification('leakLens/clearReport', { source: 'inline' });
    await c.waitFor(() => c.diagnosticsOf(app).length === 0, 'the markers to clear');
    // The same report read from a file, as `leak-lens run --format json > report.json` writes it.
    const dir = tempDir('leak-lens-resources-');
    dirs.push(dir);
    const file = writeJson(path.join(dir, 'report.json'), report);
    await c.conn.sendNotification('leakLens/setReport', { file: pathToFileURL(file).href });
    await c.waitFor(() => c.diagnosticsOf(app).some((x) => x.code === 'resource-growth'), 'the markers from the file');
    check();
  });
});
