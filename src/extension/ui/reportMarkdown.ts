/**
 * The leak report as markdown, without the editor: the extension (src/extension/ui/markdown.ts) gives it links that open
 * VS Code at a line; tests give it plain file links. Every name that came out of a heap snapshot is escaped: it is
 * the program's data, not markup. Sentences come from render/words.ts, as in the CLI and the language server.
 */
import { stepLabel } from '../../../render/steps';
import {
  ADDED_AT,
  SAMPLING_NOTICE,
  samplingBytesPerRound,
  samplingLiveBytes,
  samplingSiteText,
  callerSentence,
  chainSentence,
  collectionHeadline,
  containerSentence,
  frameText,
  heldViaSentence,
  kindWords,
  siteOrigin,
  threadText,
  resourceAwaited,
  resourceCreated,
  resourceHeadline,
} from '../../../render/words';
import { formatBytes, formatCount } from './format';
import type { LeakGroup, LeakReport, SourceLocation, SamplingFindings } from '../../../protocol/report';

/** A markdown link to a source location. */
export type LinkOf = (location: SourceLocation | undefined) => string;

/** Escapes text for markdown (inline), including what could form links, HTML or code spans. */
export function md(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~&]/g, '\\$&').replace(/\r?\n/g, ' ');
}

/** A sentence from render/words.ts with its first letter capitalised, escaped. */
function sentence(text: string): string {
  return md(text.charAt(0).toUpperCase() + text.slice(1));
}

function group(g: LeakGroup, index: number, threaded: boolean, link: LinkOf): string[] {
  const out: string[] = [];
  const native = g.nativeSize > 0 ? ` (${formatBytes(g.nativeSize)} of it outside the JS heap)` : '';
  const thread = threadText(g, threaded);
  const threadNote = thread ? ` (${md(thread)})` : '';
  if (g.kind === 'collection' && g.collection)
    out.push(
      `## ${index}. ${md(collectionHeadline(g))}, ${formatBytes(g.retainedSize)} retained${native}${threadNote}`,
      '',
    );
  else
    out.push(
      `## ${index}. ${md(g.className)}${g.kind === 'chain' ? ' chain' : ''} ×${formatCount(g.count)} (+${formatCount(g.growthPerRound)} per round), ${formatBytes(g.retainedSize)} retained${native}${threadNote}`,
      '',
    );
  out.push(`- **Kind:** ${kindWords(g)}`);
  if (chainSentence(g)) out.push(`- ${sentence(chainSentence(g))}`);
  out.push(
    `- **Held by** \`${g.owner.name.replace(/`/g, "'")}\` (${g.owner.kind})${g.owner.location ? ` at ${link(g.owner.location)}` : ''}`,
  );
  if (g.heldVia)
    out.push(`- ${sentence(heldViaSentence(g))}${g.heldVia.location ? ` at ${link(g.heldVia.location)}` : ''}`);
  for (const r of g.owner.related ?? []) out.push(`- ${sentence(r.label)}: ${link(r.location)}`);
  if (g.kind === 'collection') {
    if (g.collection?.addedAt) out.push(`- **${sentence(ADDED_AT)}** ${link(g.collection.addedAt)}`);
  } else {
    for (const site of g.allocationSites) {
      const origin = siteOrigin(site);
      out.push(
        `- **Allocated in** \`${site.function.replace(/`/g, "'")}()\`${site.location ? ` at ${link(site.location)}` : ''} (${formatCount(site.count)} objects${origin ? `; ${md(origin)}` : ''})`,
      );
      if (site.caller)
        out.push(
          `  - ${sentence(callerSentence(site))}${site.caller.location ? ` at ${link(site.caller.location)}` : ''}`,
        );
      if (site.stack?.length) {
        out.push('  - Creating stack, innermost first:');
        for (const f of site.stack)
          out.push(`    - \`${frameText(f).replace(/`/g, "'")}\`${f.location ? ` at ${link(f.location)}` : ''}`);
      }
    }
  }
  if (containerSentence(g)) out.push(`- ${sentence(containerSentence(g))}`);
  if (thread) out.push(`- **Thread:** ${md(g.thread ?? '')}`);
  if (g.classLocation) out.push(`- **Class defined at** ${link(g.classLocation)}`);
  out.push(
    `- **${g.kind === 'collection' ? 'Entries' : 'Objects'} per snapshot:** ${g.countSeries.map(formatCount).join(' → ')}; new and still alive per round: ${g.newPerRound.map(formatCount).join(', ')}`,
  );
  const retains = g.retains.filter((r) => r.className !== g.className).slice(0, 5);
  if (retains.length)
    out.push(
      `- **Keeps alive:** ${retains.map((r) => `${md(r.className)} ×${formatCount(r.count)} (${formatBytes(r.size)})`).join(', ')}`,
    );
  if (g.alsoHeld.length)
    out.push(
      `- **Also leaking through the same owner:** ${g.alsoHeld.map((a) => `${md(a.className)} ×${formatCount(a.count)} (+${formatCount(a.growthPerRound)}/round)`).join(', ')}`,
    );
  out.push('', 'Retainer path, from a GC root to one leaked object:', '');
  const steps = g.retainerPath;
  const ownerAt = steps.findIndex((s) => s.owner);
  const from = Math.max(0, Math.min(ownerAt >= 0 ? ownerAt - 3 : steps.length - 8, steps.length - 8));
  if (from > 0) out.push(`1. … ${from} steps from the GC roots`);
  for (let i = from; i < steps.length; i++) {
    // The step as the CLI, the language server and the panel say it (render/steps.ts); its location is a link.
    const s = steps[i];
    const label = md(stepLabel(s, i));
    out.push(`1. ${s.owner ? `**${label}** ← owner` : label}${s.location ? ` (${link(s.location)})` : ''}`);
  }
  out.push('');
  return out;
}

