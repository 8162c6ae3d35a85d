/**
 * Markdown renderings of engine results: the leak report, one snapshot's class summary, and a comparison of two
 * snapshots. Every name that came out of a heap snapshot is escaped: it is the program's data, not markup.
 */
import * as vscode from 'vscode';
import { stepWhere } from '../../../render/steps';
import { formatBytes, formatCount, signed } from './format';
import { md, reportMarkdownWith } from './reportMarkdown';
import type { ClassDelta, ClassSummary } from '../../../protocol/heap';
import type { LeakReport, SourceLocation } from '../../../protocol/report';

export { md };

function link(location: SourceLocation | undefined): string {
  if (!location) return '';
  const uri = vscode.Uri.file(location.file).with({ fragment: `L${location.line}` });
  return `[${md(stepWhere(location, (file) => vscode.workspace.asRelativePath(file, false)))}](${uri.toString()})`;
}

export function reportMarkdown(r: LeakReport): string {
  return reportMarkdownWith(r, link);
}

export function summaryMarkdown(
  title: string,
  totalSize: number,
  nodeCount: number,
  rows: ClassSummary[],
  total: number,
): string {
  const lines = [
    `# ${md(title)}`,
    '',
    `${formatCount(nodeCount)} objects, ${formatBytes(totalSize)} in all. The ${rows.length} largest of ${formatCount(total)} classes by retained size:`,
    '',
  ];
  lines.push('| Class | Count | Shallow size | Retained size | Distance |', '| --- | ---: | ---: | ---: | ---: |');
  for (const r of rows)
    lines.push(
      `| ${md(r.className)} | ${formatCount(r.count)} | ${formatBytes(r.shallowSize)} | ${formatBytes(r.retainedSize)} | ${r.distance} |`,
    );
  lines.push(
    '',
    'To find what leaks, take snapshots of a running program with **Leak Lens: Find Leaks**, or compare two snapshots of one run.',
  );
  return lines.join('\n');
}

export function comparisonMarkdown(
  base: string,
  target: string,
  rows: ClassDelta[],
  total: number,
  report?: LeakReport,
): string {
  const lines = [`# Comparison: ${md(base)} → ${md(target)}`, ''];
  if (report) {
    lines.push(
      report.verdict === 'leak'
        ? `**${report.leaks.length} leak group${report.leaks.length === 1 ? '' : 's'}** between these snapshots:`
        : 'No leak group between these snapshots.',
      '',
    );
    for (const g of report.leaks)
      lines.push(
        `- ${md(g.className)} ×${formatCount(g.count)} held by \`${g.owner.name.replace(/`/g, "'")}\`${g.owner.location ? ` at ${link(g.owner.location)}` : ''}`,
      );
    lines.push('');
  }
  lines.push(
    `Objects by class, new since the first snapshot and freed since (the ${rows.length} largest changes of ${formatCount(total)}):`,
    '',
  );
  lines.push('| Class | New | Freed | Count change | Size change |', '| --- | ---: | ---: | ---: | ---: |');
  for (const r of rows)
    lines.push(
      `| ${md(r.className)} | ${formatCount(r.newCount)} | ${formatCount(r.deletedCount)} | ${signed(r.countDelta)} | ${signed(r.sizeDelta, (x) => formatBytes(x))} |`,
    );
  return lines.join('\n');
}
