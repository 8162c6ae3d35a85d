/**
 * The `leak-lens` command line: the same engine as the editor, for terminals and CI.
 * Exit status: 0 no leak (or success), 1 leaks found, 2 error (with a one-line message on stderr).
 */
import { loadAnalysis } from '../../engine/analysis';
import { CancelledError } from '../../protocol/cancel';
import { SnapshotParseError } from '../../engine/parseErrors';
import { buildLeakReport, InputError } from '../../engine/report';
import { oneLine } from '../../engine/safeRead';
import { summarizeClasses } from '../../engine/summary';
import { formatReport, formatSummary } from './format';
import { holdLifeline, type StopReason } from '../capture/lifeline';
import { measureWithShellAction, RunError, RunInterrupted } from './run';
import { testCommand } from './scenario';
import type { LeakReport } from '../../protocol/report';

const RUN_USAGE = `Usage: leak-lens run [options] -- <program> [args...]

Starts a Node.js program under the inspector, runs the action against it, takes heap snapshots and reports what
leaks. The program is \`node [node options] app.js [args]\` (or \`node -e CODE\`, or a .js file); node's own options
keep their meaning. Launchers (npm start, npx, tsx, ts-node) are refused with the node command to use instead.

Options:
  --action "<shell command>"  run before each snapshot (and once to warm up); TARGET_URL is the program's first URL
                              (or, if it prints none, the address its first HTTP server listens on)
  --rounds N                  actions between two snapshots (default 1)
  --snapshots K               snapshots to take, at least 2 (default 3)
  --track-allocations         record where leaked objects are allocated (slower)
  --force-capture             take snapshots even when one would need more memory than the program has left
                              (by default such a capture is refused: its container or the machine could kill it)
  --sampling                  no snapshot: V8's sampling heap profiler finds the allocation stacks whose live objects
                              grow every round, with no snapshot's memory cost (no retainers, no class names);
                              --snapshots K then counts the profiles taken (default 4: three rounds)
  --sampling-interval BYTES   with --sampling, one allocation sampled per BYTES on average (default 1024); smaller
                              sees smaller leaks
  --ready REGEX               the program's own output line that says it is ready
                              (default: listening|ready|started|running on; the inspector's lines never count)
  --action-timeout SECONDS    stop an action that runs longer (default 120)
  --out DIR                   keep the snapshots in DIR (default: a temporary folder, removed at the end)
  --format text|json          the report's format on stdout (default text)
  -h, --help                  show this help

On SIGINT, SIGTERM or SIGHUP, or when its parent process goes away, run stops the program and the action (with
everything they started), removes its snapshots, and exits with 130, 143 or 129.

Exit status: 0 no leak, 1 leaks found, 2 error, 128+N stopped by signal N.`;

const TEST_USAGE = `Usage: leak-lens test <scenario.js|.mjs> [options]

Runs a scenario module in a fresh Node.js process under the inspector: setup() once, then action() repeated in
rounds (a warm-up round, then one round before each snapshot), then teardown(); reports what the rounds leave behind.
The module exports action (required, may be async), and optionally setup, teardown and iterations (calls per round).

Options:
  --iterations N              calls of action per round (default: the scenario's iterations, else 20)
  --snapshots K               snapshots to take, at least 2 (default 3: a baseline and two rounds)
  --no-track-allocations      do not record where leaked objects are allocated (faster)
  --force-capture             take snapshots even when one would need more memory than the process has left
  --timeout SECONDS           longest a round, setup or teardown may take (default 120)
  --out DIR                   keep the snapshots in DIR (default: a temporary folder, removed at the end)
  --format text|json          the report's format on stdout (default text)
  -h, --help                  show this help

Exit status: 0 no leak, 1 leaks found, 2 error (a missing export, a throwing action: one line on stderr),
128+N stopped by signal N.`;

const SUMMARY_USAGE = `Usage: leak-lens summary <file.heapsnapshot> [--top N] [--format text|json]

Prints the classes of one heap snapshot by retained size: count, shallow and retained size.

Options:
  --top N             rows to print (default 25)
  --format text|json  output format (default text)
  -h, --help          show this help

Exit status: 0 success, 2 error.`;

const ANALYZE_USAGE = `Usage: leak-lens analyze <baseline.heapsnapshot> <next.heapsnapshot>... [--format text|json] [--path-map FROM=TO]

Compares snapshots of one process taken in order and reports the leak groups: what grows, what holds it, and where.

Options:
  --format text|json          output format (default text)
  --path-map FROM=TO[,...]    rewrite file path prefixes (a report from another machine or a container)
  -h, --help                  show this help

Exit status: 0 no leak, 1 leaks found, 2 error.`;