/** A report of the sampling mode: the growing allocation stacks, and what the mode cannot tell. */
function samplingMarkdown(r: LeakReport, s: SamplingFindings, link: LinkOf): string {
  const lines: string[] = [];
  const n = s.growth.length;
  lines.push(
    n === 0
      ? '# Leak Lens: no growing allocation stack found'
      : `# Leak Lens: ${n} growing allocation stack${n === 1 ? '' : 's'} found`,
    '',
  );
  lines.push(
    `Allocation samples at ${s.rounds + 1} round boundaries${r.pid !== undefined ? ` of pid ${r.pid}` : ''}, one sampled per ${formatBytes(s.interval)} allocated; no snapshot.`,
    '',
  );
  lines.push(`> ${sentence(SAMPLING_NOTICE)}.`, '');
  if (n === 0)
    lines.push(
      'No allocation stack kept objects from every round while its live samples grew. A leak smaller than a few sampling intervals per round may draw no sample: run more rounds, a heavier workload, or a smaller sampling interval.',
      '',
    );
  s.growth.forEach((g, i) => {
    lines.push(
      `## ${i + 1}. Allocated in ${md(samplingSiteText(g))}${g.site.location ? ` at ${link(g.site.location)}` : ''}`,
      '',
    );
    lines.push(
      `- **Live bytes per round (estimated):** ${samplingLiveBytes(g, s.interval)
        .map((b) => formatBytes(b))
        .join(' → ')} (+${formatBytes(samplingBytesPerRound(g, s.interval))} per round)`,
    );
    lines.push(
      `- **Live samples per round:** ${g.liveSamples.map(formatCount).join(' → ')}; survivors from each round: ${g.survivorsPerRound.map(formatCount).join(', ')}; about ${formatBytes(g.estimatedBytes)} kept from the rounds`,
    );
    lines.push('- Allocating stack, innermost first:');
    for (const f of g.stack)
      lines.push(
        `  - \`${f.function.replace(/`/g, "'")}()\`${f.location ? ` at ${link(f.location)}` : ''}${f.library ? ' (library)' : ''}`,
      );
    lines.push('');
  });
  for (const w of r.warnings) lines.push(`> Note: ${md(w)}`, '');
  return lines.join('\n');
}

