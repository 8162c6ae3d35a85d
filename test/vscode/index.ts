/**
 * The VS Code test entry in the standard @vscode/test-electron contract: the test host loads this file (given as
 * `extensionTestsPath`) in the extension host and awaits `run()`. It runs every `*.test.js` beside it with mocha's
 * TDD interface, and writes the counts to `$LEAK_LENS_TEST_RESULTS` when set (scripts/vscode-test.js reads them).
 */
import * as fs from 'fs';
import type MochaType from 'mocha';
import * as path from 'path';

export function run(): Promise<void> {
  // mocha 12 is an ES module with a CommonJS build beside it; the CommonJS one loads in every extension host.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Mocha = require('mocha/lib/mocha.cjs') as typeof MochaType;
  const mocha = new Mocha({
    ui: 'tdd',
    color: false,
    // A bound for a stuck test, not a measure (tests wait on signals): a worker-thread Find Leaks took over 90 s on a
    // machine with two other builds running, and a test mocha gives up on keeps running beside the next ones.
    timeout: 240_000,
    reporter: 'spec',
    grep: process.env.LEAK_LENS_TEST_GREP || undefined,
  });
  // The suite for a window with no folder runs on its own (LEAK_LENS_TEST_SUITE=nofolder).
  const dir = process.env.LEAK_LENS_TEST_SUITE === 'nofolder' ? path.join(__dirname, 'nofolder') : __dirname;
  for (const f of fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.test.js'))
    .sort())
    mocha.addFile(path.join(dir, f));
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const runner = mocha.run((failures) => {
      const stats = runner.stats ?? { passes: 0, failures, pending: 0, tests: 0 };
      const out = process.env.LEAK_LENS_TEST_RESULTS;
      if (out)
        fs.writeFileSync(
          out,
          JSON.stringify({
            passes: stats.passes,
            failures: stats.failures,
            pending: stats.pending,
            durationMs: Date.now() - t0,
          }),
        );
      if (failures > 0) reject(new Error(`${failures} VS Code test${failures === 1 ? '' : 's'} failed`));
      else resolve();
    });
  });
}
