import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { test, type TestContext } from 'node:test';
import { SourceResolver } from '../../engine/source';
import { tempDir } from '../helpers/temp';

function workspace(t: TestContext, files: Record<string, string>): string {
  const dir = tempDir(t, 'src');
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

test('declarations are found in JS and TS, in the scope that holds them', (t) => {
  const dir = workspace(t, {
    'a.js': `'use strict';\nconst cache = new Map();\nfunction handler() {\n  const cache = [];\n  return () => cache;\n}\nclass Store {\n  static entries = new Map();\n  constructor() {\n    this.items = [];\n  }\n}\n`,
  });
  const r = new SourceResolver();
  const file = path.join(dir, 'a.js');
  assert.equal(r.findOwnerDeclaration(file, 'variable', 'cache', undefined)?.line, 2);
  assert.equal(
    r.findOwnerDeclaration(file, 'variable', 'cache', undefined, { file, line: 5, column: 10 })?.line,
    4,
    'the inner scope wins near it',
  );
  assert.equal(r.findOwnerDeclaration(file, 'static-property', 'entries', 'Store')?.line, 8);
  assert.equal(r.findOwnerDeclaration(file, 'property', 'items', 'Store')?.line, 10);
  // A closure's context is the scope around it: a closure starting at the class constructor must not select the
  // constructor's own parameter named like the variable.
  const mod = path.join(dir, 'mod.js');
  fs.writeFileSync(
    mod,
    `class Conn {\n  constructor(pool) {\n    this.pool = pool;\n  }\n}\nconst pool = new Map();\nsetInterval(() => pool.size, 1000);\n`,
  );
  assert.equal(r.findOwnerDeclaration(mod, 'variable', 'pool', undefined, { file: mod, line: 2, column: 3 })?.line, 6);
  assert.equal(r.findOwnerDeclaration(mod, 'variable', 'pool', undefined, { file: mod, line: 7, column: 13 })?.line, 6);
  assert.equal(
    r.findOwnerDeclaration(pathToFileURL(file).href, 'variable', 'cache', undefined)?.file,
    file,
    'file URLs are paths',
  );
});

test('a missing or broken source map falls back to the generated file, with one warning', (t) => {
  const dir = workspace(t, {
    'missing.js': 'const x = [];\n//# sourceMappingURL=missing.js.map\n',
    'broken.js': 'const y = [];\n//# sourceMappingURL=broken.js.map\n',
    'broken.js.map': '{ this is not json',
  });
  const warnings: string[] = [];
  const r = new SourceResolver({ warn: (m) => warnings.push(m) });
  for (const name of ['missing.js', 'broken.js']) {
    const file = path.join(dir, name);
    assert.deepEqual(r.resolve({ file, line: 1, column: 7 }), { file, line: 1, column: 7 });
    assert.deepEqual(r.resolve({ file, line: 1, column: 7 }), { file, line: 1, column: 7 });
  }
  assert.equal(warnings.length, 2, warnings.join('\n'));
  assert.match(warnings[0], /source map of .*missing\.js could not be read .*showing the generated file/);
});

test('paths from another machine are mapped; internal scripts have no file', (t) => {
  const dir = workspace(t, { 'srv/app.js': 'const sessions = new Map();\n' });
  const r = new SourceResolver({ pathMap: { '/app': path.join(dir, 'srv') } });
  assert.equal(r.toPath('/app/app.js'), path.join(dir, 'srv', 'app.js'));
  assert.equal(r.findOwnerDeclaration('/app/app.js', 'variable', 'sessions', undefined)?.line, 1);
  assert.equal(r.toPath('node:internal/timers'), undefined);
  assert.equal(r.toPath('https://example.invalid/x.js'), undefined);
});
