/**
 * Webview benchmark: the real bundle in headless Chromium (the test harness, same CSP), measuring
 *   - first paint of the memory timeline with 10,000 points (navigation start -> the frame that shows the chart),
 *     with its parts: script start, state received, chart drawn;
 *   - first paint of the leak groups of a real report (leak-lens run on the demo server);
 *   - the page's JS heap after a live session of 12,000 / 100,000 / 1,000,000 samples (it must stay flat).
 * Prints figures; asserts nothing. Run after `npm run build`: node out/bench/webview-bench.js [runs]
 */
import { EngineClient } from '../engine/client';
import type { TimelineSample } from '../protocol/webview';
import type { EngineLike } from '../src/extension/webview/controller';
import { launchBrowser, serveWebview, WebviewPage } from '../test/webview/harness';
import { demoReport } from '../test/webview/reports';

const runs = Number(process.argv[2] ?? 7);

// Runs inside the page (this build has no DOM lib).
declare function requestAnimationFrame(callback: () => void): number;

/** A sampled process: one sample a second, a sawtooth heap over a slowly rising floor. */
function samples(n: number, start = Date.now() - n * 1000): TimelineSample[] {
  return Array.from({ length: n }, (_, i) => {
    const heapUsed = 4e7 + i * 200 + (i % 30) * 4e5;
    return {
      time: start + i * 1000,
      heapUsed,
      heapTotal: heapUsed + 2e7,
      rss: 1.5e8 + i * 500,
      external: 3e6,
      arrayBuffers: 2e5,
    };
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** The page's performance marks, in ms since navigation start. */
async function marks(w: WebviewPage, names: string[]): Promise<Record<string, number>> {
  await w.page.waitForFunction((last) => performance.getEntriesByName(last).length > 0, names[names.length - 1], {
    timeout: 30_000,
  });
  return w.page.evaluate(
    (ns) => Object.fromEntries(ns.map((n) => [n, performance.getEntriesByName(n)[0]?.startTime ?? NaN])),
    names,
  );
}

async function main(): Promise<void> {
  const browser = await launchBrowser();
  const server = await serveWebview();
  const noEngine: EngineLike = { request: () => Promise.reject(new Error('the timeline asks the engine nothing')) };
  const say = (s: string) => console.log(s);
  try {
    const ten = samples(10_000);
    const names = [
      'leak-lens:script-start',
      'leak-lens:state',
      'leak-lens:timeline-drawn',
      'leak-lens:timeline-painted',
    ];
    const rows: Record<string, number>[] = [];
    for (let i = 0; i < runs + 1; i++) {
      const w = await WebviewPage.open(browser, server, {
        engine: noEngine,
        input: { title: 'bench', live: true, samples: ten },
      });
      const m = await marks(w, names);
      if (i > 0) rows.push(m); // the first run warms up the browser's caches
      await w.close();
    }
    const fig = (k: string) => median(rows.map((r) => r[k])).toFixed(0);
    say(
      `timeline, 10,000 points: first paint ${fig('leak-lens:timeline-painted')} ms after navigation start (median of ${runs})`,
    );
    say(
      `  script start ${fig('leak-lens:script-start')} ms, state received ${fig('leak-lens:state')} ms, chart drawn ${fig('leak-lens:timeline-drawn')} ms, painted ${fig('leak-lens:timeline-painted')} ms`,
    );
    say(
      `  state received -> painted: ${median(rows.map((r) => r['leak-lens:timeline-painted'] - r['leak-lens:state'])).toFixed(0)} ms`,
    );

    const engine = new EngineClient(1024);
    try {
      const run = demoReport('leaky-server');
      const times: number[] = [];
      for (let i = 0; i < runs + 1; i++) {
        const w = await WebviewPage.open(browser, server, { engine, input: { title: 'bench', report: run.report } });
        await w.page.locator('table.leaks tbody tr[data-index]').first().waitFor();
        const t = await w.page.evaluate(
          () => new Promise<number>((resolve) => requestAnimationFrame(() => resolve(performance.now()))),
        );
        if (i > 0) times.push(t);
        await w.close();
      }
      say(
        `leak groups of the demo server's report: first paint ${median(times).toFixed(0)} ms after navigation start (median of ${runs})`,
      );
    } finally {
      await engine.dispose();
    }

    const w = await WebviewPage.open(browser, server, { engine: noEngine, input: { title: 'bench', live: true } });
    const cdp = await w.page.context().newCDPSession(w.page);
    const heap = async () => {
      await cdp.send('HeapProfiler.collectGarbage');
      return (await cdp.send('Runtime.getHeapUsage')).usedSize / 1024 / 1024;
    };
    let sent = 0;
    const start = Date.now() - 1_000_000_000;
    for (const target of [12_000, 100_000, 1_000_000]) {
      while (sent < target) {
        const n = Math.min(10_000, target - sent);
        await w.deliver({ type: 'samples', samples: samples(n, start + sent * 1000) });
        sent += n;
      }
      await w.page.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => resolve())));
      const points = await w.page.locator('#panel-timeline .chart').getAttribute('data-points');
      say(
        `live timeline after ${target.toLocaleString('en-US')} samples: page JS heap ${(await heap()).toFixed(1)} MB, ${Number(points).toLocaleString('en-US')} points held`,
      );
    }
    await w.close();
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
