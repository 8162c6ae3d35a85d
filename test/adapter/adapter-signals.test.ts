/**
 * The debug adapter when it is stopped from outside: SIGINT, SIGTERM or SIGHUP (exit 128 + the signal number), its
 * client closing the stdio pipe, or its parent dying. Each time the program it launched is stopped with its whole
 * process group, and a snapshot being written leaves no file. The adapter is the compiled out/src/adapter/main.js,
 * spoken to over DAP on its stdio, as an editor does.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { groupMembers, isRunning } from '../helpers/processes';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const adapter = path.join(repoRoot, 'out', 'src', 'adapter', 'main.js');
const fixtures = path.join(repoRoot, 'test', 'vscode', 'fixtures', 'workspace');

/** A minimal DAP client over a process's stdio: requests by seq, events awaited by name. */
class Dap {
  private seq = 1;
  private buffer = Buffer.alloc(0);
  private readonly pending = new Map<number, (r: DebugProtocol.Response) => void>();
  private readonly events: DebugProtocol.Event[] = [];
  private readonly eventWaiters = new Set<() => void>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr = '';

  /** `write` sends to the adapter's stdin; by default the child's stdin pipe. */
  constructor(
    readonly child: ChildProcess,
    private readonly write: (text: string) => void = (text) => void child.stdin!.write(text),
  ) {
    child.stdout!.on('data', (d: Buffer) => this.read(d));
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  private read(data: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, data]);
    for (;;) {
      const head = this.buffer.indexOf('\r\n\r\n');
      if (head < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.subarray(0, head).toString())![1]);
      if (this.buffer.length < head + 4 + length) return;
      const message = JSON.parse(
        this.buffer.subarray(head + 4, head + 4 + length).toString(),
      ) as DebugProtocol.ProtocolMessage;
      this.buffer = this.buffer.subarray(head + 4 + length);
      if (message.type === 'response')
        this.pending.get((message as DebugProtocol.Response).request_seq)?.(message as DebugProtocol.Response);
      else if (message.type === 'event') {
        this.events.push(message as DebugProtocol.Event);
        for (const w of [...this.eventWaiters]) w();
      }
    }
  }

  request(command: string, args?: unknown): Promise<DebugProtocol.Response> {
    const seq = this.seq++;
    const body = JSON.stringify({ seq, type: 'request', command, arguments: args });
    this.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    return new Promise((resolve, reject) => {
      this.pending.set(seq, (r) => (r.success ? resolve(r) : reject(new Error(`${command}: ${r.message}`))));
      void this.exited.then(() => reject(new Error(`the adapter exited before answering ${command}: ${this.stderr}`)));
    });
  }

  event(name: string): Promise<DebugProtocol.Event> {
    return new Promise((resolve) => {
      const check = (): void => {
        const e = this.events.find((x) => x.event === name);
        if (e) {
          this.eventWaiters.delete(check);
          resolve(e);
        }
      };
      this.eventWaiters.add(check);
      check();
    });
  }

  /** initialize, launch, configurationDone; resolves with the launched program's pid. */
  async launch(args: Record<string, unknown>): Promise<number> {
    await this.request('initialize', {
      adapterID: 'leak-lens',
      pathFormat: 'path',
      linesStartAt1: true,
      columnsStartAt1: true,
    });
    await Promise.all([
      this.request('launch', args),
      this.event('initialized').then(() => this.request('configurationDone')),
    ]);
    const info = await this.request('leakLens/targetInfo', {});
    return (info.body as { pid: number }).pid;
  }
}

let dir: string;
let started: ChildProcess[];
let programs: number[];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-lens-dap-signals-'));
  started = [];
  programs = [];
});

afterEach(() => {
  // Whatever a failed test left: it must not outlive the test.
  for (const pgid of programs) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Gone, as it should be.
    }
  }
  for (const child of started) child.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

