/** Text rendering of engine results for people at a terminal. */
import * as path from 'path';
import type { ObjectRetainers } from '../../engine/report';
import { stepText, stepWhere } from '../../render/steps';
import { formatBytes } from '../../protocol/units';
import {
  ADDED_AT,
  callerOrigin,
  callerSentence,
  chainSentence,
  collectionHeadline,
  containerSentence,
  heldViaSentence,
  resourceAwaited,
  resourceCreated,
  resourceHeadline,
  siteCountText,
} from '../../render/words';
import type { ClassSummary } from '../../protocol/heap';
import type { LeakGroup, LeakReport, ResourceGroup, SamplingFindings, SourceLocation } from '../../protocol/report';

export { formatBytes };

/** A file relative to `cwd` when it is below it, else as it is. */
function shownPath(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith('..') ? rel : file;
}

function where(loc: SourceLocation | undefined, cwd: string): string {
  return loc ? stepWhere(loc, (file) => shownPath(file, cwd)) : '';
}

export function formatSummary(file: string, totalSize: number, rows: ClassSummary[], top: number): string {
  const lines = [`${file}: ${formatBytes(totalSize)} in ${rows.reduce((s, r) => s + r.count, 0)} objects`, ''];
  const nameWidth = Math.min(48, Math.max(10, ...rows.slice(0, top).map((r) => r.className.length)));
  lines.push(
    `${'Class'.padEnd(nameWidth)}  ${'Count'.padStart(9)}  ${'Shallow'.padStart(10)}  ${'Retained'.padStart(10)}`,
  );
  for (const r of rows.slice(0, top)) {
    const name = r.className.length > nameWidth ? r.className.slice(0, nameWidth - 1) + '…' : r.className;
    lines.push(
      `${name.padEnd(nameWidth)}  ${String(r.count).padStart(9)}  ${formatBytes(r.shallowSize).padStart(10)}  ${formatBytes(r.retainedSize).padStart(10)}`,
    );
  }
  return lines.join('\n');
}

/**
 * One leak group as lines: what leaks, its owner and allocation sites, what it keeps alive, and its retainer path (the
 * steps around the owner, or with `fullPath` every step from the GC root).
 */
export function formatGroup(g: LeakGroup, index: number, cwd: string, threaded: boolean, fullPath = false): string[] {
  const out: string[] = [];
  const native = g.nativeSize > 0 ? ` (${formatBytes(g.nativeSize)} of it outside the JS heap)` : '';
  // A closure is known by where its function is written.
  const what =
    g.className.endsWith('()') && g.classLocation
      ? `function ${g.className} (${where(g.classLocation, cwd)})`
      : g.className;
  const thread = threaded && g.thread ? ` (thread: ${g.thread})` : '';
  if (g.kind === 'collection' && g.collection) {
    out.push(`${index}. ${collectionHeadline(g)}, ${formatBytes(g.retainedSize)} retained${native}${thread}`);
  } else if (g.kind === 'chain') {
    out.push(
      `${index}. ${what} chain x${g.count} (+${g.growthPerRound} per round), ${formatBytes(g.retainedSize)} retained${native}${thread}`,
    );
    if (g.chain?.link.length) out.push(`   ${chainSentence(g)}`);
  } else
    out.push(
      `${index}. ${what} x${g.count} (+${g.growthPerRound} per round), ${formatBytes(g.retainedSize)} retained${native}${thread}`,
    );
  out.push(
    `   held by ${g.owner.name} [${g.owner.kind}]${g.owner.location ? '  ' + where(g.owner.location, cwd) : ''}`,
  );
  if (g.heldVia) out.push(`   ${heldViaSentence(g)}${g.heldVia.location ? '  ' + where(g.heldVia.location, cwd) : ''}`);
  for (const r of g.owner.related ?? []) out.push(`   ${r.label}  ${where(r.location, cwd)}`);
  if (g.kind === 'collection') {
    if (g.collection?.addedAt) out.push(`   ${ADDED_AT}  ${where(g.collection.addedAt, cwd)}`);
  } else if (g.allocationSites.length === 0 && g.allocationNote)
    out.push(`   allocation site unknown: ${g.allocationNote}`);
  else
    for (const site of g.allocationSites) {
      out.push(`   allocated in ${site.function}()  ${where(site.location, cwd)}  (${siteCountText(site)})`);
      const origin = callerOrigin(site);
      if (site.caller)
        out.push(`   ${callerSentence(site)}  ${where(site.caller.location, cwd)}${origin ? `  (${origin})` : ''}`);
      else if (site.callerNote) out.push(`   ${site.callerNote}`);
    }
  const container = containerSentence(g);
  if (container) out.push(`   ${container}`);
  if (g.alsoHeld.length)
    out.push(
      `   also held there: ${g.alsoHeld.map((a) => `${a.className} x${a.count} (+${a.growthPerRound}/round)`).join(', ')}`,
    );
  const retains = g.retains.filter((r) => r.className !== g.className).slice(0, 4);
  if (retains.length) out.push(`   each keeps alive: ${retains.map((r) => `${r.className} x${r.count}`).join(', ')}`);
  out.push('   retainer path:');
  const steps = g.retainerPath;
  const ownerAt = steps.findIndex((s) => s.owner);
  const from = fullPath ? 0 : Math.max(0, Math.min(ownerAt >= 0 ? ownerAt - 2 : steps.length - 6, steps.length - 6));
  if (from > 0) out.push(`     ... ${from} step${from > 1 ? 's' : ''} from the GC roots`);
  for (let i = from; i < steps.length; i++) {
    const mark = steps[i].owner ? '   <- owner' : '';
    out.push(`     ${stepText(steps[i], i, (file) => shownPath(file, cwd))}${mark}`);
  }
  return out;
}

