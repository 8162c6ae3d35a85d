/**
 * What `leak-lens run -- <program...>` starts: a Node executable with its own options kept in order (the inspector
 * flag goes right after the executable), or a Node script. Launchers (npm, npx, yarn, pnpm, tsx, ts-node, nodemon)
 * are refused with the exact `node` command line to use instead: a launcher that is itself a Node process would
 * take the inspector, or hand it down to every Node process it starts, and the one to measure could not be told
 * apart.
 */
import * as fs from 'fs';
import * as path from 'path';

/** The Node executable and everything after it, to start as `<runtimeExecutable> --inspect=... <runtimeArgs>`. */
export interface ProgramCommand {
  runtimeExecutable: string;
  runtimeArgs: string[];
}

/** A program that cannot be measured as written; the message is one line and says what to type instead. */
export class ProgramFormError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProgramFormError';
  }
}

/** Node options (v20 and later) whose value may be the next argument, so it is not mistaken for the script. */
const valueOptions = new Set([
  '-r',
  '--require',
  '--import',
  '--loader',
  '--experimental-loader',
  '--input-type',
  '-C',
  '--conditions',
  '--env-file',
  '--title',
  '--redirect-warnings',
  '--disable-warning',
  '--diagnostic-dir',
  '--report-dir',
  '--report-directory',
  '--report-filename',
  '--report-signal',
  '--icu-data-dir',
  '--openssl-config',
  '--secure-heap',
  '--secure-heap-min',
  '--heapsnapshot-signal',
  '--heapsnapshot-near-heap-limit',
  '--dns-result-order',
  '--unhandled-rejections',
  '--experimental-policy',
  '--policy-integrity',
  '--tls-cipher-list',
  '--tls-keylog',
  '--watch-path',
  '--cpu-prof-dir',
  '--cpu-prof-name',
  '--cpu-prof-interval',
  '--heap-prof-dir',
  '--heap-prof-name',
  '--heap-prof-interval',
  '--trace-event-categories',
  '--trace-event-file-pattern',
  '--experimental-default-type',
  '--max-http-header-size',
  '--inspect-port',
  '--debug-port',
  '--stack-size',
  '--max-old-space-size',
  '--max-semi-space-size',
  '--snapshot-blob',
]);
const evalOptions = new Set(['-e', '--eval', '-p', '--print', '-pe', '-ep']);
/** Options that would stop the program before its code runs, or run it in a child the inspector cannot see. */
const refusedOptions = new Set(['--inspect-brk', '--inspect-wait', '--watch', '--test']);

function isNodeExecutable(file: string): boolean {
  return /(^|[\\/])node(js)?(\.exe)?$/i.test(file);
}

/** True for a file that starts with a `#!...node` line (an executable Node script). */
function isNodeScript(file: string): boolean {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const head = Buffer.alloc(128);
      const n = fs.readSync(fd, head, 0, head.length, 0);
      return /^#!.*\bnode\b/.test(head.subarray(0, n).toString('latin1').split('\n')[0]);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** Quotes an argument for a POSIX shell when it needs it. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** What node is asked to run: a script, code from -e/-p, or nothing (it would wait for a REPL). */
function nodeEntry(args: string[]): 'script' | 'eval' | 'none' {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') return i + 1 < args.length ? 'script' : 'none';
    if (!arg.startsWith('-') || arg === '-') return 'script';
    const name = arg.split('=')[0];
    if (evalOptions.has(name)) return 'eval';
    if (!arg.includes('=') && valueOptions.has(arg)) i++;
  }
  return 'none';
}

/**
 * Turns the words after `--` into a Node command line, or throws {@link ProgramFormError} whose message gives the
 * command to type instead. `leakLensArgs` are the `run` options the user gave (before `--`), to repeat them there.
 */
export function resolveProgram(program: string[], leakLensArgs: string[] = [], cwd = process.cwd()): ProgramCommand {
  const first = program[0];
  // A suggestion may start with VAR=value words (from a package.json script): they go before the command.
  const instead = (words: string[]): string => {
    const env = words.slice(
      0,
      words.findIndex((w) => !/^[A-Za-z_]\w*=/.test(w)),
    );
    return [...env, ...['leak-lens', 'run', ...leakLensArgs, '--', ...words.slice(env.length)].map(shellQuote)].join(
      ' ',
    );
  };
  if (isNodeExecutable(first)) {
    const runtimeArgs = program.slice(1);
    for (const arg of runtimeArgs) {
      if (arg === '--' || !arg.startsWith('-')) break;
      const name = arg.split('=')[0];
      if (refusedOptions.has(name)) {
        const rest = runtimeArgs.filter((a) => a.split('=')[0] !== name);
        throw new ProgramFormError(
          `${name} cannot be used under leak-lens run (it opens the inspector itself and measures one process); leave it out: ${instead([first, ...rest])}`,
        );
      }
    }
    if (nodeEntry(runtimeArgs) === 'none') {
      throw new ProgramFormError(
        `no script to run after ${first}: name one, for example: ${instead([first, 'app.js'])}`,
      );
    }
    return { runtimeExecutable: first, runtimeArgs };
  }
  if (/\.(c|m)?js$/.test(first) || isNodeScript(first)) return { runtimeExecutable: 'node', runtimeArgs: program };
  const launcher = path.basename(first).replace(/\.(cmd|exe)$/i, '');
  const suggestion = launcherReplacement(launcher, program.slice(1), cwd);
  if (suggestion) {
    throw new ProgramFormError(
      `leak-lens run starts Node itself and cannot measure through ${launcher}; start the program with node instead: ${instead(suggestion)}`,
    );
  }
  if (['npm', 'pnpm', 'yarn', 'npx', 'bunx'].includes(launcher)) {
    const script = scriptOf(launcher, program.slice(1), cwd);
    const runs = script ? ` (\`${program.join(' ')}\` runs \`${script.replace(/\s+/g, ' ')}\`)` : '';
    throw new ProgramFormError(
      `leak-lens run starts Node itself and cannot measure through ${launcher}${runs}; give it the node command that starts the program, for example: ${instead(['node', 'server.js'])}`,
    );
  }
  throw new ProgramFormError(
    `leak-lens run measures Node.js programs, and "${first}" is not one: start it as \`-- node app.js\` (or name a .js file)`,
  );
}

