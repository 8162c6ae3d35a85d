/**
 * How `leak-lens run` reads the program after `--` (src/cli/program.ts): node's options are kept in order after the
 * inspector flag, and launchers get the node command line to type instead. The launches themselves are tested with
 * real processes in test/integration/run-forms.test.ts.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { ProgramFormError, resolveProgram, shellQuote } from '../../src/cli/program';

test('node and its options are passed whole, in order; a .js file runs under node', () => {
  for (const program of [
    ['node', 'app.js', '--port', '3000'],
    ['node', '-e', 'setInterval(() => {}, 1000)'],
    ['node', '-p', '1 + 1'],
    ['node', '--require', './x.js', 'app.js'],
    ['node', '--loader', './hook.mjs', 'app.mjs'],
    ['node', '--input-type=module', '-e', 'console.log(1)'],
    ['node', '--max-old-space-size=64', '--expose-gc', '-r', 'x', 'app.js'],
    ['/usr/local/bin/node', '--', 'app.js'],
  ]) {
    assert.deepEqual(
      resolveProgram(program),
      { runtimeExecutable: program[0], runtimeArgs: program.slice(1) },
      program.join(' '),
    );
  }
  assert.deepEqual(resolveProgram(['server.mjs', 'x']), {
    runtimeExecutable: 'node',
    runtimeArgs: ['server.mjs', 'x'],
  });
});

test('node with options but no script or code is refused with an example', () => {
  for (const program of [['node'], ['node', '-r', 'app.js'], ['node', '--import', 'tsx'], ['node', '--']]) {
    assert.throws(
      () => resolveProgram(program, ['--rounds', '2']),
      (e: Error) => {
        assert.ok(e instanceof ProgramFormError);
        assert.match(
          e.message,
          /^no script to run after node: name one, for example: leak-lens run --rounds 2 -- node app\.js$/,
        );
        return true;
      },
    );
  }
});

test('npm, yarn and pnpm scripts are turned into their node command; one that cannot be is named generically', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-lens-program-'));
  try {
    fs.writeFileSync(
      path.join(dir, 'package.json'),
      JSON.stringify({
        scripts: {
          start: 'node server.js',
          dev: 'tsx watch-free.ts --debug',
          both: 'node a.js && node b.js',
          prod: 'NODE_ENV=production PORT=0 node dist/server.js',
          env: 'cross-env DEBUG=x node app.js',
        },
      }),
    );
    const message = (program: string[], typed: string[] = []): string => {
      try {
        resolveProgram(program, typed, dir);
      } catch (e) {
        assert.ok(e instanceof ProgramFormError);
        assert.ok(!e.message.includes('\n'), 'one line');
        return e.message;
      }
      assert.fail(`${program.join(' ')} was accepted`);
    };
    assert.match(
      message(['npm', 'start'], ['--action', 'node load.js']),
      /through npm; start the program with node instead: leak-lens run --action 'node load\.js' -- node server\.js$/,
    );
    assert.match(
      message(['npm', 'run', 'dev', '--', '--port', '0']),
      /instead: leak-lens run -- node --import tsx watch-free\.ts --debug --port 0$/,
    );
    assert.match(message(['yarn', 'dev']), /through yarn; .* -- node --import tsx watch-free\.ts --debug$/);
    assert.match(message(['pnpm', 'run', 'start']), /through pnpm; .* -- node server\.js$/);
    assert.match(
      message(['npm', 'run', 'both']),
      /through npm \(`npm run both` runs `node a\.js && node b\.js`\); give it the node command that starts the program, for example: leak-lens run -- node server\.js$/,
    );
    assert.match(
      message(['npm', 'run', 'prod'], ['--rounds', '2']),
      /instead: NODE_ENV=production PORT=0 leak-lens run --rounds 2 -- node dist\/server\.js$/,
    );
    assert.match(message(['npm', 'run', 'env']), /instead: DEBUG=x leak-lens run -- node app\.js$/);
    assert.match(message(['npx', 'tsx', 'src/app.ts']), /through npx; .* -- node --import tsx src\/app\.ts$/);
    assert.match(
      message(['ts-node', 'src/app.ts']),
      /instead: leak-lens run -- node --require ts-node\/register src\/app\.ts$/,
    );
    assert.match(
      message(['/bin/sleep', '10']),
      /^leak-lens run measures Node\.js programs, and "\/bin\/sleep" is not one/,
    );
    assert.match(
      message(['node', '--inspect-brk', 'app.js']),
      /^--inspect-brk cannot be used under leak-lens run .*leave it out: leak-lens run -- node app\.js$/,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('suggested command lines quote what a shell would split', () => {
  assert.equal(shellQuote('node'), 'node');
  assert.equal(shellQuote('--max-old-space-size=512'), '--max-old-space-size=512');
  assert.equal(shellQuote('node load.js'), `'node load.js'`);
  assert.equal(shellQuote(`it's`), `'it'\\''s'`);
});
