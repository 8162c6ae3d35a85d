/**
 * The folder boundaries that eslint.config.mjs enforces (ARCHITECTURE.md, "Invariants") bite: for each rule, a file
 * with one forbidden import is written into the folder, linted with ESLint's own API and the repository's config,
 * and must get a no-restricted-imports error; the same file with an allowed import must not. The probe files are
 * removed afterwards, also when an assertion fails.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';
import { repoRoot } from '../helpers/fixtures';

interface Probe {
  /** The folder the probe file goes into, relative to the repository. */
  folder: string;
  bad: string;
  good: string;
}

const probes: Probe[] = [
  { folder: 'src/cli', bad: "import * as vscode from 'vscode';", good: "import * as path from 'path';" },
  {
    folder: 'engine',
    bad: "import * as vscode from 'vscode';",
    good: "import type { LeakReport } from '../protocol/report';",
  },
  {
    folder: 'server',
    bad: "import type { Uri } from 'vscode';",
    good: "import type { LeakReport } from '../protocol/report';",
  },
  {
    folder: 'media/src',
    bad: "import * as fs from 'fs';",
    good: "import type { LeakReport } from '../../protocol/report';",
  },
  {
    folder: 'media/src',
    bad: "import * as fs from 'node:fs';",
    good: "import { formatBytes } from '../../protocol/units';",
  },
  {
    folder: 'media/src',
    bad: "import type { EngineClient } from '../../engine/client';",
    good: "import { stepText } from '../../render/steps';",
  },
  {
    folder: 'protocol',
    bad: "import type { HeapAnalysis } from '../engine/analysis';",
    good: "import type { MemoryUsage } from './memory';",
  },
  {
    folder: 'render',
    bad: "import * as path from 'path';",
    good: "import type { LeakGroup } from '../protocol/report';",
  },
  {
    folder: 'src/adapter',
    bad: "import { log } from '../extension/log';",
    good: "import type { MemoryUsage } from '../../protocol/memory';",
  },
];

test('lint rejects a forbidden import in each folder and accepts an allowed one', async () => {
  const eslint = new ESLint({ cwd: repoRoot });
  const written: string[] = [];
  try {
    for (const [i, probe] of probes.entries()) {
      for (const kind of ['bad', 'good'] as const) {
        const file = path.join(repoRoot, probe.folder, `zz-boundary-probe-${process.pid}-${i}-${kind}.ts`);
        fs.writeFileSync(file, `${probe[kind]}\nexport const probe = 1;\n`);
        written.push(file);
        const [result] = await eslint.lintFiles([file]);
        const restricted = result.messages.filter((m) => m.ruleId === 'no-restricted-imports');
        const fatal = result.messages.filter((m) => m.fatal);
        assert.deepEqual(fatal, [], `${probe.folder}: the probe did not parse`);
        if (kind === 'bad') assert.equal(restricted.length, 1, `${probe.folder}: lint let \`${probe.bad}\` through`);
        else assert.deepEqual(restricted, [], `${probe.folder}: lint refused \`${probe.good}\``);
      }
    }
  } finally {
    for (const f of written) fs.rmSync(f, { force: true });
  }
});
