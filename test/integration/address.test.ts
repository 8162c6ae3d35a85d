/**
 * Where a program listens, asked through the inspector (src/capture/address.ts): what Find Leaks shows and passes to
 * its workload as TARGET_URL when the program's output is not seen, and what `leak-lens run` passes to `--action`
 * when the program prints no URL. Real `node --inspect` programs, real servers.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { launchForCapture } from '../../src/capture';
import { repoRoot } from '../helpers/fixtures';

const cli = path.join(repoRoot, 'bin', 'leak-lens.js');

// An HTTP server on every interface and a plain TCP server on loopback, opened in that order; nothing is printed
// but "ready" (no URL, as under a debugger that does not show the program's stdout).
const servers = `
const http = require('http');
const net = require('net');
const web = http.createServer((req, res) => res.end('ok'));
web.listen(0, '0.0.0.0', () => {
  const tcp = net.createServer((s) => s.end());
  tcp.listen(0, '127.0.0.1', () => {
    process.stdout.write('ready ' + web.address().port + ' ' + tcp.address().port + '\\n');
  });
});
`;

void test(
  'listeningAddresses names the HTTP server first with a URL to reach it, then the TCP server, and leaves no global behind',
  { timeout: 30_000 },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-lens-address-'));
    const script = path.join(dir, 'servers.js');
    fs.writeFileSync(script, servers);
    let text = '';
    let onReady: ((m: RegExpExecArray) => void) | undefined;
    const ready = new Promise<RegExpExecArray>((resolve) => (onReady = resolve));
    const { program, session } = await launchForCapture({
      args: [script],
      cwd: dir,
      onStdout: (d) => {
        text += d.toString();
        const m = /^ready (\d+) (\d+)$/m.exec(text);
        if (m) onReady?.(m);
      },
      onStderr: () => undefined,
    });
    try {
      const [, webPort, tcpPort] = await ready;
      const globals = async (): Promise<number> => {
        const r = await session.connection.send('Runtime.evaluate', {
          expression: 'Object.getOwnPropertyNames(globalThis).length',
          returnByValue: true,
        });
        return r.result.value as number;
      };
      const before = await globals();
      const found = await session.listeningAddresses();
      assert.deepEqual(found, [
        { protocol: 'http', host: '127.0.0.1', port: Number(webPort), url: `http://127.0.0.1:${webPort}` },
        { protocol: 'tcp', host: '127.0.0.1', port: Number(tcpPort) },
      ]);
      assert.equal(await globals(), before, 'the lookup defined no global');
      // The URL reaches the server.
      const answer = await fetch(found[0].url!).then((r) => r.text());
      assert.equal(answer, 'ok');
    } finally {
      await session.close();
      await program.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);

void test(
  'leak-lens run passes TARGET_URL to the action from where the program listens when it prints no URL',
  { timeout: 60_000 },
  () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-lens-address-run-'));
    try {
      const app = path.join(dir, 'quiet.js');
      fs.writeFileSync(
        app,
        `require('http').createServer((q, s) => s.end('ok')).listen(0, '127.0.0.1', () => console.log('server ready'));\n`,
      );
      // The action fails unless TARGET_URL is set and answers.
      const check = path.join(dir, 'check.js');
      fs.writeFileSync(
        check,
        `const u = process.env.TARGET_URL; if (!u) process.exit(3); require('http').get(u, (r) => { r.resume(); r.on('end', () => process.exit(r.statusCode === 200 ? 0 : 4)); }).on('error', () => process.exit(5));\n`,
      );
      const r = spawnSync(
        process.execPath,
        [cli, 'run', '--snapshots', '2', '--action', `node ${JSON.stringify(check)}`, '--', 'node', app],
        { encoding: 'utf8', timeout: 50_000 },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /the program printed no URL; TARGET_URL is http:\/\/127\.0\.0\.1:\d+, where it listens/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
