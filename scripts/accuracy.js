#!/usr/bin/env node
// Scores Leak Lens on the leak corpus (test/corpus/<app>/expected.json, format in test/corpus/README.md): for each
// app it runs `leak-lens run --track-allocations --format json --action <action> [--ready R] -- node <nodeArgs>
// <program>` in the app folder, several times, and checks every report against the expected answer:
//   - the verdict matches;
//   - each expected leak is a report group (report.leaks[]) with the same className, whose owner.location and whose
//     allocation (the first allocationSites[] entry with a location) have the expected file and line;
//   - the report's first group is one of those matched groups.
// An app is correct only when every run is. Prints each miss (expected vs got) and `K/N correct, stable across R
// runs`, then how many apps gave differing answers across runs.
//
// Usage: node scripts/accuracy.js [--only app,app] [--runs N] [--node /path/to/node] [--json results.json]
//   --node  run the target programs (and their actions' `node`) with another Node binary
// Exit status: 0 when every app is correct in every run, 1 otherwise, 2 on bad usage.
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const corpusDir = path.join(root, 'test', 'corpus');
const cli = path.join(root, 'bin', 'leak-lens.js');
const RUN_LIMIT_MS = 10 * 60 * 1000;

function usage(message) {
  process.stderr.write(
    `accuracy: ${message}\nusage: node scripts/accuracy.js [--only app,app] [--runs N] [--node /path/to/node] [--json file]\n`,
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { only: null, runs: 3, node: null, json: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length || argv[i + 1].startsWith('--')) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--only')
      opts.only = value()
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    else if (a === '--runs') {
      opts.runs = Number(value());
      if (!Number.isInteger(opts.runs) || opts.runs < 1) usage('--runs must be a positive integer');
    } else if (a === '--node') opts.node = path.resolve(value());
    else if (a === '--json') opts.json = path.resolve(value());
    else usage(`unknown argument ${JSON.stringify(a)}`);
  }
  if (opts.node) {
    const r = spawnSync(opts.node, ['--version'], { encoding: 'utf8' });
    if (r.status !== 0)
      usage(`--node ${opts.node} is not a runnable node binary (${r.error ? r.error.code : 'exit ' + r.status})`);
    opts.nodeVersion = r.stdout.trim();
  }
  return opts;
}

function listApps() {
  return fs
    .readdirSync(corpusDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(corpusDir, d.name, 'expected.json')))
    .map((d) => d.name)
    .sort();
}

/** The absolute path an expected location names: node_modules/... from the repository root, else from the app. */
function expectedPath(file, appDir) {
  return file.startsWith('node_modules/') ? path.join(root, file) : path.join(appDir, file);
}

