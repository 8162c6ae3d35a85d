/**
 * The program `leak-lens test` starts under the inspector: `node --inspect=... scenarioRunner.js <scenario file>`.
 * It loads the scenario module and then only waits; the driver (scenario.ts) calls the functions of one global,
 * `__leakLensScenario`, through `Runtime.evaluate` with `awaitPromise`. Every function answers plain data (never a
 * throw, never the scenario's own values): nothing the action returns or throws is kept here, so what stays alive
 * in this process between snapshots is the scenario's own state and this constant bookkeeping.
 */
import * as path from 'path';
import { pathToFileURL } from 'url';

/** The answer of each call: success (with facts) or one line saying what went wrong. */
export type RunnerAnswer =
  { ok: true; iterations?: number; setup?: boolean; teardown?: boolean } | { ok: false; error: string };

interface Scenario {
  setup?: () => unknown;
  action: () => unknown;
  teardown?: () => unknown;
  iterations?: number;
}

const file = path.resolve(process.argv[2] ?? '');
// Kept until the driver says the test is over: the runner waits for commands, and the inspector answers them.
const keepAlive = setInterval(() => undefined, 1 << 30);

// With `module: commonjs`, TypeScript would turn `import()` into `require()`, which cannot load an ES module.
const importModule = new Function('specifier', 'return import(specifier)') as (
  specifier: string,
) => Promise<Record<string, unknown>>;

async function loadModule(): Promise<Record<string, unknown>> {
  if (/\.mjs$/.test(file)) return importModule(pathToFileURL(file).href);
  try {
    // The scenario is the user's module, named at run time: a plain require, as Node would load it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(file) as Record<string, unknown>;
  } catch (e) {
    // A .js file of a `"type": "module"` package is an ES module.
    if ((e as NodeJS.ErrnoException).code === 'ERR_REQUIRE_ESM') return importModule(pathToFileURL(file).href);
    throw e;
  }
}

/** The error as one line: its name and message, and where in the scenario's files it was thrown. */
function describe(e: unknown): string {
  if (!(e instanceof Error)) return `${typeof e === 'string' ? e : String(e)} was thrown`;
  const frame = (e.stack ?? '')
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .find((l) => l.startsWith('at ') && !l.includes('node:') && !l.includes(__filename));
  // `at fn (file:line:column)` or `at file:line:column`, shown as `(file:line:column in fn)`.
  const parts = frame ? /^at (?:(.+) \((.+)\)|(.+))$/.exec(frame) : null;
  const where = parts ? ` (${parts[2] ?? parts[3]}${parts[1] ? ` in ${parts[1]}` : ''})` : '';
  return `${e.name}: ${e.message.split('\n')[0]}${where}`;
}

let scenarioExports: Scenario | undefined;

async function scenario(): Promise<Scenario> {
  if (scenarioExports) return scenarioExports;
  let mod: Record<string, unknown>;
  try {
    mod = await loadModule();
  } catch (e) {
    throw new Error(`it could not be loaded: ${describe(e)}`);
  }
  // `export default { action }` and `module.exports = { action }` count as well as named exports.
  const exported = (
    typeof mod.action !== 'function' && mod.default && typeof mod.default === 'object' ? mod.default : mod
  ) as Record<string, unknown>;
  if (typeof exported.action !== 'function') {
    throw new Error(
      `it exports no action function; export the work to repeat, e.g. \`exports.action = async () => { ... }\` (or \`export async function action()\`)`,
    );
  }
  for (const name of ['setup', 'teardown'] as const) {
    if (exported[name] !== undefined && typeof exported[name] !== 'function')
      throw new Error(`it exports ${name}, but it is not a function; export a function or leave it out`);
  }
  const iterations = exported.iterations;
  if (
    iterations !== undefined &&
    !(typeof iterations === 'number' && Number.isInteger(iterations) && iterations >= 1)
  ) {
    throw new Error(
      `it exports iterations = ${String(iterations)}, which is not a whole number of at least 1; export one (e.g. 20) or leave it out`,
    );
  }
  scenarioExports = exported as unknown as Scenario;
  return scenarioExports;
}

/** Runs `work`, turning anything it throws into the answer's one line. */
async function answer(work: () => Promise<Partial<RunnerAnswer> | void>): Promise<RunnerAnswer> {
  try {
    return { ok: true, ...(await work()) } as RunnerAnswer;
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

const api = Object.freeze({
  load: () =>
    answer(async () => {
      const s = await scenario();
      return {
        iterations: s.iterations,
        setup: typeof s.setup === 'function',
        teardown: typeof s.teardown === 'function',
      };
    }),
  setup: () =>
    answer(async () => {
      const s = await scenario();
      try {
        await s.setup?.();
      } catch (e) {
        throw new Error(`setup threw ${describe(e)}`);
      }
    }),
  /** Calls the action `times` times, one after the other, keeping nothing it returns. */
  run: (times: number) =>
    answer(async () => {
      const s = await scenario();
      for (let i = 1; i <= times; i++) {
        try {
          await s.action();
        } catch (e) {
          throw new Error(`action threw on call ${i} of ${times}: ${describe(e)}`);
        }
      }
    }),
  teardown: () =>
    answer(async () => {
      const s = await scenario();
      try {
        await s.teardown?.();
      } catch (e) {
        throw new Error(`teardown threw ${describe(e)}`);
      }
    }),
  /** Lets the process end once the scenario's own handles are closed. */
  close: () => {
    clearInterval(keepAlive);
  },
});

Object.defineProperty(globalThis, '__leakLensScenario', { value: api });
