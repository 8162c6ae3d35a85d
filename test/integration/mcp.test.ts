/**
 * `leak-lens mcp` driven by the MCP SDK's own client over stdio, against real processes: the demo server launched
 * under the inspector, real workload rounds with demo/load.js, and the leak and its owner line found through the
 * tools alone. Closing the client (or a SIGTERM) must leave no launched program and no snapshot behind.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { repoRoot } from '../helpers/fixtures';
import { groupMembers, isRunning, watch } from '../helpers/processes';
import { tempDir } from '../helpers/temp';

const cli = path.join(repoRoot, 'bin', 'leak-lens.js');

interface Expected {
  app: string;
  leakClass: string;
  ownerName: string;
  ownerFile: string;
  ownerLine: number;
  allocFile: string;
  allocLine: number;
}
const demo = (JSON.parse(fs.readFileSync(path.join(repoRoot, 'demo', 'expected.json'), 'utf8')) as Expected[]).find(
  (e) => e.app === 'leaky-server',
)!;

/** A client connected to a `leak-lens mcp` started in the repository with its own TMPDIR; its stderr is kept. */
async function connect(
  tmp: string,
): Promise<{ client: Client; transport: StdioClientTransport; stderr: () => string; closed: Promise<void> }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [cli, 'mcp'],
    cwd: repoRoot,
    env: { ...(process.env as Record<string, string>), TMPDIR: tmp },
    stderr: 'pipe',
  });
  let err = '';
  transport.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const client = new Client({ name: 'leak-lens-test', version: '1.0.0' });
  const closed = new Promise<void>((resolve) => (client.onclose = resolve));
  await client.connect(transport);
  return { client, transport, stderr: () => err, closed };
}

/** The text of a tool's answer, and whether it is a tool error. */
async function call(
  client: Client,
  name: string,
  args: Record<string, unknown>,
  timeout = 60_000,
): Promise<{ text: string; isError: boolean }> {
  const result = await client.callTool({ name, arguments: args }, undefined, { timeout, resetTimeoutOnProgress: true });
  const content = result.content as { type: string; text?: string }[];
  return { text: content.map((c) => c.text ?? '').join('\n'), isError: result.isError === true };
}

/** Files and folders anywhere under `dir`. */
function everythingIn(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true }).map(String);
}

