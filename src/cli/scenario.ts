/**
 * `leak-lens test <scenario>`: runs a scenario module (`setup`, `action`, `teardown`, `iterations`) in a fresh Node
 * process under the inspector, repeats its action in rounds with a snapshot after each (the same measurement and
 * analysis as `run`, see run.ts), and reports what leaks. The process runs scenarioRunner.js, which loads the
 * scenario and is driven through `Runtime.evaluate`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CdpTimeoutError } from '../capture';
import { measureProgram, RunError, type MeasureOptions, type Workload, type WorkloadContext } from './run';
import type { RunnerAnswer } from './scenarioRunner';
import type { LeakReport } from '../../protocol/report';

/** Calls of the action per round when neither the scenario nor `--iterations` says. */
export const DEFAULT_ITERATIONS = 20;

export interface TestOptions extends Omit<MeasureOptions, 'program' | 'rounds' | 'sampling'> {
  /** The scenario module: a .js, .cjs or .mjs file. */
  scenario: string;
  /** Calls of the action per round; the scenario's own `iterations` (or 20) when absent. */
  iterations?: number;
  /** Longest time one round (or setup, or teardown) may take. */
  callTimeoutMs: number;
  /** The Node executable; the one running leak-lens by default. */
  nodeExecutable?: string;
}

/** Checks the scenario file before anything starts, with a one-line message for each way it can be wrong. */
function checkScenarioFile(file: string): string {
  const full = path.resolve(file);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(full);
  } catch {
    throw new RunError(`the scenario ${file} does not exist; name a .js or .mjs file that exports an action function`);
  }
  if (!stat.isFile())
    throw new RunError(`the scenario ${file} is not a file; name a .js or .mjs file that exports an action function`);
  if (!/\.(c|m)?js$/.test(full))
    throw new RunError(
      `the scenario ${file} is not a .js, .cjs or .mjs file; leak-lens test runs JavaScript modules (compile TypeScript first)`,
    );
  return full;
}

export async function testCommand(opts: TestOptions): Promise<LeakReport> {
  const scenario = checkScenarioFile(opts.scenario);
  const runner = path.join(__dirname, 'scenarioRunner.js');
  const shown = path.basename(scenario);
  let iterations = opts.iterations ?? DEFAULT_ITERATIONS;
  /** Calls one function of the runner's global and turns a failed answer into a one-line error. */
  const call = async (
    ctx: WorkloadContext,
    fn: 'load' | 'setup' | 'run' | 'teardown',
    arg = '',
  ): Promise<RunnerAnswer & { ok: true }> => {
    const reply = await ctx
      .guard(
        ctx.session.connection.send(
          'Runtime.evaluate',
          {
            expression: `globalThis.__leakLensScenario.${fn}(${arg})`,
            awaitPromise: true,
            returnByValue: true,
            silent: true,
          },
          { timeoutMs: opts.callTimeoutMs },
        ),
      )
      .catch((e: Error) => {
        if (e instanceof CdpTimeoutError)
          throw new RunError(
            `the scenario's ${fn === 'run' ? 'action' : fn} did not finish within ${opts.callTimeoutMs / 1000} s; make it end, or raise --timeout`,
          );
        throw e;
      });
    if (reply.exceptionDetails)
      throw new RunError(
        `the scenario runner failed in ${fn}: ${reply.exceptionDetails.exception?.description?.split('\n')[0] ?? reply.exceptionDetails.text}`,
      );
    const answer = reply.result.value as RunnerAnswer;
    if (!answer.ok) throw new RunError(`scenario ${shown}: ${answer.error}`);
    return answer;
  };
  const workload: Workload = {
    keepRunning: 'the scenario must not end its process (no process.exit) while it is measured',
    async start(ctx) {
      const facts = await call(ctx, 'load');
      iterations = opts.iterations ?? facts.iterations ?? DEFAULT_ITERATIONS;
      opts.log(
        `scenario ${shown}: ${iterations} calls of action per round${facts.setup ? ', with setup' : ''}${facts.teardown ? ', with teardown' : ''}`,
      );
      if (facts.setup) await call(ctx, 'setup');
    },
    async round(ctx, what) {
      opts.log(`action x${iterations} (${what})`);
      await call(ctx, 'run', String(iterations));
    },
    async finish(ctx) {
      await call(ctx, 'teardown');
      await ctx.guard(
        ctx.session.connection.send('Runtime.evaluate', {
          expression: 'globalThis.__leakLensScenario.close()',
          returnByValue: true,
          silent: true,
        }),
      );
    },
  };
  return measureProgram(
    {
      program: ['node', opts.scenario],
      rounds: 1,
      snapshots: opts.snapshots,
      trackAllocations: opts.trackAllocations,
      forceCapture: opts.forceCapture,
      outDir: opts.outDir,
      log: opts.log,
      signal: opts.signal,
    },
    { runtimeExecutable: opts.nodeExecutable ?? process.execPath, runtimeArgs: [runner, scenario] },
    workload,
  );
}
