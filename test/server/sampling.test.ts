/**
 * The language server on a report of the sampling mode (no snapshot): `leak-lens run --sampling` profiles the demo
 * server, the report is written where the server looks by default (`.leak-lens/report.json` of a workspace), and a
 * real LSP client over stdio checks that the allocating line of the growing stack is marked, saying it comes from
 * sampling, with the bytes per round and what sampling cannot tell.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SAMPLING_NOTICE, samplingBytesPerRound } from '../../render/words';
import { formatBytes } from '../../server/format';
import { demoSamplingReport } from '../helpers/fixtures';
import { LspClient } from './lspClient';
import { hoverMarkdown, repoRoot, span, tempDir, textAt, writeJson } from './helpers';
import type { LeakReport } from '../../protocol/report';

const demo = path.join(repoRoot, 'demo', 'leaky-server.js');

describe('language server on a report of the sampling mode', () => {
  let report: LeakReport;
  let ws: string;
  let app: string;
  let reportFile: string;
  let client: LspClient;

  before(async () => {
    report = demoSamplingReport();
    // The demo copied into a workspace of its own, and the report's paths with it (as a container's path map would).
    ws = tempDir('lsp-sampling');
    app = path.join(ws, 'demo', 'leaky-server.js');
    fs.mkdirSync(path.join(ws, 'demo', 'lib'), { recursive: true });
    fs.copyFileSync(demo, app);
    fs.copyFileSync(path.join(repoRoot, 'demo', 'lib', 'serve.js'), path.join(ws, 'demo', 'lib', 'serve.js'));
    const moved = JSON.parse(
      JSON.stringify(report).split(JSON.stringify(demo).slice(1, -1)).join(JSON.stringify(app).slice(1, -1)),
    ) as LeakReport;
    reportFile = writeJson(path.join(ws, '.leak-lens', 'report.json'), moved);
    client = await LspClient.start({ roots: [ws], initializationOptions: { hostCommands: true } });
  });

  after(async () => {
    assert.equal(await client.stop(), 0);
    fs.rmSync(ws, { recursive: true, force: true });
  });

  test('the report file found at start marks `new Connection` in accept() with a warning that says it comes from sampling', async () => {
    const status = await client.waitFor(
      () => client.statuses.find((s) => s.source === reportFile),
      'the report file found at start',
    );
    assert.equal(status.ok, true, JSON.stringify(status));
    const g = report.sampling!.growth.find((x) => x.constructs === 'Connection' && x.site.function === 'accept');
    assert.ok(
      g,
      `a growing stack that constructs Connection in accept() (got ${report.sampling!.growth.map((x) => `${x.site.function}/${x.constructs ?? ''}`).join(', ')})`,
    );
    assert.equal(g.site.location?.line, 32);
    const ds = client.diagnosticsOf(app).filter((d) => d.code === 'leak-sampled-allocation');
    const d = ds.find((x) => x.range.start.line === 31);
    assert.ok(d, `a sampled diagnostic on line 32 (got ${ds.map((x) => span(x.range)).join(', ')})`);
    assert.equal(textAt(app, d.range), 'new Connection');
    assert.equal(d.source, 'leak-lens');
    assert.equal(d.severity, 2);
    assert.equal(
      d.message,
      `Leak Lens: objects allocated here (new Connection) grow every round: about +${formatBytes(samplingBytesPerRound(g, report.sampling!.interval))} live per round (${g.liveSamples.map((n) => formatBytes(n * report.sampling!.interval)).join(' -> ')}), from allocation sampling; ${SAMPLING_NOTICE}.`,
    );
    assert.deepEqual(d.data, { reportFile });
    // Nothing in this report has an owner: no owner warning, no code lens to a leak group.
    assert.ok(!client.diagnosticsOf(app).some((x) => x.code === 'leak-owner'));
    assert.deepEqual((await client.codeLenses(app)) ?? [], []);
    // Its callers in the program are related places: the request handler that called accept().
    assert.ok(
      (d.relatedInformation ?? []).every((r) =>
        /^called from .+\(\) \(frame \d+ of the allocating stack\)$/.test(r.message),
      ),
      JSON.stringify(d.relatedInformation),
    );
  });

  test('the hover on the line says sampling, the live bytes per round, the stack, and that there are no retainer paths', async () => {
    const d = client.diagnosticsOf(app).find((x) => x.code === 'leak-sampled-allocation' && x.range.start.line === 31)!;
    const text = hoverMarkdown(await client.hover(app, d.range.start.line, d.range.start.character + 4));
    const g = report.sampling!.growth.find((x) => x.constructs === 'Connection' && x.site.function === 'accept')!;
    const interval = report.sampling!.interval;
    assert.ok(
      text.startsWith(
        `**Leak Lens** (allocation sampling): objects allocated here (new \`Connection\`) grow every round: about +${formatBytes(samplingBytesPerRound(g, interval))} live per round.`,
      ),
      text,
    );
    assert.ok(
      text.includes(
        `Live bytes per round (estimated): ${g.liveSamples.map((n) => formatBytes(n * interval)).join(' → ')}; live samples ${g.liveSamples.join(' -> ')} (one per 1.0 KB allocated)`,
      ),
      text,
    );
    assert.match(text, /1\. `Connection\(\)`/);
    assert.match(text, /`accept\(\)` \[demo\/leaky-server\.js:32\]\(file:\/\/.*leaky-server\.js#L32\)/);
    assert.ok(
      text.endsWith('_Sampling mode: no retainer paths; take a snapshot to see what holds these objects._'),
      text,
    );
  });

  test('sampling findings of the wrong shape are dropped with a reason; a hostile constructor name stays text', async () => {
    const site = { function: 'accept', location: { file: app, line: 32, column: 16 } };
    const status = await client.setReport(
      {
        // Made after the workspace's copy of the demo: its lines are as the report has them.
        report: {
          createdAt: new Date().toISOString(),
          leaks: [],
          sampling: {
            interval: 1024,
            rounds: 3,
            growth: [
              { site: 5 },
              {
                stack: [site],
                site,
                constructs: '<img src=x onerror=alert(1)>`x`',
                liveSamples: [1, 2, 3, 4],
                survivorsPerRound: [1, 1, 1],
                estimatedBytes: 3072,
              },
            ],
          },
        } as unknown as LeakReport,
        source: 'hostile-sampling',
      },
      'hostile-sampling',
    );
    assert.equal(status.ok, true);
    assert.ok(
      client.logs.some((l) => l.includes('growing stack #1 has no allocating frame; left out')),
      client.logs.join('\n'),
    );
    // The report file's marker and this one are on the same line (one per report); the hover shows both.
    const text = hoverMarkdown(await client.hover(app, 31, 15));
    assert.ok(
      text.includes(
        'objects allocated here (new `` <img src=x onerror=alert(1)>`x` ``) grow every round: about +1.0 KB live per round.',
      ),
      text,
    );
    assert.ok(!/<img/.test(text.replace(/`` [^]*? ``/g, '')), 'the name appears only inside its code span');
    const bad = await client.setReport(
      { report: { leaks: [], sampling: { growth: 'no' } } as unknown as LeakReport, source: 'bad-sampling' },
      'bad-sampling',
    );
    assert.equal(bad.ok, true);
    assert.ok(
      client.logs.some((l) =>
        l.includes('the sampling findings have no growth list or no sampling interval; left out'),
      ),
      client.logs.join('\n'),
    );
  });
});