test('an MCP client finds the demo leak and its owner line through the tools, and closing leaves nothing behind', async (t) => {
  const tmp = tempDir(t, 'mcp');
  const { client, transport, stderr, closed } = await connect(tmp);
  let programPid: number | undefined;
  t.after(() => {
    // Only if the test failed before checking: nothing it started may outlive it.
    if (programPid !== undefined && groupMembers(programPid).length) process.kill(-programPid, 'SIGKILL');
  });
  try {
    const { tools } = await client.listTools();
    const names = tools.map((tool) => tool.name).sort();
    assert.deepEqual(names, [
      'attach',
      'compare_snapshots',
      'find_leaks',
      'launch_program',
      'list_node_processes',
      'read_report',
      'retainer_path',
      'stop_target',
      'summarize_snapshot',
      'take_snapshot',
    ]);
    const findLeaks = tools.find((tool) => tool.name === 'find_leaks')!;
    assert.deepEqual(
      findLeaks.inputSchema.required?.sort(),
      ['target', 'workload'],
      'find_leaks needs a target and a workload',
    );

    const launched = await call(client, 'launch_program', { command: ['node', 'demo/leaky-server.js'] });
    assert.equal(launched.isError, false, launched.text);
    const m = /Target (t\d+): launched .* \(pid (\d+)\)/.exec(launched.text);
    assert.ok(m, launched.text);
    const [, target, pid] = m;
    programPid = Number(pid);
    assert.ok(isRunning(programPid), 'the demo server runs');
    assert.match(launched.text, /TARGET_URL=http:\/\/127\.0\.0\.1:\d+/);

    const listed = await call(client, 'list_node_processes', {});
    assert.equal(listed.isError, false, listed.text);
    assert.match(
      listed.text,
      new RegExp(`pid ${programPid}  port \\d+  .*leaky-server\\.js`),
      'the launched program is listed as inspectable',
    );

    const found = await call(client, 'find_leaks', { target, workload: 'node demo/load.js' }, 300_000);
    assert.equal(found.isError, false, `${found.text}\n${stderr()}`);
    assert.match(found.text, new RegExp(`^1\\. ${demo.leakClass} x\\d+ \\(\\+\\d+ per round\\)`, 'm'), found.text);
    assert.match(
      found.text,
      new RegExp(`held by ${demo.ownerName} \\[variable\\]  ${demo.ownerFile}:${demo.ownerLine}$`, 'm'),
      found.text,
    );
    assert.ok(found.text.length < 12_000, `an answer sized for a model's context (${found.text.length} characters)`);
    const ids = /Snapshots (s\d+(?:, s\d+)*) \(baseline first\)/.exec(found.text)?.[1].split(', ');
    assert.deepEqual(ids?.length, 3, found.text);
    assert.equal(
      everythingIn(tmp).filter((f) => f.endsWith('.heapsnapshot')).length,
      3,
      'the snapshots stay on disk while the server runs',
    );

    const retainers = await call(client, 'retainer_path', { className: demo.leakClass });
    assert.equal(retainers.isError, false, retainers.text);
    assert.match(
      retainers.text,
      new RegExp(`held by ${demo.ownerName} \\[variable\\]  ${demo.ownerFile}:${demo.ownerLine}$`, 'm'),
    );
    assert.match(
      retainers.text,
      new RegExp(
        `^ {5}${demo.ownerName} -> Array   <- owner\n {5}\\[\\d+\\] -> ${demo.leakClass} \\(demo/leaky-server\\.js:\\d+\\)$`,
        'm',
      ),
      retainers.text,
    );
    assert.match(
      retainers.text,
      /^ {3}retainer path:\n {5}\(GC roots\)$/m,
      'the whole path is shown, from the GC roots',
    );
    assert.doesNotMatch(retainers.text, /steps from the GC roots/, 'no step is left out');

    // One object of the group, by the id the report gives: its own path and owner, in the last snapshot.
    const objectId = Number(/object ids in the last snapshot: @(\d+)/.exec(retainers.text)?.[1]);
    assert.ok(objectId > 0, retainers.text);
    const one = await call(client, 'retainer_path', { objectId });
    assert.equal(one.isError, false, one.text);
    assert.match(one.text, new RegExp(`^Object @${objectId} in ${ids![2]}: ${demo.leakClass}, `));
    assert.match(
      one.text,
      new RegExp(`held by ${demo.ownerName} \\[variable\\]  ${demo.ownerFile}:${demo.ownerLine}$`, 'm'),
      one.text,
    );
    assert.match(
      one.text,
      new RegExp(`${demo.ownerName} -> Array   <- owner\\n {5}\\[\\d+\\] -> ${demo.leakClass} `),
      one.text,
    );
    const noObject = await call(client, 'retainer_path', { objectId: 999_999_999, snapshot: ids![0] });
    assert.equal(noObject.isError, true, noObject.text);
    assert.match(noObject.text, new RegExp(`^retainer_path: snapshot ${ids![0]} has no object @999999999;`));

    const summary = await call(client, 'summarize_snapshot', { snapshot: ids![2], top: 5 });
    assert.equal(summary.isError, false, summary.text);
    assert.equal(
      summary.text.split('\n').length,
      2 + 1 + 5,
      `a header, the column names and 5 classes:\n${summary.text}`,
    );

    // Bad input: one line, a tool error, and the server goes on.
    const unknownClass = await call(client, 'retainer_path', { className: 'NoSuchClass' });
    assert.equal(unknownClass.isError, true);
    assert.match(
      unknownClass.text,
      new RegExp(`^retainer_path: no leak group of class "NoSuchClass" .*its groups are: .*${demo.leakClass}`),
    );
    assert.equal(unknownClass.text.split('\n').length, 1);
    const noTarget = await call(client, 'take_snapshot', { target: 't99' });
    assert.deepEqual(noTarget, { isError: true, text: `take_snapshot: no target "t99"; the targets are ${target}` });
    const badRounds = await call(client, 'find_leaks', { target, workload: 'true', rounds: 0 });
    assert.equal(badRounds.isError, true, badRounds.text);
    assert.match(badRounds.text, /rounds/);
    const badWorkload = await call(client, 'find_leaks', { target, workload: 'exit 3', snapshots: 2 });
    assert.equal(badWorkload.isError, true);
    assert.match(badWorkload.text, /^find_leaks: the action "exit 3" failed \(exit code 3\)/);
    const report = await call(client, 'read_report', { top: 1 });
    assert.equal(report.isError, false);
    assert.match(
      report.text,
      new RegExp(`held by ${demo.ownerName} \\[variable\\]  ${demo.ownerFile}:${demo.ownerLine}`),
    );
    assert.ok(isRunning(programPid), 'the target survives a failed workload');

    // Without snapshots: the sampling mode finds the same leak by its allocation stack, and says what it cannot tell.
    const before = everythingIn(tmp).filter((f) => f.endsWith('.heapsnapshot')).length;
    const sampled = await call(
      client,
      'find_leaks',
      { target, workload: 'node demo/load.js', snapshots: 4, sampling: true },
      300_000,
    );
    assert.equal(sampled.isError, false, `${sampled.text}\n${stderr()}`);
    assert.match(
      sampled.text,
      /^1\. allocated in accept\(\) {2}demo\/leaky-server\.js:32 \(new Connection\)$/m,
      sampled.text,
    );
    assert.match(sampled.text, /cannot tell what holds these objects/);
    assert.equal(everythingIn(tmp).filter((f) => f.endsWith('.heapsnapshot')).length, before, 'no snapshot was taken');
  } finally {
    await client.close();
    await closed;
  }
  assert.equal(transport.pid, null, 'the transport has let go of the server');
  assert.deepEqual(groupMembers(programPid!), [], `the demo server's process group is gone\n${stderr()}`);
  assert.deepEqual(everythingIn(tmp), [], 'the server removed its snapshot folder');
  assert.match(stderr(), /the client disconnected; stopping what this server started/);
});

