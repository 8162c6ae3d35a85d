/**
 * The sweeper (src/sweeper) with real processes: a stand-in extension host registers a workload's process group and
 * a snapshot in the making, then is killed (SIGKILL: no exit hook runs). The sweeper must stop the whole group and
 * remove the partial files, and exit; what was unregistered (a finished snapshot, a group that was let go) stays.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/fixtures';
import { groupMembers, isRunning, watch } from '../helpers/processes';
import { tempDir } from '../helpers/temp';

const client = path.join(repoRoot, 'out', 'src', 'sweeper', 'client.js');
const script = path.join(repoRoot, 'out', 'src', 'sweeper', 'main.js');

/** The extension host's part: starts two workload groups, registers one (and the snapshot), prints the pids. */
const host = `
const { spawn } = require('child_process');
const { Sweeper } = require(${JSON.stringify(client)});
const [snapshot, kept] = process.argv.slice(1);
const sweeper = new Sweeper(${JSON.stringify(script)}, (m) => console.error(m));
const start = () => spawn('sh', ['-c', 'sleep 60 & exec sleep 60'], { detached: true, stdio: 'ignore' });
const watched = start();
const released = start();
sweeper.watchGroup(watched.pid);
sweeper.watchGroup(released.pid).dispose();
sweeper.watchSnapshot(snapshot);
sweeper.watchSnapshot(kept).dispose();
console.log('ready ' + watched.pid + ' ' + released.pid + ' ' + sweeper.child.pid);
setInterval(() => {}, 1e6);
`;

async function until(check: () => boolean, what: string): Promise<void> {
  // A bound on failure only: the sweeper acts within its 1 s grace once its pipe closes.
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a killed extension host: the sweeper stops the registered group and removes the partial files, nothing else', async (t) => {
  const dir = tempDir(t, 'sweeper');
  const snapshot = path.join(dir, '20261201-000000-pid1.heapsnapshot');
  const kept = path.join(dir, '20261201-000000-pid1-1.heapsnapshot');
  const partials = [
    '.20261201-000000-pid1.heapsnapshot.0a1b2c3d.partial',
    '.20261201-000000-pid1.heapsnapshot.0a1b2c3d.partial.meta',
    '.20261201-000000-pid1.worker2.heapsnapshot.99aa88bb.partial',
  ];
  for (const name of partials) fs.writeFileSync(path.join(dir, name), 'x');
  // Another snapshot's partial (a name that only starts alike) and a finished snapshot stay.
  const others = ['.20261201-000000-pid1-1.heapsnapshot.11223344.partial', '20261201-000000-pid1-1.heapsnapshot'];
  for (const name of others) fs.writeFileSync(path.join(dir, name), 'x');

  const stand = watch(process.execPath, ['-e', host, snapshot, kept]);
  const groups: number[] = [];
  t.after(() => {
    stand.child.kill('SIGKILL');
    for (const g of groups) {
      try {
        process.kill(-g, 'SIGKILL');
      } catch {
        // Gone, as it should be.
      }
    }
  });
  const [, watched, released, sweeperPid] = (await stand.waitFor(/ready (\d+) (\d+) (\d+)/)).map(Number);
  groups.push(watched, released);
  assert.equal(groupMembers(watched).length, 2, 'the watched workload runs with its child');

  stand.child.kill('SIGKILL');
  await stand.exited;
  await until(() => groupMembers(watched).length === 0, `the watched group ${watched} to end`);
  await until(() => !isRunning(sweeperPid), `the sweeper ${sweeperPid} to exit`);
  assert.deepEqual(
    fs.readdirSync(dir).sort(),
    others.sort(),
    'only the partial files of the registered snapshot are removed',
  );
  assert.equal(groupMembers(released).length, 2, 'a group that was let go is left alone');
});