/** The leak report as markdown; `link` makes a link to a source location (the extension's opens the editor). */
export function reportMarkdownWith(r: LeakReport, link: LinkOf): string {
  if (r.sampling) return samplingMarkdown(r, r.sampling, link);
  const lines: string[] = [];
  const first = r.snapshots[0];
  const last = r.snapshots[r.snapshots.length - 1];
  const grew = first && last ? last.totalSize - first.totalSize : 0;
  const grown = (r.resources ?? []).length;
  lines.push(
    r.verdict === 'clean'
      ? '# Leak Lens: no leak found'
      : r.leaks.length === 0
        ? `# Leak Lens: ${grown} growing resource${grown === 1 ? '' : 's'} found`
        : `# Leak Lens: ${r.leaks.length} leak${r.leaks.length === 1 ? '' : 's'} found`,
    '',
  );
  lines.push(
    `${r.snapshots.length} snapshots${r.pid !== undefined ? ` of pid ${r.pid}` : ''} (${r.rounds} round${r.rounds === 1 ? '' : 's'} after the baseline); the heap ${grew >= 0 ? 'grew' : 'shrank'} by ${formatBytes(Math.abs(grew))}.`,
    '',
  );
  if (r.verdict === 'clean') {
    lines.push(
      'Objects from every round did not survive and keep growing in any class, so nothing counts as leaked. If memory still grows, run more rounds or a heavier workload.',
      '',
    );
  }
  const threaded = (r.threads?.length ?? 1) > 1;
  r.leaks.forEach((g, i) => lines.push(...group(g, i + 1, threaded, link)));
  if (threaded)
    lines.push(`Threads analysed, each with its own heap: ${r.threads!.map((t) => md(t.name)).join(', ')}.`, '');
  const resources = r.resources ?? [];
  if (resources.length) {
    lines.push('## Resources that grow every round', '');
    for (const g of resources) {
      lines.push(`- **${md(resourceHeadline(g))}**${threaded && g.thread ? ` (thread: ${md(g.thread)})` : ''}`);
      lines.push(`  - held by ${md(g.owner.name)}${g.owner.location ? ` (${link(g.owner.location)})` : ''}`);
      if (g.createdAt)
        lines.push(`  - ${md(resourceCreated(g))}${g.createdAt.location ? ` at ${link(g.createdAt.location)}` : ''}`);
      else if (g.createdNote) lines.push(`  - creating line unknown: ${md(g.createdNote)}`);
      if (g.awaitedBy)
        lines.push(`  - ${md(resourceAwaited(g))}${g.awaitedBy.location ? ` at ${link(g.awaitedBy.location)}` : ''}`);
    }
    lines.push('');
  }
  for (const d of r.duplicateModules) {
    lines.push(
      `**Module loaded more than once:** ${link({ file: d.file, line: 1, column: 1 })} has ${d.instances[d.instances.length - 1]} live copies (${d.instances.join(' → ')}); each reload keeps the old copy alive.`,
      '',
    );
  }
  if (r.classGrowth.length) {
    lines.push('## Classes that grew', '', '| Class | Count per snapshot | Size per snapshot |', '| --- | --- | --- |');
    for (const c of r.classGrowth.slice(0, 12))
      lines.push(
        `| ${md(c.className)} | ${c.counts.map(formatCount).join(' → ')} | ${c.sizes.map((s) => formatBytes(s)).join(' → ')} |`,
      );
    lines.push('');
  }
  lines.push(
    '## Snapshots',
    '',
    '| # | Label | Objects | Heap (snapshot) | Heap used (process) |',
    '| --- | --- | --- | --- | --- |',
  );
  r.snapshots.forEach((s, i) =>
    lines.push(
      `| ${i + 1} | ${md(s.label ?? '')} | ${formatCount(s.nodeCount)} | ${formatBytes(s.totalSize)} | ${formatBytes(s.memoryUsage?.heapUsed)} |`,
    ),
  );
  lines.push('');
  for (const w of r.warnings) lines.push(`> Note: ${md(w)}`, '');
  return lines.join('\n');
}
