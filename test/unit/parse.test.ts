import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test, type TestContext } from 'node:test';
import { parseSnapshotFile } from '../../engine/parse';
import { SnapshotParseError } from '../../engine/parseErrors';
import { HeapSnapshot } from '../../engine/snapshot';
import { fixture } from '../helpers/fixtures';
import { tempDir } from '../helpers/temp';

interface JsonSnapshot {
  snapshot: { meta: { node_fields: string[]; edge_fields: string[] } };
  nodes: number[];
  edges: number[];
  strings: string[];
  locations: number[];
}

test('the streaming parser reads exactly what JSON.parse reads, across any chunk boundary', () => {
  const file = fixture('basic-leak', { track: true }).files[2];
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as JsonSnapshot;
  const nf = json.snapshot.meta.node_fields.length;
  const ef = json.snapshot.meta.edge_fields.length;
  for (const chunkSize of [4093, 1 << 20]) {
    const raw = parseSnapshotFile(file, { chunkSize });
    assert.equal(raw.nodeCount * nf, json.nodes.length);
    assert.equal(raw.edgeCount * ef, json.edges.length);
    for (let i = 0; i < raw.nodeCount; i++) {
      const o = i * nf;
      if (
        raw.nodeType[i] !== json.nodes[o] ||
        raw.nodeName[i] !== json.nodes[o + 1] ||
        raw.nodeId[i] !== json.nodes[o + 2] ||
        raw.nodeSelfSize[i] !== json.nodes[o + 3] ||
        raw.firstEdge[i + 1] - raw.firstEdge[i] !== json.nodes[o + 4]
      ) {
        assert.fail(`node ${i} differs with chunk size ${chunkSize}`);
      }
    }
    for (let e = 0; e < raw.edgeCount; e++) {
      const o = e * ef;
      if (
        raw.edgeType[e] !== json.edges[o] ||
        raw.edgeName[e] !== json.edges[o + 1] ||
        raw.edgeTo[e] * nf !== json.edges[o + 2]
      )
        assert.fail(`edge ${e} differs`);
    }
    assert.equal(raw.strings.length, json.strings.length);
    for (let i = 0; i < json.strings.length; i++)
      if (raw.strings.get(i) !== json.strings[i])
        assert.fail(`string ${i} differs: ${JSON.stringify(json.strings[i]).slice(0, 80)}`);
    assert.equal(raw.locations.length, json.locations.length);
    assert.ok(raw.traceTree && raw.traceTree.count > 1, 'allocation trace tree parsed');
    assert.ok(raw.traceFunctionInfos.length > 0);
  }
});

test('a parallel parse (edges and the retainer index on a second thread, the fill shared) equals a one-thread parse', () => {
  const file = fixture('basic-leak', { track: true }).files[2];
  const one = new HeapSnapshot(parseSnapshotFile(file, { parallel: false }));
  for (const chunkSize of [4093, 1 << 20]) {
    const raw = parseSnapshotFile(file, { parallel: true, chunkSize });
    assert.ok(raw.retainers, 'the second thread built the retainer index');
    const two = new HeapSnapshot(raw);
    for (const column of [
      'nodeType',
      'nodeName',
      'nodeId',
      'nodeSelfSize',
      'firstEdge',
      'edgeType',
      'edgeName',
      'edgeTo',
      'firstRetainer',
      'retainerEdge',
      'retainerNode',
    ] as const) {
      assert.deepEqual(two[column], one[column], `${column} with chunk size ${chunkSize}`);
    }
  }
});

function badFile(t: TestContext, name: string, content: string | Buffer): string {
  const dir = tempDir(t, 'bad');
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

function parseError(file: string): SnapshotParseError {
  try {
    parseSnapshotFile(file);
  } catch (e) {
    assert.ok(e instanceof SnapshotParseError, `expected a SnapshotParseError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'), 'one line');
    assert.ok(e.message.startsWith(file), 'names the file');
    return e;
  }
  assert.fail('no error');
}

test('a truncated snapshot is reported with the byte offset where it ends', (t) => {
  const good = fs.readFileSync(fixture('basic-leak').files[0]);
  for (const cut of [10, Math.floor(good.length / 3), good.length - 3]) {
    const e = parseError(badFile(t, 'cut.heapsnapshot', good.subarray(0, cut)));
    assert.match(e.message, /truncated/);
    assert.equal(e.offset, cut);
  }
});

test('random bytes, other JSON, and empty files are not snapshots', (t) => {
  assert.match(
    parseError(badFile(t, 'random.heapsnapshot', Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]))).message,
    /not a V8 heap snapshot: expected '\{'/,
  );
  assert.match(
    parseError(badFile(t, 'other.json', '{"name":"x","version":"1.0.0"}')).message,
    /not a V8 heap snapshot/,
  );
  assert.match(parseError(badFile(t, 'empty.heapsnapshot', '')).message, /empty/);
  assert.match(parseError(path.join(os.tmpdir(), 'no-such-file.heapsnapshot')).message, /no such file/);
});

test('corrupt sections are named with their offset', (t) => {
  const good = fs.readFileSync(fixture('basic-leak').files[0], 'latin1');
  const edgesAt = good.indexOf('"edges":[') + 9;
  // An edge that points into the middle of a node row.
  const corrupt = good.slice(0, edgesAt) + '1,2,3,' + good.slice(edgesAt);
  const e = parseError(badFile(t, 'corrupt.heapsnapshot', Buffer.from(corrupt, 'latin1')));
  assert.match(e.message, /edge|edges/);
  const garbage = good.slice(0, edgesAt) + 'x' + good.slice(edgesAt);
  assert.match(
    parseError(badFile(t, 'garbage.heapsnapshot', Buffer.from(garbage, 'latin1'))).message,
    /unexpected 'x' in the "edges" section/,
  );
});

test('unknown node types and extra sections are tolerated', (t) => {
  const good = fs.readFileSync(fixture('basic-leak').files[0], 'latin1');
  // A newer V8 may add node types and sections: add both and parse.
  const withType = good
    .replace('"wasm object"]', '"wasm object","future type"]')
    .replace('"strings":[', '"scopes":[[1,2,{"a":"]"}]],\n"strings":[');
  const raw = parseSnapshotFile(badFile(t, 'newer.heapsnapshot', Buffer.from(withType, 'latin1')));
  assert.ok(raw.sections.includes('scopes'));
  assert.ok(raw.nodeCount > 1000);
});
