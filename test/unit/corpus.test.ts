import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/fixtures';

/** Checks every leak corpus app's expected.json against its sources (format: test/corpus/README.md). No processes. */

const corpusDir = path.join(repoRoot, 'test', 'corpus');
const KINDS = new Set([
  'collection',
  'primitive-collection',
  'chain',
  'closure-chain',
  'session',
  'reimport',
  'esm-reimport',
  'listeners',
  'timers',
  'library',
  'worker',
  'buffers',
  'inlining',
  'typescript',
  'esm',
  'express',
  'fastify',
  'koa',
  'control',
]);
const LEAK_KINDS = new Set(['objects', 'chain', 'collection']);

interface Location {
  file: string;
  line: number;
  text: string;
}

interface Expected {
  source: string;
  kinds: string[];
  program: string[];
  nodeArgs?: string[];
  build?: string;
  action: string;
  ready?: string;
  perRound: number;
  verdict: string;
  watch?: string[];
  leaks: {
    kind: string;
    className: string;
    thread?: string;
    perRound?: number;
    owner: Location;
    allocation: Location;
    caller?: Location;
  }[];
}

const apps = fs.existsSync(corpusDir)
  ? fs
      .readdirSync(corpusDir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort()
  : [];

function resolveFile(app: string, file: string): string {
  return file.startsWith('node_modules/') ? path.join(repoRoot, file) : path.join(corpusDir, app, file);
}

/** Checks one stated location: the file exists and the line holds the text. Returns the problem, or undefined. */
function checkLocation(app: string, what: string, loc: Location | undefined): string | undefined {
  if (
    !loc ||
    typeof loc.file !== 'string' ||
    !Number.isInteger(loc.line) ||
    loc.line < 1 ||
    typeof loc.text !== 'string' ||
    loc.text === ''
  ) {
    return `${app}: ${what} needs file, line (a positive integer) and a non-empty text`;
  }
  const file = resolveFile(app, loc.file);
  if (!fs.existsSync(file)) return `${app}: ${what} file ${loc.file} does not exist (${file})`;
  const line = fs.readFileSync(file, 'utf8').split('\n')[loc.line - 1];
  if (line === undefined || !line.includes(loc.text)) {
    return `${app}: ${what} ${loc.file}:${loc.line} should contain ${JSON.stringify(loc.text)} but is ${JSON.stringify(line)}`;
  }
  return undefined;
}

test('the corpus has apps, each with an expected.json', () => {
  assert.ok(apps.length > 0, `no app folders under ${corpusDir}`);
  for (const app of apps)
    assert.ok(fs.existsSync(path.join(corpusDir, app, 'expected.json')), `${app}: no expected.json`);
});

for (const app of apps) {
  test(`corpus app ${app}: expected.json is complete and matches the source lines`, () => {
    const raw = fs.readFileSync(path.join(corpusDir, app, 'expected.json'), 'utf8');
    let e: Expected;
    try {
      e = JSON.parse(raw) as Expected;
    } catch (err) {
      assert.fail(`${app}: expected.json is not JSON: ${(err as Error).message}`);
    }
    const problems: string[] = [];
    if (typeof e.source !== 'string' || !/^https:\/\/\S+$/.test(e.source))
      problems.push(`${app}: source must be the https URL of the public report`);
    if (!Array.isArray(e.kinds) || e.kinds.length === 0) problems.push(`${app}: kinds must be a non-empty array`);
    else for (const k of e.kinds) if (!KINDS.has(k)) problems.push(`${app}: unknown kind ${JSON.stringify(k)}`);
    if (!Array.isArray(e.program) || e.program.length === 0) problems.push(`${app}: program must name the file to run`);
    else {
      const main = path.join(corpusDir, app, e.program[0]);
      if (!e.build && !fs.existsSync(main)) problems.push(`${app}: program ${e.program[0]} does not exist`);
      // The program's first line cites the report it is modelled on (the built entry of a TypeScript app excepted).
      const cited = e.build ? undefined : fs.existsSync(main) ? fs.readFileSync(main, 'utf8').split('\n')[0] : '';
      if (cited !== undefined && !cited.includes(e.source))
        problems.push(
          `${app}: the first line of ${e.program[0]} should cite ${e.source}, it is ${JSON.stringify(cited)}`,
        );
    }
    if (e.nodeArgs !== undefined && !(Array.isArray(e.nodeArgs) && e.nodeArgs.every((a) => typeof a === 'string')))
      problems.push(`${app}: nodeArgs must be an array of strings`);
    if (typeof e.action !== 'string' || e.action.trim() === '') problems.push(`${app}: action must be a shell command`);
    if (e.ready !== undefined) {
      try {
        new RegExp(e.ready);
      } catch {
        problems.push(`${app}: ready is not a regular expression`);
      }
    }
    if (!Number.isInteger(e.perRound) || e.perRound < 0)
      problems.push(`${app}: perRound must be a non-negative integer`);
    if (!['leak', 'clean'].includes(e.verdict)) problems.push(`${app}: verdict must be leak or clean`);
    if (!Array.isArray(e.leaks)) problems.push(`${app}: leaks must be an array`);
    else if (e.verdict === 'clean') {
      if (e.leaks.length !== 0) problems.push(`${app}: a clean app lists no leaks`);
      if (e.perRound !== 0) problems.push(`${app}: a clean app has perRound 0`);
      if (!e.kinds.includes('control')) problems.push(`${app}: a clean app is of kind "control"`);
    } else {
      if (e.leaks.length === 0) problems.push(`${app}: a leak app lists its leaks`);
      if (e.perRound <= 0) problems.push(`${app}: a leak app has perRound > 0`);
      for (const [i, leak] of e.leaks.entries()) {
        const what = `leaks[${i}]`;
        if (!LEAK_KINDS.has(leak.kind)) problems.push(`${app}: ${what}.kind must be objects, chain or collection`);
        if (typeof leak.className !== 'string' || leak.className === '')
          problems.push(`${app}: ${what}.className is required`);
        if (leak.thread !== undefined && !['main', 'worker'].includes(leak.thread))
          problems.push(`${app}: ${what}.thread must be main or worker`);
        for (const [name, loc] of [
          ['owner', leak.owner],
          ['allocation', leak.allocation],
        ] as const) {
          const p = checkLocation(app, `${what}.${name}`, loc);
          if (p) problems.push(p);
        }
        if (leak.caller !== undefined) {
          const p = checkLocation(app, `${what}.caller`, leak.caller);
          if (p) problems.push(p);
          if (leak.caller.file.startsWith('node_modules/'))
            problems.push(`${app}: ${what}.caller is the application's line, not a library's`);
        }
        if (
          leak.allocation &&
          leak.allocation.file &&
          leak.allocation.file.startsWith('node_modules/') &&
          !leak.caller
        ) {
          problems.push(`${app}: ${what} allocates in node_modules, so it needs a caller (the application's line)`);
        }
      }
    }
    if (e.watch !== undefined && !(Array.isArray(e.watch) && e.watch.every((c) => typeof c === 'string' && c !== '')))
      problems.push(`${app}: watch must be an array of class names`);
    assert.deepEqual(problems, []);
  });
}