function startAdapter(): Dap {
  const child = spawn(process.execPath, [adapter], { stdio: ['pipe', 'pipe', 'pipe'] });
  started.push(child);
  return new Dap(child);
}

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const) {
  test(`${signal} to the adapter: exit ${code}, the launched program's process group is stopped`, async () => {
    const dap = startAdapter();
    const pid = await dap.launch({ program: path.join(fixtures, 'leaky-array.js') });
    programs.push(pid);
    assert.ok(groupMembers(pid).length > 0, 'the program runs');
    dap.child.kill(signal);
    const exit = await dap.exited;
    assert.equal(exit.code, code, dap.stderr);
    assert.deepEqual(groupMembers(pid), [], `program ${pid} and its group are stopped`);
    assert.match(dap.stderr, new RegExp(`leak-lens adapter: got ${signal}; stopping what it started`));
  });
}

test('SIGTERM while a snapshot is being written: the half-written file is removed before the adapter exits', async () => {
  const dap = startAdapter();
  const pid = await dap.launch({ program: path.join(fixtures, 'big-heap.js'), env: { BIG_HEAP_MB: '20' } });
  programs.push(pid);
  const file = path.join(dir, 'cut.heapsnapshot');
  const pending = dap.request('leakLens/takeSnapshot', { file });
  pending.catch(() => undefined);
  // The capture streams into a hidden .partial file beside the target; once it has content, V8 is writing.
  const streaming = (): boolean =>
    fs.readdirSync(dir).some((n) => n.endsWith('.partial') && fs.statSync(path.join(dir, n)).size > 0);
  const deadline = Date.now() + 60_000;
  while (!streaming() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(streaming(), 'the snapshot started streaming');
  dap.child.kill('SIGTERM');
  const exit = await dap.exited;
  assert.equal(exit.code, 143, dap.stderr);
  assert.deepEqual(fs.readdirSync(dir), [], 'no snapshot or .partial file is left');
  assert.deepEqual(groupMembers(pid), []);
});

test('the client closes the stdio pipe without disconnecting: the program is stopped and the adapter ends', async () => {
  const dap = startAdapter();
  const pid = await dap.launch({ program: path.join(fixtures, 'leaky-array.js') });
  programs.push(pid);
  dap.child.stdin!.end();
  const exit = await dap.exited;
  assert.equal(exit.code, 0, dap.stderr);
  assert.deepEqual(groupMembers(pid), []);
});

test("the adapter's parent dies while its client is still there: the adapter stops the program and exits", async () => {
  // The adapter reads a FIFO the test holds open, so only the loss of its parent can end it: a shell starts it in
  // the background and is then killed outright. (Node closes a child's stdin pipe when the child exits, which
  // would end the adapter through its input instead.)
  const fifo = path.join(dir, 'dap-in');
  spawnSync('mkfifo', [fifo]);
  const writer = fs.openSync(fifo, 'r+');
  try {
    const shell = spawn(
      'sh',
      ['-c', `"$0" "$@" < "$FIFO" & echo "adapter-pid $!" >&2; wait`, process.execPath, adapter],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, FIFO: fifo },
      },
    );
    started.push(shell);
    const dap = new Dap(shell, (text) => fs.writeSync(writer, text));
    const pid = await dap.launch({ program: path.join(fixtures, 'leaky-array.js') });
    programs.push(pid);
    const adapterPid = Number(/adapter-pid (\d+)/.exec(dap.stderr)![1]);
    const outputClosed = new Promise((resolve) => shell.stdout!.once('close', resolve));
    shell.kill('SIGKILL');
    // The adapter holds the shell's output pipe: it closes when the adapter has ended.
    await outputClosed;
    assert.match(
      dap.stderr,
      /leak-lens adapter: the process that started leak-lens went away; stopping what it started/,
    );
    assert.equal(isRunning(adapterPid), false, 'the adapter has exited');
    assert.deepEqual(groupMembers(pid), [], 'the program is stopped');
  } finally {
    fs.closeSync(writer);
  }
});