const MCP_USAGE = `Usage: leak-lens mcp

Serves Leak Lens's tools to a coding agent as a Model Context Protocol server on stdin and stdout: list the Node
processes that can be inspected, launch a program or attach to one, take snapshots, find leaks with rounds of a
workload command, summarize or compare snapshots, and show a leak group's retainer path and owner. Answers are plain
text sized for a model's context. Snapshots stay in a temporary folder the server removes when it ends; programs it
launched are stopped when the client disconnects, on SIGINT, SIGTERM or SIGHUP, or when its parent goes away.

Options:
  -h, --help  show this help

Exit status: 0 after the client disconnects, 128+N stopped by signal N.`;

const USAGE = `Usage:
  leak-lens summary <file.heapsnapshot> [--top N] [--format text|json]
  leak-lens analyze <baseline.heapsnapshot> <next.heapsnapshot>... [--format text|json] [--path-map FROM=TO]
  leak-lens run [--rounds N] [--snapshots K] [--action "<shell command>"] [--track-allocations] [--force-capture]
                [--sampling [--sampling-interval BYTES]]
                [--format text|json] [--out DIR] [--ready REGEX] [--action-timeout SECONDS] -- <program> [args...]
  leak-lens test <scenario.js|.mjs> [--iterations N] [--snapshots K] [--no-track-allocations] [--format text|json]
  leak-lens mcp
  leak-lens <command> --help

Exit status: 0 no leak, 1 leaks found, 2 error, 128+N stopped by signal N (run, test).`;

const COMMAND_USAGE: Record<string, string> = {
  run: RUN_USAGE,
  test: TEST_USAGE,
  summary: SUMMARY_USAGE,
  analyze: ANALYZE_USAGE,
  mcp: MCP_USAGE,
};

/** Parsed command-line flags: `--name value`, `--flag`, and positional arguments. */
export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
  rest: string[];
}

const BOOLEAN_FLAGS = new Set([
  'track-allocations',
  'no-track-allocations',
  'force-capture',
  'sampling',
  'help',
  'keep',
]);

export function parseArgs(argv: string[]): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  let rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      rest = argv.slice(i + 1);
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
      if (eq > 0) flags.set(name, arg.slice(eq + 1));
      else if (BOOLEAN_FLAGS.has(name)) flags.set(name, true);
      else {
        const value = argv[i + 1];
        if (value === undefined || value === '--') throw new InputError(`--${name} needs a value`);
        flags.set(name, value);
        i++;
      }
    } else if (arg === '-h') flags.set('help', true);
    else positional.push(arg);
  }
  return { positional, flags, rest };
}

