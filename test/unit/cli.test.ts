import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { fixture, repoRoot } from '../helpers/fixtures';
import { tempDir } from '../helpers/temp';

const cli = path.join(repoRoot, 'bin', 'leak-lens.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });

test('summary prints the class table; --format json is machine-readable', () => {
  const file = fixture('basic-leak').files[2];
  const text = run('summary', file, '--top', '5');
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /Class\s+Count\s+Shallow\s+Retained/);
  const json = run('summary', file, '--format', 'json', '--top', '500');
  const parsed = JSON.parse(json.stdout) as { classes: { className: string; count: number }[] };
  assert.equal(parsed.classes.find((c) => c.className === 'Connection')?.count, 300);
});

test('analyze exits 1 with leak groups, 0 when clean', () => {
  const leaky = run('analyze', ...fixture('basic-leak').files);
  assert.equal(leaky.status, 1, leaky.stderr);
  assert.match(leaky.stdout, /Connection x200 \(\+100 per round\)/);
  assert.match(
    leaky.stdout,
    /held by _connections \[variable\]\s+test\/fixtures\/apps\/basic-leak\.js:13|held by _connections \[variable\]\s+\S*basic-leak\.js:13/,
  );
  const clean = run('analyze', ...fixture('clean-churn').files, '--format', 'json');
  assert.equal(clean.status, 0, clean.stderr);
  assert.equal(JSON.parse(clean.stdout).verdict, 'clean');
});

test('bad input: one line naming the file and the problem, exit 2', (t) => {
  const dir = tempDir(t, 'cli');
  const truncated = path.join(dir, 't.heapsnapshot');
  const good = fs.readFileSync(fixture('basic-leak').files[0]);
  fs.writeFileSync(truncated, good.subarray(0, 5000));
  for (const [args, pattern] of [
    [
      ['summary', truncated],
      /t\.heapsnapshot: the file ends inside the "nodes" section: the snapshot is truncated.*\(at byte 5000\)/,
    ],
    [['summary', path.join(dir, 'missing.heapsnapshot')], /missing\.heapsnapshot: no such file/],
    [['analyze', fixture('basic-leak').files[0]], /at least two snapshots/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['run', '--snapshots', 'x', '--', 'node', 'x.js'], /--snapshots takes a whole number/],
    [
      ['run', '--ready', 'up (', '--', 'node', 'x.js'],
      /^leak-lens: --ready takes a regular expression, and "up \(" is not one \(.*\); put a \\ before characters such as \( \[ \+ \*$/,
    ],
  ] as const) {
    const r = run(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr.split('\n')[0], pattern);
    assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace');
  }
});

test('a snapshot larger than the memory it may use is refused before anything is allocated', () => {
  const file = fixture('basic-leak').files[0];
  const r = spawnSync(process.execPath, [cli, 'summary', file], {
    encoding: 'utf8',
    env: { ...process.env, LEAK_LENS_MEMORY_LIMIT_MB: '5' },
  });
  assert.equal(r.status, 2);
  assert.match(
    r.stderr,
    /s1\.heapsnapshot: this snapshot \(\d+ objects, \d+ references\) needs about [\d.]+ GB of memory to analyse, and only [\d.]+ GB is available; analyse it on a machine with more memory/,
  );
});

test('run: a program that exits at once, and a failing action, are clear errors with no orphans', (t) => {
  const dir = tempDir(t, 'run');
  const quick = path.join(dir, 'quick.js');
  fs.writeFileSync(quick, 'console.log("bye");\n');
  const r1 = run('run', '--', 'node', quick);
  assert.equal(r1.status, 2);
  // Depending on timing the program is seen to end before the session attaches or right after.
  assert.match(
    r1.stderr,
    /leak-lens: (could not start .*quick\.js: the program exited with code 0 before|the program (ran to the end of its code|exited with code 0) during the run)/,
  );
  const server = path.join(dir, 'server.js');
  fs.writeFileSync(
    server,
    'require("http").createServer((q, s) => s.end("ok")).listen(0, "127.0.0.1", () => console.log("listening"));\n',
  );
  const r2 = run('run', '--action', 'exit 3', '--', 'node', server);
  assert.equal(r2.status, 2);
  assert.match(r2.stderr, /the action "exit 3" failed \(exit code 3\)/);
  const pid = Number(/pid (\d+)/.exec(r2.stderr)?.[1]);
  assert.ok(pid > 0);
  assert.throws(() => process.kill(pid, 0), 'the program was stopped');
});

test('--help and -h print usage on stdout and exit 0, for leak-lens and each command; no command is an error', () => {
  for (const args of [
    ['--help'],
    ['-h'],
    ['help'],
    ['run', '--help'],
    ['run', '-h'],
    ['help', 'run'],
    ['summary', '--help'],
    ['summary', '-h'],
    ['analyze', '--help'],
    ['analyze', '-h'],
    ['test', '--help'],
    ['help', 'test'],
  ]) {
    const r = run(...args);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr, '', `${args.join(' ')} writes nothing on stderr`);
    const command = args.find((a) => a === 'run' || a === 'summary' || a === 'analyze' || a === 'test');
    assert.match(
      r.stdout,
      command ? new RegExp(`^Usage: leak-lens ${command} `) : /^Usage:\n {2}leak-lens summary/,
      args.join(' '),
    );
    assert.match(r.stdout, /Exit status: 0 /);
  }
  // The program's own --help after -- is the program's, not leak-lens's.
  const programHelp = run('run', '--snapshots', 'x', '--', 'node', 'app.js', '--help');
  assert.equal(programHelp.status, 2);
  assert.match(programHelp.stderr, /--snapshots takes a whole number/);
  const none = run();
  assert.equal(none.status, 2);
  assert.match(none.stderr.split('\n')[0], /^leak-lens: no command given; name one \(leak-lens --help lists them\)$/);
  assert.match(run('run', '--help').stdout, /SIGINT, SIGTERM or SIGHUP/);
  assert.match(run('--help').stdout, /^ {2}leak-lens test <scenario\.js\|\.mjs>/m);
  // `test` takes exactly one scenario; a bad number is refused before anything starts.
  const twoScenarios = run('test', 'a.js', 'b.js');
  assert.equal(twoScenarios.status, 2);
  assert.equal(
    twoScenarios.stderr,
    'leak-lens: test takes one scenario file, for example: leak-lens test leak-scenario.js\n',
  );
  assert.match(
    run('test', 'a.js', '--iterations', '0').stderr,
    /^leak-lens: --iterations takes a whole number of at least 1, not "0"\n$/,
  );
});