/** The `node ...` command line a launcher invocation stands for, when it can be worked out. */
function launcherReplacement(launcher: string, args: string[], cwd: string): string[] | undefined {
  switch (launcher) {
    case 'tsx':
      // tsx's loader registers into node itself with --import (Node 20.6 and later).
      return ['node', '--import', 'tsx', ...args];
    case 'ts-node':
      return ['node', '--require', 'ts-node/register', ...args];
    case 'ts-node-esm':
      return ['node', '--loader', 'ts-node/esm', ...args];
    case 'nodemon':
    case 'node-dev':
      return ['node', ...args];
    case 'npx':
    case 'bunx': {
      const words = args.filter((a) => !a.startsWith('-'));
      if (!words.length) return undefined;
      const rest = args.slice(args.indexOf(words[0]) + 1);
      // `npx tsx app.ts` is tsx: its own CLI would only start another node.
      return launcherReplacement(words[0], rest, cwd) ?? binCommand(words[0], rest, cwd);
    }
    case 'npm':
    case 'pnpm':
    case 'yarn': {
      const named = scriptName(launcher, args);
      return named && scriptCommand(named.name, named.rest, cwd);
    }
    default:
      return undefined;
  }
}

/** The script an `npm start`, `npm run NAME`, `npm run-script NAME`, `yarn NAME` or `pnpm NAME` invocation names. */
function scriptName(launcher: string, args: string[]): { name: string; rest: string[] } | undefined {
  let name: string | undefined;
  let rest: string[] = [];
  if (args[0] === 'start' || args[0] === 'test') [name, rest] = [args[0], args.slice(1)];
  else if (args[0] === 'run' || args[0] === 'run-script') [name, rest] = [args[1], args.slice(2)];
  else if (launcher !== 'npm' && args[0]) [name, rest] = [args[0], args.slice(1)];
  if (!name) return undefined;
  return { name, rest: rest[0] === '--' ? rest.slice(1) : rest };
}

/** The text of the package.json script a launcher invocation runs (npm's default `start` included). */
function scriptOf(launcher: string, args: string[], cwd: string): string | undefined {
  const named = scriptName(launcher, args);
  if (!named) return undefined;
  try {
    const script = (
      JSON.parse(fs.readFileSync(path.join(cwd, 'package.json'), 'utf8')) as { scripts?: Record<string, unknown> }
    ).scripts?.[named.name];
    if (typeof script === 'string') return script;
  } catch {
    // No package.json, or not JSON: nothing to read.
  }
  return named.name === 'start' && fs.existsSync(path.join(cwd, 'server.js')) ? 'node server.js' : undefined;
}

/**
 * The node command of a package.json script, when it is one plain `node ...` (or tsx, ts-node) command, after any
 * `VAR=value` assignments (kept in front) or `cross-env`.
 */
function scriptCommand(name: string, extra: string[], cwd: string): string[] | undefined {
  const script = scriptOf('npm', name === 'start' || name === 'test' ? [name] : ['run', name], cwd);
  // Only a single command without shell syntax can be turned into arguments faithfully.
  if (script === undefined || /[|&;<>()$`\\"'*?\n]/.test(script)) return undefined;
  const words = script.trim().split(/\s+/);
  const env: string[] = [];
  while (words.length && (/^[A-Za-z_]\w*=/.test(words[0]) || words[0] === 'cross-env')) {
    const word = words.shift()!;
    if (word !== 'cross-env') env.push(word);
  }
  if (!words.length) return undefined;
  const node = isNodeExecutable(words[0])
    ? [...words, ...extra]
    : (launcherReplacement(words[0], [...words.slice(1), ...extra], cwd) ??
      (/\.(c|m)?js$/.test(words[0]) ? ['node', ...words, ...extra] : undefined));
  return node && [...env, ...node];
}

/** `npx NAME args`: the JavaScript file behind node_modules/.bin/NAME, run with node. */
function binCommand(name: string, args: string[], cwd: string): string[] | undefined {
  for (let dir = cwd; ; dir = path.dirname(dir)) {
    const bin = path.join(dir, 'node_modules', '.bin', name);
    try {
      const target = fs.realpathSync(bin);
      if (/\.(c|m)?js$/.test(target) || isNodeScript(target))
        return ['node', path.relative(cwd, target) || target, ...args];
      return undefined;
    } catch {
      if (path.dirname(dir) === dir) return undefined;
    }
  }
}
