/**
 * No import loop between folders (ARCHITECTURE.md, "Invariants"): every relative import and require of the product's
 * TypeScript (protocol/, engine/, render/, server/, media/src/ and each product under src/) is read from the source,
 * the folders become a graph, and the graph must have no cycle. A loop is named folder by folder, with one import that
 * makes each arrow.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/fixtures';

const ROOTS = ['protocol', 'engine', 'render', 'server', 'media/src', 'src'];

/** The folder a file belongs to: `src/cli`, `media` (for media/src), else its top folder. */
function folderOf(file: string): string | undefined {
  const rel = path.relative(repoRoot, file).split(path.sep);
  if (rel[0] === 'src') return rel.length > 2 ? `src/${rel[1]}` : 'src';
  if (rel[0] === 'media') return rel[1] === 'src' ? 'media' : undefined;
  return ['protocol', 'engine', 'render', 'server'].includes(rel[0]) ? rel[0] : undefined;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(p));
    else if (/\.ts$/.test(entry.name) && !/\.d\.ts$/.test(entry.name)) out.push(p);
  }
  return out;
}

/** folder -> folder it imports -> one `file: specifier` that does it. */
function folderGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  const specifier = /(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)'(\.{1,2}\/[^']*)'/gm;
  for (const root of ROOTS) {
    for (const file of sources(path.join(repoRoot, root))) {
      const from = folderOf(file);
      if (!from) continue;
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(specifier)) {
        const to = folderOf(path.resolve(path.dirname(file), m[1]));
        if (!to || to === from) continue;
        const arrows = graph.get(from) ?? new Map<string, string>();
        graph.set(from, arrows);
        if (!arrows.has(to)) arrows.set(to, `${path.relative(repoRoot, file)}: ${m[1]}`);
      }
    }
  }
  return graph;
}

/** A cycle of folders, as the list of arrows that make it, or undefined. */
function findCycle(graph: Map<string, Map<string, string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    state.set(n, 'open');
    stack.push(n);
    for (const to of graph.get(n)?.keys() ?? []) {
      if (state.get(to) === 'open') {
        const loop = [...stack.slice(stack.indexOf(to)), to];
        return loop.slice(0, -1).map((f, i) => `${f} -> ${loop[i + 1]} (${graph.get(f)!.get(loop[i + 1])})`);
      }
      if (!state.has(to)) {
        const found = visit(to);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of graph.keys()) {
    if (state.has(n)) continue;
    const found = visit(n);
    if (found) return found;
  }
  return undefined;
}

void test('no import loop between folders; protocol/ imports no other folder', () => {
  const graph = folderGraph();
  // The reader sees the imports that matter: the extension reaches the engine's contracts, the engine reaches protocol.
  assert.ok(graph.get('engine')?.has('protocol'), 'the import reader found engine -> protocol');
  assert.ok(graph.get('src/extension')?.has('protocol'), 'the import reader found src/extension -> protocol');
  const cycle = findCycle(graph);
  assert.equal(cycle, undefined, `an import loop: ${cycle?.join('; ')}`);
  assert.deepEqual([...(graph.get('protocol')?.keys() ?? [])], [], 'protocol/ imports another folder');
});

void test('the loop finder names a loop when there is one', () => {
  const graph = new Map([
    ['a', new Map([['b', 'a.ts: ../b']])],
    ['b', new Map([['c', 'b.ts: ../c']])],
    ['c', new Map([['a', 'c.ts: ../a']])],
  ]);
  assert.deepEqual(findCycle(graph), ['a -> b (a.ts: ../b)', 'b -> c (b.ts: ../c)', 'c -> a (c.ts: ../a)']);
  graph.get('c')!.clear();
  assert.equal(findCycle(graph), undefined);
});