test('SIGTERM stops the server and every program it launched, and removes its folder', async (t) => {
  const tmp = tempDir(t, 'mcp-term');
  const { client, transport, stderr, closed } = await connect(tmp);
  const serverPid = transport.pid!;
  let programPid: number | undefined;
  t.after(() => {
    if (programPid !== undefined && groupMembers(programPid).length) process.kill(-programPid, 'SIGKILL');
  });
  try {
    const launched = await call(client, 'launch_program', { command: ['node', 'demo/leaky-server.js'] });
    programPid = Number(/\(pid (\d+)\)/.exec(launched.text)?.[1]);
    assert.ok(isRunning(programPid), launched.text);
    const snap = await call(client, 'take_snapshot', { target: 't1' });
    assert.equal(snap.isError, false, snap.text);
    assert.equal(everythingIn(tmp).filter((f) => f.endsWith('.heapsnapshot')).length, 1);
    process.kill(serverPid, 'SIGTERM');
    await closed;
  } finally {
    await client.close();
  }
  assert.equal(isRunning(serverPid), false, 'the server has exited');
  assert.deepEqual(groupMembers(programPid), [], `the launched program's group is gone\n${stderr()}`);
  assert.deepEqual(everythingIn(tmp), [], 'the snapshot folder is removed');
  assert.match(stderr(), /got SIGTERM; stopping what it started/);
});

test('attach by port to a program started with --inspect: its leak is found, and closing only detaches', async (t) => {
  const tmp = tempDir(t, 'mcp-attach');
  // The program is the test's own, started as a person would, in a process group of its own.
  const program = watch(process.execPath, ['--inspect=127.0.0.1:0', 'demo/leaky-server.js'], {
    cwd: repoRoot,
    detached: true,
  });
  const pgid = program.child.pid!;
  t.after(async () => {
    if (groupMembers(pgid).length) process.kill(-pgid, 'SIGKILL');
    await program.exited;
  });
  const port = Number((await program.waitFor(/Debugger listening on ws:\/\/127\.0\.0\.1:(\d+)\//))[1]);
  const url = (await program.waitFor(/^listening on (http:\/\/\S+)/m))[1];
  const { client, closed, stderr } = await connect(tmp);
  try {
    const listed = await call(client, 'list_node_processes', {});
    assert.match(listed.text, new RegExp(`pid ${pgid}  port ${port}  `), listed.text);
    const attached = await call(client, 'attach', { port, targetUrl: url });
    assert.equal(attached.isError, false, attached.text);
    assert.match(
      attached.text,
      new RegExp(`^Target t1: attached to 127\\.0\\.0\\.1:${port} \\(pid ${pgid}, Node v\\d+`),
    );
    const found = await call(
      client,
      'find_leaks',
      { target: 't1', workload: 'node demo/load.js', snapshots: 2 },
      300_000,
    );
    assert.equal(found.isError, false, `${found.text}\n${stderr()}`);
    assert.match(
      found.text,
      new RegExp(`held by ${demo.ownerName} \\[variable\\]  ${demo.ownerFile}:${demo.ownerLine}$`, 'm'),
      found.text,
    );
  } finally {
    await client.close();
    await closed;
  }
  assert.ok(isRunning(pgid), 'a program the server attached to keeps running after the client disconnects');
  assert.deepEqual(everythingIn(tmp), [], 'the server removed its snapshot folder');
  process.kill(-pgid, 'SIGTERM');
  await program.exited;
});