/** One resource group as lines: what grows, what holds it, the line that creates it and its retainer path around the owner. */
export function formatResource(g: ResourceGroup, index: number, cwd: string, threaded: boolean): string[] {
  const out = [`${index}. ${resourceHeadline(g)}${threaded && g.thread ? ` (thread: ${g.thread})` : ''}`];
  out.push(
    `   held by ${g.owner.name} [${g.owner.kind}]${g.owner.location ? '  ' + where(g.owner.location, cwd) : ''}`,
  );
  if (g.createdAt)
    out.push(
      `   ${resourceCreated(g)}  ${where(g.createdAt.location, cwd)}${g.createdNote ? `  (${g.createdNote})` : ''}`,
    );
  else if (g.createdNote) out.push(`   creating line unknown: ${g.createdNote}`);
  if (g.awaitedBy) out.push(`   ${resourceAwaited(g)}  ${where(g.awaitedBy.location, cwd)}`);
  out.push('   retainer path:');
  const steps = g.retainerPath;
  const ownerAt = steps.findIndex((s) => s.owner);
  const from = Math.max(0, Math.min(ownerAt >= 0 ? ownerAt - 2 : steps.length - 6, steps.length - 6));
  if (from > 0) out.push(`     ... ${from} step${from > 1 ? 's' : ''} from the GC roots`);
  for (let i = from; i < steps.length; i++)
    out.push(`     ${stepText(steps[i], i, (file) => shownPath(file, cwd))}${steps[i].owner ? '   <- owner' : ''}`);
  return out;
}

/** One object's retainer path from the GC roots and its owner, as lines; `what` names the object (`@123 in s3`). */
export function formatObjectRetainers(o: ObjectRetainers, what: string, cwd = process.cwd()): string {
  const lines = [`Object ${what}: ${o.className}, ${formatBytes(o.retainedSize)} retained`];
  if (o.owner)
    lines.push(
      `   held by ${o.owner.name} [${o.owner.kind}]${o.owner.location ? '  ' + where(o.owner.location, cwd) : ''}`,
    );
  else lines.push('   no variable or named property on its path holds it');
  lines.push('   retainer path:');
  o.retainerPath.forEach((step, i) =>
    lines.push(`     ${stepText(step, i, (file) => shownPath(file, cwd))}${step.owner ? '   <- owner' : ''}`),
  );
  return lines.join('\n');
}