function real(file) {
  try {
    return fs.realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

function sameLocation(loc, exp, appDir) {
  return (
    !!loc &&
    typeof loc.file === 'string' &&
    loc.line === exp.line &&
    real(loc.file) === real(expectedPath(exp.file, appDir))
  );
}

function showLoc(loc) {
  if (!loc || !loc.file) return '(none)';
  const rel = path.relative(root, loc.file);
  return `${rel.startsWith('..') ? loc.file : rel}:${loc.line}`;
}

function showExp(exp, appDir) {
  return `${path.relative(root, expectedPath(exp.file, appDir))}:${exp.line} (${JSON.stringify(exp.text)})`;
}

/** The allocation location of a group: the first allocation site that has one. */
function allocationOf(group) {
  const site = (group.allocationSites || []).find((s) => s && s.location);
  return site ? site : null;
}

/** True when a stack (any of the shapes the engine may give: frames with .location or with file/line) holds `exp`. */
function stackHas(stack, exp, appDir) {
  if (!Array.isArray(stack)) return undefined;
  return stack.some((f) => f && (sameLocation(f.location, exp, appDir) || sameLocation(f, exp, appDir)));
}

/** Scores one report against expected.json: { ok, misses[], notes[], signature }. */
function score(expected, report, appDir) {
  const misses = [];
  const notes = [];
  const groups = Array.isArray(report.leaks) ? report.leaks : [];
  if (report.verdict !== expected.verdict) misses.push(`verdict: expected ${expected.verdict}, got ${report.verdict}`);
  const matched = [];
  for (const exp of expected.leaks) {
    const candidates = groups.filter((g) => g.className === exp.className);
    if (candidates.length === 0) {
      misses.push(
        `${exp.className}: no report group of this class (groups: ${groups.map((g) => g.className).join(', ') || 'none'})`,
      );
      continue;
    }
    // The candidate that matches most of owner and allocation stands for this expected leak.
    const rated = candidates.map((g) => {
      const ownerOk = sameLocation(g.owner && g.owner.location, exp.owner, appDir);
      const site = allocationOf(g);
      const allocOk = sameLocation(site && site.location, exp.allocation, appDir);
      const threadOk = !(
        typeof g.thread === 'string' &&
        exp.thread &&
        g.thread !== exp.thread &&
        !(exp.thread === 'worker' && g.thread.startsWith('worker '))
      );
      return { g, ownerOk, allocOk, threadOk, site, points: ownerOk + allocOk + threadOk };
    });
    rated.sort((a, b) => b.points - a.points);
    const best = rated[0];
    matched.push(best.g);
    const g = best.g;
    if (!best.ownerOk) {
      misses.push(
        `${exp.className}: owner expected ${showExp(exp.owner, appDir)}, got ${showLoc(g.owner && g.owner.location)} (${g.owner ? `${g.owner.name} [${g.owner.kind}]` : 'no owner'})`,
      );
    }
    if (!best.allocOk) {
      misses.push(
        `${exp.className}: allocation expected ${showExp(exp.allocation, appDir)}, got ${best.site ? `${showLoc(best.site.location)} (${best.site.function})` : '(no allocation site)'}`,
      );
    }
    if (!best.threadOk) misses.push(`${exp.className}: thread expected ${exp.thread}, got ${g.thread}`);
    if (exp.caller && best.site) {
      const has = stackHas(best.site.stack, exp.caller, appDir);
      if (has !== undefined)
        notes.push(
          `${exp.className}: caller ${showExp(exp.caller, appDir)} ${has ? 'is' : 'is NOT'} on the allocation stack (not scored)`,
        );
    }
  }
  if (expected.leaks.length > 0 && groups.length > 0 && !matched.includes(groups[0])) {
    const g = groups[0];
    misses.push(
      `first group: expected one of ${expected.leaks.map((l) => l.className).join(', ')}, got ${g.className} held by ${g.owner ? g.owner.name : '?'} at ${showLoc(g.owner && g.owner.location)}`,
    );
  }
  if (expected.verdict === 'clean' && groups.length > 0) {
    for (const g of groups.slice(0, 5)) {
      misses.push(
        `reported on a control: ${g.className} x${g.count} (+${g.growthPerRound}/round) held by ${g.owner ? g.owner.name : '?'} at ${showLoc(g.owner && g.owner.location)}`,
      );
    }
  }
  const extra = groups.filter((g) => !matched.includes(g));
  if (expected.verdict === 'leak' && extra.length > 0) {
    notes.push(
      `also reported: ${extra
        .slice(0, 5)
        .map((g) => `${g.className} (${g.owner ? g.owner.name : '?'} ${showLoc(g.owner && g.owner.location)})`)
        .join('; ')}`,
    );
  }
  const signature = JSON.stringify({
    verdict: report.verdict,
    groups: groups
      .slice(0, 5)
      .map((g) => [
        g.className,
        showLoc(g.owner && g.owner.location),
        showLoc(allocationOf(g) && allocationOf(g).location),
      ]),
  });
  return { ok: misses.length === 0, misses, notes, signature };
}

/** Runs leak-lens on one app once; resolves with { report } or { error }. */
function runLeakLens(expected, appDir, opts) {
  const nodeCmd = opts.node || 'node';
  const args = [cli, 'run', '--track-allocations', '--format', 'json', '--action', expected.action];
  if (expected.ready) args.push('--ready', expected.ready);
  args.push('--', nodeCmd, ...(expected.nodeArgs || []), ...expected.program);
  const env = { ...process.env };
  if (opts.node) env.PATH = `${path.dirname(opts.node)}${path.delimiter}${env.PATH}`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: appDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-20000)));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, RUN_LIMIT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ error: `could not start leak-lens: ${e.message}` });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // The last line is leak-lens's own; the line before it is often the action's or the program's reason.
      const lines = stderr
        .trim()
        .split('\n')
        .filter((l) => l && !/^(Debugger |For help, see|Waiting for the debugger)/.test(l));
      const lastLine = lines.slice(-2).join(' | ');
      if (code !== 0 && code !== 1) {
        resolve({ error: `leak-lens ${signal ? 'killed by ' + signal : 'exited ' + code}: ${lastLine}` });
        return;
      }
      try {
        resolve({ report: JSON.parse(stdout) });
      } catch {
        resolve({ error: `leak-lens printed no JSON report (exit ${code}): ${lastLine}` });
      }
    });
  });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const all = listApps();
  const apps = opts.only || all;
  const unknown = apps.filter((a) => !all.includes(a));
  if (unknown.length) usage(`no such app: ${unknown.join(', ')} (apps: ${all.join(', ')})`);
  const nodeLabel = opts.node ? `${opts.node} (${opts.nodeVersion})` : `node on PATH`;
  console.log(`accuracy: ${apps.length} apps x ${opts.runs} runs, target runtime ${nodeLabel}`);
  const results = [];
  for (const app of apps) {
    const appDir = path.join(corpusDir, app);
    const expected = JSON.parse(fs.readFileSync(path.join(appDir, 'expected.json'), 'utf8'));
    const entry = { app, verdict: expected.verdict, runs: [] };
    results.push(entry);
    if (expected.build) {
      const env = { ...process.env };
      if (opts.node) env.PATH = `${path.dirname(opts.node)}${path.delimiter}${env.PATH}`;
      const b = spawnSync('sh', ['-c', expected.build], { cwd: appDir, env, encoding: 'utf8' });
      if (b.status !== 0) {
        const why = `build "${expected.build}" failed: ${(b.stderr || b.stdout || '').trim().split('\n').pop()}`;
        console.log(`${app}: ${why}`);
        for (let r = 0; r < opts.runs; r++)
          entry.runs.push({ ok: false, misses: [why], notes: [], signature: 'build-failed' });
        continue;
      }
    }
    for (let r = 1; r <= opts.runs; r++) {
      const started = Date.now();
      const out = await runLeakLens(expected, appDir, opts);
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      let scored;
      if (out.error) scored = { ok: false, misses: [out.error], notes: [], signature: `error: ${out.error}` };
      else scored = score(expected, out.report, appDir);
      entry.runs.push({ ...scored, seconds: Number(seconds), report: out.report });
      console.log(`${app} run ${r}/${opts.runs}: ${scored.ok ? 'correct' : 'WRONG'} (${seconds} s)`);
      for (const m of scored.misses) console.log(`    miss: ${m}`);
      for (const n of scored.notes) console.log(`    note: ${n}`);
    }
  }
  const correct = results.filter((e) => e.runs.every((r) => r.ok));
  const differing = results.filter((e) => new Set(e.runs.map((r) => `${r.ok}|${r.signature}`)).size > 1);
  console.log('');
  for (const e of results) {
    const tally = `${e.runs.filter((r) => r.ok).length}/${e.runs.length} runs correct`;
    console.log(
      `  ${e.runs.every((r) => r.ok) ? 'ok  ' : 'MISS'} ${e.app} (${e.verdict}): ${tally}${differing.includes(e) ? ', answers differ across runs' : ''}`,
    );
  }
  console.log(`${correct.length}/${results.length} correct, stable across ${opts.runs} runs`);
  console.log(
    `${differing.length} app(s) gave differing answers across runs${differing.length ? ': ' + differing.map((e) => e.app).join(', ') : ''}`,
  );
  if (opts.json) {
    const data = {
      createdAt: new Date().toISOString(),
      runtime: nodeLabel,
      runs: opts.runs,
      correct: correct.length,
      total: results.length,
      apps: results,
    };
    fs.writeFileSync(opts.json, JSON.stringify(data, null, 2));
    console.log(`results written to ${opts.json}`);
  }
  process.exit(correct.length === results.length ? 0 : 1);
}

void main();
