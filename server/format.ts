/**
 * Words for the editor: diagnostic messages, code lens titles and hover markdown for leak groups. Every name in a
 * report came out of a heap snapshot and is untrusted text: in markdown it goes into code spans (or is escaped),
 * never raw, and it is cut to a sane length.
 */
import * as path from 'path';
import { pathToFileURL } from 'url';
import type { AllocationSite, LeakGroup, RetainerStep } from '../engine/report';
import { formatBytes } from '../engine/units';

export { formatBytes };

/** Cuts a name from a snapshot to one line of at most `max` characters. */
export function clip(s: string, max = 120): string {
  const one = s.replace(/[\r\n\t]+/g, ' ');
  return one.length > max ? one.slice(0, max - 1) + '…' : one;
}

/** A markdown code span that holds any text, backticks included. */
export function code(s: string): string {
  const t = clip(s);
  if (!t) return '` `';
  const ticks = (t.match(/`+/g) ?? []).reduce((m, r) => Math.max(m, r.length), 0);
  const fence = '`'.repeat(ticks + 1);
  return ticks ? `${fence} ${t} ${fence}` : `${fence}${t}${fence}`;
}

/** Markdown text with every character that could start markup escaped. */
export function escapeMarkdown(s: string): string {
  return clip(s).replace(/[\\`*_[\]<>|~]/g, (c) => '\\' + c);
}

function growth(g: LeakGroup): string {
  return g.growthPerRound > 0 ? `+${g.growthPerRound} per round, ` : '';
}

function native(g: LeakGroup): string {
  return g.nativeSize > 0 ? `, ${formatBytes(g.nativeSize)} of it outside the JS heap` : '';
}

/** "holds" for one owner, "hold" for the listeners of an emitter. */
function verb(g: LeakGroup): string {
  return g.owner.kind === 'listeners' ? 'hold' : 'holds';
}

/** `_connections holds 200 Connection (+100 per round, 1.5 MB retained)`. */
export function ownerMessage(g: LeakGroup): string {
  const also = g.alsoHeld.length ? `; also ${g.alsoHeld.slice(0, 3).map((a) => `${a.count} ${clip(a.className, 60)}`).join(', ')}` : '';
  return `${clip(g.owner.name)} ${verb(g)} ${g.count} ${clip(g.className, 80)} (${growth(g)}${formatBytes(g.retainedSize)} retained${native(g)})${also}`;
}

/** `200 Connection allocated here in accept() leak through _connections (+100 per round)`. */
export function allocationMessage(g: LeakGroup, site: AllocationSite): string {
  const fn = site.function && site.function !== '(anonymous)' ? ` in ${clip(site.function, 60)}()` : '';
  const per = g.growthPerRound > 0 ? ` (+${g.growthPerRound} per round)` : '';
  return `${site.count || g.count} ${clip(g.className, 80)} allocated here${fn} leak through ${clip(g.owner.name)}${per}`;
}

export function moduleMessage(instances: number[]): string {
  const last = instances[instances.length - 1] ?? 0;
  return `This module is loaded again and again: ${last} live copies (${instances.join(' -> ')} across the snapshots). Each load runs its top-level code again and the old copies stay alive.`;
}

export function ownerLensTitle(g: LeakGroup): string {
  return `${g.count} ${clip(g.className, 60)} leaked, ${formatBytes(g.retainedSize)}, show retainers`;
}

export function allocationLensTitle(g: LeakGroup, site: AllocationSite): string {
  return `${site.count || g.count} ${clip(g.className, 60)} allocated here leaked, show retainers`;
}

/** One retainer step as the CLI prints it: `.handler -> anonymous()`, `[3] -> Connection`. */
export function stepText(s: RetainerStep): string {
  const edge = s.edge ? `${s.edgeType === 'element' || s.edgeType === 'hidden' || /^\[/.test(s.edge) ? s.edge : '.' + s.edge} -> ` : '';
  return clip(`${edge}${s.node || '(GC roots)'}`, 160);
}

/** A link to a line of a file, `[store.ts:37](file:///.../store.ts#L37)`, which VS Code opens at that line. */
export function lineLink(file: string, line: number, root: string | undefined): string {
  const rel = root ? path.relative(root, file) : '';
  const shown = rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : path.basename(file);
  return `[${escapeMarkdown(`${shown}:${line}`)}](${pathToFileURL(file).href}#L${line})`;
}

export interface HoverPlace {
  file: string;
  line: number;
}

/**
 * The hover of a marker: what leaks, the retainer path from the GC roots with a link at every step that has a
 * place in the workspace, the allocation sites, and (for clients that implement it) a link that opens the group.
 */
export function hoverMarkdown(
  g: LeakGroup,
  places: { steps: (HoverPlace | undefined)[]; sites: (HoverPlace | undefined)[]; owner?: HoverPlace },
  root: string | undefined,
  showCommand: string | undefined,
): string {
  const out: string[] = [];
  out.push(`**Leak Lens**: ${g.count} ${code(g.className)} held by ${code(g.owner.name)} (${growth(g)}${formatBytes(g.retainedSize)} retained${native(g)})`);
  if (g.countSeries.length > 1) out.push('', `Count in each snapshot: ${g.countSeries.join(' → ')}`);
  if (places.owner) out.push('', `Owner declared at ${lineLink(places.owner.file, places.owner.line, root)}`);
  if (g.retainerPath.length) {
    out.push('', '**Retainer path** (from the GC roots to a leaked object):', '');
    const steps = g.retainerPath;
    const ownerAt = steps.findIndex((s) => s.owner);
    // Long paths start deep inside Node; show the last steps, which are the program's own.
    const from = steps.length > 12 ? Math.max(0, Math.min(ownerAt >= 0 ? ownerAt - 6 : steps.length - 12, steps.length - 12)) : 0;
    if (from > 0) out.push(`- … ${from} step${from === 1 ? '' : 's'} from the GC roots`);
    for (let i = from; i < steps.length; i++) {
      const p = places.steps[i];
      out.push(`- ${code(stepText(steps[i]))}${p ? ' ' + lineLink(p.file, p.line, root) : ''}${steps[i].owner ? ' **← owner**' : ''}`);
    }
  }
  if (g.allocationSites.length) {
    out.push('', '**Allocated**', '');
    g.allocationSites.slice(0, 5).forEach((s, i) => {
      const p = places.sites[i];
      out.push(`- ${s.count} in ${code((s.function || '(anonymous)') + '()')}${p ? ' at ' + lineLink(p.file, p.line, root) : ''}`);
    });
  }
  if (g.alsoHeld.length) out.push('', `Also held there: ${g.alsoHeld.slice(0, 5).map((a) => `${a.count} ${code(a.className)}`).join(', ')}`);
  const retains = g.retains.filter((r) => r.className !== g.className).slice(0, 4);
  if (retains.length) out.push('', `Each keeps alive: ${retains.map((r) => `${code(r.className)} ${formatBytes(r.size)}`).join(', ')}`);
  if (showCommand) out.push('', `[Show retainers](${showCommand})`);
  return out.join('\n');
}
