/**
 * Markdown renderings of engine results: the leak report, one snapshot's class summary, and a comparison of two
 * snapshots. Every name that came out of a heap snapshot is escaped: it is the program's data, not markup.
 */
import * as vscode from 'vscode';
import type { ClassDelta } from '../../engine/compare';
import type { LeakGroup, LeakReport } from '../../engine/report';
import type { SourceLocation } from '../../engine/source';
import type { ClassSummary } from '../../engine/summary';
import { formatBytes, formatCount, signed } from './format';

/** Escapes text for markdown (inline), including what could form links, HTML or code spans. */
export function md(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~&]/g, '\\$&').replace(/\r?\n/g, ' ');
}

function link(location: SourceLocation | undefined): string {
  if (!location) return '';
  const uri = vscode.Uri.file(location.file).with({ fragment: `L${location.line}` });
  return `[${md(`${vscode.workspace.asRelativePath(location.file, false)}:${location.line}`)}](${uri.toString()})`;
}

function group(g: LeakGroup, index: number): string[] {
  const out: string[] = [];
  const native = g.nativeSize > 0 ? ` (${formatBytes(g.nativeSize)} of it outside the JS heap)` : '';
  out.push(`## ${index}. ${md(g.className)} ×${formatCount(g.count)} (+${formatCount(g.growthPerRound)} per round), ${formatBytes(g.retainedSize)} retained${native}`, '');
  out.push(`- **Held by** \`${g.owner.name.replace(/`/g, "'")}\` (${g.owner.kind})${g.owner.location ? ` at ${link(g.owner.location)}` : ''}`);
  for (const site of g.allocationSites) out.push(`- **Allocated in** \`${site.function.replace(/`/g, "'")}()\`${site.location ? ` at ${link(site.location)}` : ''} (${formatCount(site.count)} objects)`);
  if (g.classLocation) out.push(`- **Class defined at** ${link(g.classLocation)}`);
  out.push(`- **Objects per snapshot:** ${g.countSeries.map(formatCount).join(' → ')}; new and still alive per round: ${g.newPerRound.map(formatCount).join(', ')}`);
  const retains = g.retains.filter((r) => r.className !== g.className).slice(0, 5);
  if (retains.length) out.push(`- **Keeps alive:** ${retains.map((r) => `${md(r.className)} ×${formatCount(r.count)} (${formatBytes(r.size)})`).join(', ')}`);
  if (g.alsoHeld.length) out.push(`- **Also leaking through the same owner:** ${g.alsoHeld.map((a) => `${md(a.className)} ×${formatCount(a.count)} (+${formatCount(a.growthPerRound)}/round)`).join(', ')}`);
  out.push('', 'Retainer path, from a GC root to one leaked object:', '');
  const steps = g.retainerPath;
  const ownerAt = steps.findIndex((s) => s.owner);
  const from = Math.max(0, Math.min(ownerAt >= 0 ? ownerAt - 3 : steps.length - 8, steps.length - 8));
  if (from > 0) out.push(`1. … ${from} steps from the GC roots`);
  for (let i = from; i < steps.length; i++) {
    const s = steps[i];
    const edge = s.edge ? `${s.edgeType === 'element' || s.edgeType === 'hidden' ? md(s.edge) : `.${md(s.edge)}`} → ` : '';
    out.push(`1. ${edge}${s.owner ? '**' : ''}${md(s.node)}${s.owner ? '** ← owner' : ''}${s.location ? ` (${link(s.location)})` : ''}`);
  }
  out.push('');
  return out;
}

