/**
 * The pieces under the server's markers, on their own: anchoring a reported position to a token (trusted line,
 * re-anchoring by parse, refusing), and mapping report file names to workspace files.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { anchor, AnchorText, AnchorTarget } from '../../server/anchor';
import { WorkspacePaths } from '../../server/workspacePaths';

function at(text: string, file = '/w/a.js'): AnchorText {
  return new AnchorText(file, text);
}

function spanOf(r: ReturnType<typeof anchor>): string {
  if (!r.ok) return `skip: ${r.reason}`;
  return `${r.range.start.line}:${r.range.start.character}-${r.range.end.line}:${r.range.end.character}${r.moved ? ' moved' : ''}`;
}

const decl = (name: string, holder?: string): AnchorTarget => ({ kind: 'declaration', name, holder });

describe('anchor', () => {
  const src = [
    'const list = [];',
    'function add(x) {',
    '  list.push(new a.b.Item(x));',
    '  const t = setInterval (tick, 10);',
    '}',
    'class Store {',
    '  static list = new Map();',
    '}',
    '',
  ].join('\n');

  test('an unchanged file: the token on the reported line, at or after the column', () => {
    assert.equal(spanOf(anchor(at(src), 1, 1, [decl('list')], true)), '0:6-0:10');
    assert.equal(spanOf(anchor(at(src), 3, 3, [{ kind: 'new', name: 'Item' }], true)), '2:12-2:24');
    assert.equal(
      spanOf(anchor(at(src), 4, 1, [{ kind: 'call', names: ['setInterval', 'setTimeout'] }], true)),
      '3:12-3:23',
    );
    // `listing` is not `list`; `$list` neither.
    assert.equal(
      spanOf(anchor(at('const listing = 1, $list = 2, list = 3;'), 1, 1, [decl('list')], true)),
      '0:30-0:34',
    );
  });

  test('a trusted line without the token is searched by name in the whole file', () => {
    assert.equal(spanOf(anchor(at(src), 2, 1, [decl('list')], true)), '0:6-0:10 moved');
    // With a holder, its member wins over a nearer declaration of the same name.
    assert.equal(spanOf(anchor(at(src), 1, 1, [decl('list', 'Store')], false)), '6:9-6:13 moved');
  });

  test('a changed file: the nearest declaration, never a mere use of the name', () => {
    const changed = ['// new header', 'const other = 1;', 'list.push(1);', 'const list = [];'].join('\n');
    assert.equal(spanOf(anchor(at(changed), 3, 1, [decl('list')], false)), '3:6-3:10 moved');
    assert.equal(spanOf(anchor(at(changed), 4, 1, [decl('list')], false)), '3:6-3:10');
    assert.equal(
      spanOf(anchor(at('list.push(1);\n'), 1, 1, [decl('list')], false)),
      'skip: a declaration of `list` is no longer in the file',
    );
  });

  test('the next target is tried when the first is not there', () => {
    const targets: AnchorTarget[] = [{ kind: 'new', name: 'Item' }, decl('make')];
    assert.equal(spanOf(anchor(at('function make() {\n  return {};\n}\n'), 1, 10, targets, true)), '0:9-0:13');
  });

  test('a position without a name: only in an unchanged file, and only where there is code', () => {
    assert.equal(spanOf(anchor(at(src), 2, 10, [], true)), '1:9-1:12');
    assert.equal(
      spanOf(anchor(at(src), 2, 10, [], false)),
      'skip: the file changed since the snapshot and the location has no name to find it by',
    );
    assert.equal(spanOf(anchor(at(src), 40, 1, [], true)), 'skip: line 40 is past the end of the file');
    // V8 puts a class at its constructor's parameter list: the word just before the position is the one.
    assert.equal(spanOf(anchor(at('class A {\n  constructor(req) {}\n}\n'), 2, 14, [], true)), '1:2-1:13');
    // A retainer step: the name if the line shows it, else the token at the position, never a parse.
    assert.equal(spanOf(anchor(at(src), 7, 3, [decl('Store'), { kind: 'position' }], true)), '6:2-6:8');
  });

  test('TypeScript class members and CRLF line ends', () => {
    const ts = [
      'export class UserStore {',
      '  private static readonly cache = new Map<string, number>();',
      '}',
      '',
    ].join('\r\n');
    assert.equal(spanOf(anchor(at(ts, '/w/s.ts'), 2, 11, [decl('cache', 'UserStore')], true)), '1:26-1:31');
    assert.equal(spanOf(anchor(at(ts, '/w/s.ts'), 9, 1, [decl('cache', 'UserStore')], false)), '1:26-1:31 moved');
  });
});

describe('WorkspacePaths', () => {
  const root = '/home/me/project';
  const existing = new Set([`${root}/src/db.js`, `${root}/lib/db.js`, `${root}/src/app/server.js`, '/other/x.js']);
  const paths = (map: Record<string, string> = {}): WorkspacePaths =>
    new WorkspacePaths([root], map, (f) => existing.has(f));

  test('absolute paths and file URLs', () => {
    assert.deepEqual(paths().map(`${root}/src/db.js`), { file: `${root}/src/db.js`, exists: true });
    assert.deepEqual(paths().map(`file://${root}/src/app/server.js`), {
      file: `${root}/src/app/server.js`,
      exists: true,
    });
    assert.deepEqual(paths().map('/other/x.js'), { file: '/other/x.js', exists: true });
    assert.equal(paths().map('node:internal/timers'), undefined);
    assert.equal(paths().map('https://example.com/x.js'), undefined);
  });

  test('a path map, longest prefix first, on whole segments', () => {
    const p = paths({ '/app': root, '/app/src': `${root}/lib` });
    assert.deepEqual(p.map('/app/src/db.js'), { file: `${root}/lib/db.js`, exists: true });
    assert.deepEqual(p.map('/app/src/app/server.js'), { file: `${root}/lib/app/server.js`, exists: false });
    assert.deepEqual(
      p.map('/application/src/db.js')?.file,
      `${root}/src/db.js`,
      'not a prefix on a segment boundary, so found by its tail',
    );
    assert.deepEqual(paths({ 'C:\\srv': root }).map('C:\\srv\\src\\db.js'), {
      file: `${root}/src/db.js`,
      exists: true,
    });
  });

  test('relative paths, and the tail of a path from another machine', () => {
    assert.deepEqual(paths().map('src/db.js'), { file: path.join(root, 'src/db.js'), exists: true });
    const guessed = paths().map('/build/agent/work/src/app/server.js');
    assert.equal(guessed?.file, `${root}/src/app/server.js`);
    assert.match(
      guessed?.guessed ?? '',
      /^by its last 3 path segments; set leakLens\.pathMap to map \/build\/agent\/work explicitly$/,
    );
    // Only a directory and a file name: `db.js` alone matches too much to guess.
    assert.deepEqual(paths().map('/elsewhere/db.js'), { file: '/elsewhere/db.js', exists: false });
    assert.deepEqual(paths().map('/a/b/nothing.js'), { file: '/a/b/nothing.js', exists: false });
  });
});
