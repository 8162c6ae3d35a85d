#!/usr/bin/env node
// Checks demo/expected.json against the sources: every ownerLine/allocLine (and alsoAcceptable line)
// must hold its ownerText/allocText, allocLine must be a `new <Class>` expression, every entry must
// exist, and for the TypeScript demo the generated lines must hold the same code and map back to the
// .ts lines through the source map. Builds demo/ts-app first when dist/ is missing.
// Usage: node demo/check-expected.js   (exit 0 when all hold, 1 otherwise)
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.join(__dirname, '..');
const expected = JSON.parse(fs.readFileSync(path.join(__dirname, 'expected.json'), 'utf8'));
const problems = [];
let checks = 0;

function lineOf(file, line) {
  const lines = fs.readFileSync(path.join(root, file), 'utf8').split('\n');
  return lines[line - 1];
}

function expectLine(app, what, file, line, text) {
  checks++;
  let actual;
  try {
    actual = lineOf(file, line);
  } catch (err) {
    problems.push(`${app}: ${what} ${file}: ${err.message}`);
    return;
  }
  if (actual === undefined || !actual.includes(text)) {
    problems.push(`${app}: ${what} ${file}:${line} should contain ${JSON.stringify(text)} but is ${JSON.stringify(actual)}`);
  }
}

const needed = ['app', 'entry', 'action', 'leakClass', 'ownerName', 'ownerFile', 'ownerLine', 'allocFile', 'allocLine', 'verdict'];
if (expected.some((e) => e.build) && !fs.existsSync(path.join(root, 'demo/ts-app/dist/server.js'))) {
  const r = spawnSync(process.execPath, [path.join(__dirname, 'ts-app', 'build.js')], { stdio: 'inherit' });
  if (r.status !== 0) problems.push('ts-app: build failed');
}

for (const e of expected) {
  for (const k of needed) if (e[k] === undefined) problems.push(`${e.app}: missing field ${k}`);
  if (!['leak', 'clean'].includes(e.verdict)) problems.push(`${e.app}: verdict must be leak or clean`);
  checks++;
  if (!fs.existsSync(path.join(root, e.entry))) problems.push(`${e.app}: entry ${e.entry} does not exist`);
  expectLine(e.app, 'owner', e.ownerFile, e.ownerLine, e.ownerText);
  expectLine(e.app, 'alloc', e.allocFile, e.allocLine, e.allocText);
  checks++;
  const alloc = lineOf(e.allocFile, e.allocLine) || '';
  if (!new RegExp(`new (\\w+\\.)?${e.leakClass}\\(`).test(alloc)) problems.push(`${e.app}: alloc line ${e.allocLine} is not a \`new ${e.leakClass}(\` expression`);
  for (const alt of e.alsoAcceptable || []) expectLine(e.app, `alsoAcceptable "${alt.ownerName}"`, alt.ownerFile, alt.ownerLine, alt.ownerText);

  if (e.generatedOwnerFile) {
    // The emitted JS drops type annotations, so compare the part of the text that survives compilation.
    const { TraceMap, originalPositionFor } = require('@jridgewell/trace-mapping');
    for (const [kind, genFile, genLine, srcFile, srcLine, text] of [
      ['owner', e.generatedOwnerFile, e.generatedOwnerLine, e.ownerFile, e.ownerLine, 'cache = new Map'],
      ['alloc', e.generatedAllocFile, e.generatedAllocLine, e.allocFile, e.allocLine, e.allocText],
    ]) {
      expectLine(e.app, `generated ${kind}`, genFile, genLine, text);
      checks++;
      const gen = path.join(root, genFile);
      const map = new TraceMap(fs.readFileSync(`${gen}.map`, 'utf8'), `${gen}.map`);
      const column = lineOf(genFile, genLine).indexOf(text);
      const pos = originalPositionFor(map, { line: genLine, column });
      const mappedFile = pos.source ? path.relative(root, path.resolve(path.dirname(gen), pos.source)) : null;
      if (mappedFile !== srcFile || pos.line !== srcLine) {
        problems.push(`${e.app}: ${genFile}:${genLine} maps to ${mappedFile}:${pos.line}, expected ${srcFile}:${srcLine}`);
      }
    }
  }
}

if (problems.length > 0) {
  for (const p of problems) process.stderr.write(`check-expected: ${p}\n`);
  process.exit(1);
}
process.stdout.write(`check-expected: ${expected.length} apps, ${checks} checks passed\n`);