export function formatReport(r: LeakReport, cwd = process.cwd()): string {
  if (r.sampling) return formatSampling(r, r.sampling, cwd);
  const lines: string[] = [];
  const growth =
    r.snapshots.length > 1
      ? formatBytes(r.snapshots[r.snapshots.length - 1].totalSize - r.snapshots[0].totalSize)
      : '0 B';
  const resources = r.resources ?? [];
  if (r.verdict === 'clean') {
    lines.push(`No leak found across ${r.snapshots.length} snapshots (${r.rounds} rounds; heap change ${growth}).`);
  } else if (r.leaks.length === 0) {
    lines.push(
      `No growing objects, but resources grow across ${r.snapshots.length} snapshots (${r.rounds} rounds; heap change ${growth})${r.pid ? ` in pid ${r.pid}` : ''}.`,
    );
  } else {
    lines.push(
      `${r.leaks.length} leak${r.leaks.length > 1 ? 's' : ''} found across ${r.snapshots.length} snapshots (${r.rounds} rounds; heap grew ${growth})${r.pid ? ` in pid ${r.pid}` : ''}:`,
    );
    lines.push('');
    const threaded = (r.threads?.length ?? 1) > 1;
    r.leaks.forEach((g, i) => {
      lines.push(...formatGroup(g, i + 1, cwd, threaded));
      lines.push('');
    });
  }
  if (resources.length) {
    lines.push(`Resources that grow every round (promises that never settle, open handles, contexts):`);
    lines.push('');
    const threaded = (r.threads?.length ?? 1) > 1;
    resources.forEach((g, i) => {
      lines.push(...formatResource(g, i + 1, cwd, threaded));
      lines.push('');
    });
  }
  for (const d of r.duplicateModules) {
    lines.push(
      `Module loaded more than once: ${where({ file: d.file, line: 1, column: 1 }, cwd).replace(/:1$/, '')} has ${d.instances[d.instances.length - 1]} live copies (${d.instances.join(' -> ')}): each reload keeps the old copy alive.`,
    );
  }
  const mem = r.snapshots.map((s) => s.memoryUsage).filter((m): m is NonNullable<typeof m> => !!m);
  if (mem.length >= 2) {
    const a = mem[0];
    const b = mem[mem.length - 1];
    lines.push(
      `Process memory: heap used ${formatBytes(a.heapUsed)} -> ${formatBytes(b.heapUsed)}, external ${formatBytes(a.external)} -> ${formatBytes(b.external)}, array buffers ${formatBytes(a.arrayBuffers)} -> ${formatBytes(b.arrayBuffers)}, rss ${formatBytes(a.rss)} -> ${formatBytes(b.rss)}`,
    );
  }
  if (r.threads && r.threads.length > 1)
    lines.push(`Threads analysed, each with its own heap: ${r.threads.map((t) => t.name).join(', ')}.`);
  for (const w of r.warnings) lines.push(`note: ${w}`);
  return lines.join('\n').trimEnd();
}

/** The sampling mode's report: allocation stacks whose live objects grow, and what this mode cannot tell. */
function formatSampling(r: LeakReport, s: SamplingFindings, cwd: string): string {
  const lines: string[] = [];
  const about = `allocation samples at ${s.rounds + 1} round boundaries (one per ${formatBytes(s.interval)} allocated, no snapshot)`;
  if (s.growth.length === 0) lines.push(`No growing allocation stack found in ${about}.`);
  else {
    lines.push(
      `${s.growth.length} allocation stack${s.growth.length > 1 ? 's' : ''} whose live objects grow every round, from ${about}${r.pid ? ` in pid ${r.pid}` : ''}:`,
    );
    lines.push('');
    s.growth.forEach((g, i) => {
      const site = g.site.location ? `  ${where(g.site.location, cwd)}` : '';
      lines.push(`${i + 1}. allocated in ${g.site.function}()${site}${g.constructs ? ` (new ${g.constructs})` : ''}`);
      lines.push(
        `   about ${formatBytes(g.estimatedBytes)} kept from the rounds; live samples ${g.liveSamples.join(' -> ')}, survivors per round ${g.survivorsPerRound.join(', ')}`,
      );
      lines.push('   stack:');
      for (const f of g.stack)
        lines.push(
          `     ${f.function}()${f.location ? `  ${where(f.location, cwd)}` : ''}${f.library ? '  [library]' : f === g.site ? '  <- program' : ''}`,
        );
      lines.push('');
    });
  }
  lines.push(
    'The sampling mode cannot tell what holds these objects or their class, and can miss leaks smaller than a few',
  );
  lines.push('sampling intervals per round; run without --sampling (heap snapshots) to see retainers and owners.');
  return lines.join('\n');
}