export function reportMarkdown(r: LeakReport): string {
  const lines: string[] = [];
  const first = r.snapshots[0];
  const last = r.snapshots[r.snapshots.length - 1];
  const grew = first && last ? last.totalSize - first.totalSize : 0;
  lines.push(r.verdict === 'clean' ? '# Leak Lens: no leak found' : `# Leak Lens: ${r.leaks.length} leak${r.leaks.length === 1 ? '' : 's'} found`, '');
  lines.push(`${r.snapshots.length} snapshots${r.pid !== undefined ? ` of pid ${r.pid}` : ''} (${r.rounds} round${r.rounds === 1 ? '' : 's'} after the baseline); the heap ${grew >= 0 ? 'grew' : 'shrank'} by ${formatBytes(Math.abs(grew))}.`, '');
  if (r.verdict === 'clean') {
    lines.push('Objects from every round did not survive and keep growing in any class, so nothing counts as leaked. If memory still grows, run more rounds or a heavier workload.', '');
  }
  r.leaks.forEach((g, i) => lines.push(...group(g, i + 1)));
  for (const d of r.duplicateModules) {
    lines.push(`**Module loaded more than once:** ${link({ file: d.file, line: 1, column: 1 })} has ${d.instances[d.instances.length - 1]} live copies (${d.instances.join(' → ')}); each reload keeps the old copy alive.`, '');
  }
  if (r.classGrowth.length) {
    lines.push('## Classes that grew', '', '| Class | Count per snapshot | Size per snapshot |', '| --- | --- | --- |');
    for (const c of r.classGrowth.slice(0, 12)) lines.push(`| ${md(c.className)} | ${c.counts.map(formatCount).join(' → ')} | ${c.sizes.map((s) => formatBytes(s)).join(' → ')} |`);
    lines.push('');
  }
  lines.push('## Snapshots', '', '| # | Label | Objects | Heap (snapshot) | Heap used (process) |', '| --- | --- | --- | --- | --- |');
  r.snapshots.forEach((s, i) => lines.push(`| ${i + 1} | ${md(s.label ?? '')} | ${formatCount(s.nodeCount)} | ${formatBytes(s.totalSize)} | ${formatBytes(s.memoryUsage?.heapUsed)} |`));
  lines.push('');
  for (const w of r.warnings) lines.push(`> Note: ${md(w)}`, '');
  return lines.join('\n');
}

export function summaryMarkdown(title: string, totalSize: number, nodeCount: number, rows: ClassSummary[], total: number): string {
  const lines = [`# ${md(title)}`, '', `${formatCount(nodeCount)} objects, ${formatBytes(totalSize)} in all. The ${rows.length} largest of ${formatCount(total)} classes by retained size:`, ''];
  lines.push('| Class | Count | Shallow size | Retained size | Distance |', '| --- | ---: | ---: | ---: | ---: |');
  for (const r of rows) lines.push(`| ${md(r.className)} | ${formatCount(r.count)} | ${formatBytes(r.shallowSize)} | ${formatBytes(r.retainedSize)} | ${r.distance} |`);
  lines.push('', 'To find what leaks, take snapshots of a running program with **Leak Lens: Find Leaks**, or compare two snapshots of one run.');
  return lines.join('\n');
}

export function comparisonMarkdown(base: string, target: string, rows: ClassDelta[], total: number, report?: LeakReport): string {
  const lines = [`# Comparison: ${md(base)} → ${md(target)}`, ''];
  if (report) {
    lines.push(report.verdict === 'leak' ? `**${report.leaks.length} leak group${report.leaks.length === 1 ? '' : 's'}** between these snapshots:` : 'No leak group between these snapshots.', '');
    for (const g of report.leaks) lines.push(`- ${md(g.className)} ×${formatCount(g.count)} held by \`${g.owner.name.replace(/`/g, "'")}\`${g.owner.location ? ` at ${link(g.owner.location)}` : ''}`);
    lines.push('');
  }
  lines.push(`Objects by class, new since the first snapshot and freed since (the ${rows.length} largest changes of ${formatCount(total)}):`, '');
  lines.push('| Class | New | Freed | Count change | Size change |', '| --- | ---: | ---: | ---: | ---: |');
  for (const r of rows) lines.push(`| ${md(r.className)} | ${formatCount(r.newCount)} | ${formatCount(r.deletedCount)} | ${signed(r.countDelta)} | ${signed(r.sizeDelta, (x) => formatBytes(x))} |`);
  return lines.join('\n');
}