function flagString(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

function flagInt(args: ParsedArgs, name: string, fallback: number, min = 1): number {
  const v = flagString(args, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new InputError(`--${name} takes a whole number of at least ${min}, not "${v}"`);
  return n;
}

function format(args: ParsedArgs): 'text' | 'json' {
  const f = flagString(args, 'format') ?? 'text';
  if (f !== 'text' && f !== 'json') throw new InputError(`--format is text or json, not "${f}"`);
  return f;
}

function pathMap(args: ParsedArgs): Record<string, string> | undefined {
  const v = flagString(args, 'path-map');
  if (!v) return undefined;
  const map: Record<string, string> = {};
  for (const pair of v.split(',')) {
    const [from, to] = pair.split('=');
    if (!from || !to) throw new InputError(`--path-map takes FROM=TO[,FROM=TO...], not "${v}"`);
    map[from] = to;
  }
  return map;
}

/** The words of a `run` command line before `--`, without `run` itself. */
function runOptionsAsTyped(argv: string[]): string[] {
  const before = argv.slice(0, argv.indexOf('--'));
  before.splice(before.indexOf('run'), 1);
  return before;
}

function printReport(report: LeakReport, fmt: 'text' | 'json'): number {
  process.stdout.write(fmt === 'json' ? JSON.stringify(report, null, 2) + '\n' : formatReport(report) + '\n');
  return report.verdict === 'leak' ? 1 : 0;
}

/**
 * Runs a measurement (`run`, `test`) and prints its report. Ctrl-C, a CI timeout or a closed terminal stop the
 * program and everything it started and remove the snapshots; the exit status is then 128+N.
 */
async function measured(
  args: ParsedArgs,
  fmt: 'text' | 'json',
  stopped: string,
  start: (signal: AbortSignal, log: (line: string) => void) => Promise<LeakReport>,
): Promise<number> {
  const abort = new AbortController();
  let finished: Promise<LeakReport> | undefined;
  const log = (line: string) => process.stderr.write(`leak-lens: ${line}\n`);
  const lifeline = holdLifeline({
    log,
    cleanup: async (reason) => {
      abort.abort(reason);
      await finished?.catch(() => undefined);
    },
  });
  try {
    finished = start(abort.signal, log);
    return printReport(await finished, fmt);
  } catch (e) {
    if (e instanceof RunInterrupted) {
      const reason = e.reason as StopReason;
      const out = flagString(args, 'out');
      const kept = out ? `half-written snapshots removed, finished ones kept in ${out}` : 'the snapshots removed';
      log(`stopped (${reason.parentGone ? 'its parent went away' : reason.signal}): ${stopped} and ${kept}`);
      return reason.exitCode;
    }
    throw e;
  } finally {
    lifeline.dispose();
  }
}

/** Runs the command line; resolves to the exit status. Errors are printed here as one line. */
export async function main(argv: string[]): Promise<number> {
  try {
    const args = parseArgs(argv);
    const command = args.positional.shift();
    // Asked for help: usage on stdout, success. `help run` and `run --help` are the same.
    if (command === 'help' || args.flags.has('help')) {
      const about = command === 'help' ? args.positional[0] : command;
      process.stdout.write((about && COMMAND_USAGE[about] ? COMMAND_USAGE[about] : USAGE) + '\n');
      return 0;
    }
    if (!command) {
      process.stderr.write(`leak-lens: no command given; name one (leak-lens --help lists them)\n${USAGE}\n`);
      return 2;
    }
    switch (command) {
      case 'summary': {
        if (args.positional.length !== 1) throw new InputError('summary takes one snapshot file');
        const file = args.positional[0];
        const top = flagInt(args, 'top', 25);
        const fmt = format(args);
        const a = loadAnalysis(file);
        const rows = summarizeClasses(a);
        if (fmt === 'json')
          process.stdout.write(
            JSON.stringify(
              { file, totalSize: a.totalSize, nodeCount: a.snapshot.nodeCount, classes: rows.slice(0, top) },
              null,
              2,
            ) + '\n',
          );
        else process.stdout.write(formatSummary(file, a.totalSize, rows, top) + '\n');
        return 0;
      }
      case 'analyze': {
        const fmt = format(args);
        const report = buildLeakReport(args.positional, { pathMap: pathMap(args) });
        return printReport(report, fmt);
      }
      case 'run': {
        const fmt = format(args);
        if (args.rest.length === 0)
          throw new InputError(
            'run needs the program after --, for example: leak-lens run --action "node load.js" -- node server.js',
          );
        return await measured(args, fmt, 'the program and the action were stopped', (signal, log) =>
          measureWithShellAction({
            program: args.rest,
            commandLine: runOptionsAsTyped(argv),
            signal,
            action: flagString(args, 'action'),
            rounds: flagInt(args, 'rounds', 1),
            // Samples are evidence by chance: the sampling mode looks at one more round by default.
            snapshots: flagInt(args, 'snapshots', args.flags.get('sampling') === true ? 4 : 3, 2),
            trackAllocations: args.flags.get('track-allocations') === true,
            forceCapture: args.flags.get('force-capture') === true,
            ...(args.flags.get('sampling') === true
              ? { sampling: { interval: flagInt(args, 'sampling-interval', 1024, 64) } }
              : {}),
            outDir: flagString(args, 'out'),
            ready: flagString(args, 'ready'),
            actionTimeoutMs: flagInt(args, 'action-timeout', 120) * 1000,
            log,
          }),
        );
      }
      case 'test': {
        const fmt = format(args);
        if (args.positional.length !== 1 || args.rest.length)
          throw new InputError('test takes one scenario file, for example: leak-lens test leak-scenario.js');
        const iterations = args.flags.has('iterations') ? flagInt(args, 'iterations', 1) : undefined;
        const options = {
          scenario: args.positional[0],
          iterations,
          snapshots: flagInt(args, 'snapshots', 3, 2),
          trackAllocations: args.flags.get('no-track-allocations') !== true,
          forceCapture: args.flags.get('force-capture') === true,
          outDir: flagString(args, 'out'),
          callTimeoutMs: flagInt(args, 'timeout', 120) * 1000,
        };
        return await measured(
          args,
          fmt,
          "the scenario's process was stopped with everything it started",
          (signal, log) => testCommand({ ...options, signal, log }),
        );
      }
      case 'mcp': {
        if (args.positional.length > 0 || args.flags.size > 0 || args.rest.length > 0)
          throw new InputError(
            'mcp takes no arguments; an MCP client starts it as `leak-lens mcp` and talks to it on stdin and stdout',
          );
        // Loaded only here: the MCP SDK is needed by this command alone.
        const { serveMcp } = await import('./mcp');
        return await serveMcp();
      }
      default:
        throw new InputError(
          `unknown command ${JSON.stringify(command)}; the commands are summary, analyze, run, test and mcp (leak-lens help shows how to use them)`,
        );
    }
  } catch (e) {
    // Every error is one line of bounded length: messages quote file names and values that may hold anything.
    const say = (message: string) => process.stderr.write(`leak-lens: ${oneLine(message, 600)}\n`);
    if (
      e instanceof SnapshotParseError ||
      e instanceof InputError ||
      e instanceof RunError ||
      e instanceof CancelledError
    ) {
      say(e.message);
      return 2;
    }
    const err = e as NodeJS.ErrnoException;
    if (err && (err.code === 'ERR_OUT_OF_RANGE' || err instanceof RangeError)) {
      say(`not enough memory for this snapshot (${err.message}); run on a machine with more memory`);
      return 2;
    }
    say(err && err.message ? err.message : String(e));
    return 2;
  }
}
