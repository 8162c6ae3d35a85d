/**
 * Words for the editor: diagnostic messages, code lens titles and hover markdown for leak groups. Every name in a
 * report came out of a heap snapshot and is untrusted text: in markdown it goes into code spans (or is escaped),
 * never raw, and it is cut to a sane length.
 */
import * as path from 'path';
import { pathToFileURL } from 'url';
import { stepLabel, stepWhere } from '../render/steps';
import { formatBytes } from '../protocol/units';
import {
  ADDED_AT,
  SAMPLING_NOTICE,
  samplingBytesPerRound,
  samplingGrowthSentence,
  samplingLiveBytes,
  SERIES_ARROW,
  callerOrigin,
  callerSentence,
  collectionGrowth,
  chainSentence,
  collectionHeadline,
  containerSentence,
  frameText,
  heldViaSentence,
  siteCountText,
  siteOrigin,
  threadText,
  resourceAwaited,
  resourceCreated,
  resourceHeadline,
} from '../render/words';
import type {
  AllocationSite,
  LeakGroup,
  ResourceGroup,
  RetainerStep,
  SamplingGrowth,
  SourceLocation,
} from '../protocol/report';

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

/** ` (thread: worker 1 jobs)` for a group of a report with more than one thread, else ''. */
function threadSuffix(g: LeakGroup, threaded: boolean): string {
  const t = threadText(g, threaded);
  return t ? ` (${clip(t, 80)})` : '';
}

/**
 * `_connections holds 200 Connection (+100 per round, 1.5 MB retained)`; for a collection `seenIds (Set) grows: +100
 * entries per round (200 -> 300 -> 400), 9.8 KB retained`; for a chain, the link that keeps each element.
 */
export function ownerMessage(g: LeakGroup, threaded = false): string {
  const also = g.alsoHeld.length
    ? `; also ${g.alsoHeld
        .slice(0, 3)
        .map((a) => `${a.count} ${clip(a.className, 60)}`)
        .join(', ')}`
    : '';
  const thread = threadSuffix(g, threaded);
  if (g.kind === 'collection' && g.collection)
    return `${clip(collectionHeadline(g), 240)}, ${formatBytes(g.retainedSize)} retained${native(g)}${thread}${also}`;
  const chain = g.kind === 'chain' ? ' a chain of' : '';
  const via = g.heldVia ? `, ${clip(heldViaSentence(g), 120)}` : '';
  const link = chainSentence(g) ? `: ${clip(chainSentence(g), 200)}` : '';
  return `${clip(g.owner.name)} ${verb(g)}${chain} ${g.count} ${clip(g.className, 80)} (${growth(g)}${formatBytes(g.retainedSize)} retained${native(g)})${via}${link}${thread}${also}`;
}

/** `profileLoader (server.js:28) holds, through DataLoader._cacheMap inside a library, 200 UserProfile (...)`. */
export function holderMessage(g: LeakGroup, label: string, threaded = false): string {
  return `${clip(label)}: ${ownerMessage(g, threaded)}`;
}

/** `200 Connection allocated here in accept() leak through _connections (+100 per round)`. */
export function allocationMessage(g: LeakGroup, site: AllocationSite): string {
  const fn = site.function && site.function !== '(anonymous)' ? ` in ${clip(site.function, 60)}()` : '';
  const per = g.growthPerRound > 0 ? ` (+${g.growthPerRound} per round)` : '';
  return `${site.count || g.count} ${clip(g.className, 80)} allocated here${fn} leak through ${clip(g.owner.name)}${per}`;
}

/** A resource group's marker text: what grows, per round, what creates and holds it. */
export function resourceMessage(r: ResourceGroup): string {
  const held = `held by ${clip(r.owner.name)}`;
  const created = r.createdAt ? `${resourceCreated(r)} here` : 'held here';
  const awaited = r.awaitedBy ? `; ${resourceAwaited(r)}` : '';
  return `${clip(resourceHeadline(r), 300)}: ${created}, ${held}${awaited}.`;
}

export function moduleMessage(instances: number[]): string {
  const last = instances[instances.length - 1] ?? 0;
  return `This module is loaded again and again: ${last} live copies (${instances.join(' -> ')} across the snapshots). Each load runs its top-level code again and the old copies stay alive.`;
}

export function ownerLensTitle(g: LeakGroup): string {
  if (g.kind === 'collection')
    return `${clip(g.className, 60)} grows by ${g.growthPerRound} entries per round, ${formatBytes(g.retainedSize)}, show retainers`;
  return `${g.count} ${clip(g.className, 60)} leaked, ${formatBytes(g.retainedSize)}, show retainers`;
}

export function allocationLensTitle(g: LeakGroup, site: AllocationSite): string {
  return `${site.count || g.count} ${clip(g.className, 60)} allocated here leaked, show retainers`;
}

/** A file as the editor's texts show it: relative to the workspace root when it is inside it, else its base name. */
export function shownPath(root: string | undefined): (file: string) => string {
  return (file) => {
    const rel = root ? path.relative(root, file) : '';
    return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : path.basename(file);
  };
}

/** A link to a line of a file, `[store.ts:37](file:///.../store.ts#L37)`, which VS Code opens at that line. */
export function lineLink(file: string, line: number, root: string | undefined, text?: string): string {
  return `[${escapeMarkdown(text ?? `${shownPath(root)(file)}:${line}`)}](${pathToFileURL(file).href}#L${line})`;
}

/**
 * A retainer step in a hover: its words as everywhere else (render/steps.ts), then the report's location, a link to
 * where the step is in the workspace when it was placed there (with the line it has now, if the file changed).
 */
function stepLine(step: RetainerStep, index: number, place: HoverPlace | undefined, root: string | undefined): string {
  const label = code(stepLabel(step, index));
  const owner = step.owner ? ' **← owner**' : '';
  if (!step.location) return `- ${label}${owner}`;
  const where = stepWhere(step.location, shownPath(root));
  const moved = place && place.line !== step.location.line ? `, now line ${place.line}` : '';
  return `- ${label} (${place ? lineLink(place.file, place.line, root, where) : escapeMarkdown(where)}${moved})${owner}`;
}

export interface HoverPlace {
  file: string;
  line: number;
}

/** Finds a report location in the workspace (a line to link to), or undefined when it is not there. */
export type PlaceOf = (loc: SourceLocation, name?: string) => HoverPlace | undefined;

/** A link to a report location when it is in the workspace, else its file name and line as text. */
function placeText(
  loc: SourceLocation | undefined,
  placeOf: PlaceOf | undefined,
  root: string | undefined,
  name?: string,
): string {
  if (!loc) return '';
  const p = placeOf?.(loc, name);
  return p ? lineLink(p.file, p.line, root) : escapeMarkdown(`${path.basename(loc.file)}:${loc.line}`);
}

/**
 * The hover of a marker: what leaks, the retainer path from the GC roots with a link at every step that has a
 * place in the workspace, the allocation sites, and (for clients that implement it) a link that opens the group.
 * `placeOf` finds the other places a group names (related places, callbacks, callers, stack frames, the line that
 * adds a collection's entries); each is a link when it is in the workspace.
 */
export function hoverMarkdown(
  g: LeakGroup,
  places: {
    steps: (HoverPlace | undefined)[];
    sites: (HoverPlace | undefined)[];
    owner?: HoverPlace;
    placeOf?: PlaceOf;
    threaded?: boolean;
  },
  root: string | undefined,
  showCommand: string | undefined,
): string {
  const out: string[] = [];
  const at = (loc: SourceLocation | undefined, name?: string): string =>
    loc ? ' at ' + placeText(loc, places.placeOf, root, name) : '';
  const thread = threadText(g, places.threaded ?? false);
  if (g.kind === 'collection' && g.collection) {
    out.push(
      `**Leak Lens**: ${code(g.owner.name)} (${code(g.className)}) grows: ${escapeMarkdown(collectionGrowth(g))}, ${formatBytes(g.retainedSize)} retained${native(g)}`,
    );
  } else {
    out.push(
      `**Leak Lens**: ${g.count} ${code(g.className)}${g.kind === 'chain' ? ' (a chain)' : ''} held by ${code(g.owner.name)} (${growth(g)}${formatBytes(g.retainedSize)} retained${native(g)})`,
    );
  }
  if (thread) out.push('', `Thread: ${code(thread.replace(/^thread: /, ''))}`);
  if (chainSentence(g)) out.push('', escapeMarkdown(cap(chainSentence(g))));
  if (g.countSeries.length > 1 && g.kind !== 'collection')
    out.push('', `Count in each snapshot: ${g.countSeries.join(' → ')}`);
  if (places.owner) out.push('', `Owner declared at ${lineLink(places.owner.file, places.owner.line, root)}`);
  if (g.kind === 'collection' && g.collection?.addedAt)
    out.push('', `${cap(ADDED_AT)} ${placeText(g.collection.addedAt, places.placeOf, root)}`);
  if (g.heldVia) out.push('', `${escapeMarkdown(cap(heldViaSentence(g)))}${at(g.heldVia.location)}`);
  for (const r of (g.owner.related ?? []).slice(0, 8))
    out.push(
      '',
      `${escapeMarkdown(cap(r.label))}: ${placeText(r.location, places.placeOf, root, holderName(r.label))}`,
    );
  if (containerSentence(g)) out.push('', escapeMarkdown(cap(containerSentence(g))));
  if (g.retainerPath.length) {
    out.push('', '**Retainer path** (from the GC roots to a leaked object):', '');
    const steps = g.retainerPath;
    const ownerAt = steps.findIndex((s) => s.owner);
    // Long paths start deep inside Node; show the last steps, which are the program's own.
    const from =
      steps.length > 12 ? Math.max(0, Math.min(ownerAt >= 0 ? ownerAt - 6 : steps.length - 12, steps.length - 12)) : 0;
    if (from > 0) out.push(`- … ${from} step${from === 1 ? '' : 's'} from the GC roots`);
    for (let i = from; i < steps.length; i++) out.push(stepLine(steps[i], i, places.steps[i], root));
  }
  if (g.allocationSites.length && g.kind !== 'collection') {
    out.push('', '**Allocated**', '');
    g.allocationSites.slice(0, 5).forEach((s, i) => {
      const p = places.sites[i];
      const origin = siteOrigin(s);
      out.push(
        `- ${escapeMarkdown(siteCountText(s))} in ${code((s.function || '(anonymous)') + '()')}${p ? ' at ' + lineLink(p.file, p.line, root) : s.location ? at(s.location) : ''}${origin ? ` (${escapeMarkdown(origin)})` : ''}`,
      );
      const callerFrom = callerOrigin(s);
      if (s.caller)
        out.push(
          `  - ${escapeMarkdown(cap(callerSentence(s)))}${at(s.caller.location)}${callerFrom ? ` (${escapeMarkdown(callerFrom)})` : ''}`,
        );
      else if (s.callerNote) out.push(`  - ${escapeMarkdown(cap(s.callerNote))}`);
      if (s.stack?.length) {
        out.push('  - Creating stack, innermost first:');
        for (const f of s.stack.slice(0, 10)) out.push(`    - ${code(frameText(f))}${at(f.location)}`);
      }
    });
  }
  if (g.alsoHeld.length)
    out.push(
      '',
      `Also held there: ${g.alsoHeld
        .slice(0, 5)
        .map((a) => `${a.count} ${code(a.className)}`)
        .join(', ')}`,
    );
  const retains = g.retains.filter((r) => r.className !== g.className).slice(0, 4);
  if (retains.length)
    out.push('', `Each keeps alive: ${retains.map((r) => `${code(r.className)} ${formatBytes(r.size)}`).join(', ')}`);
  if (showCommand) out.push('', `[Show retainers](${showCommand})`);
  return out.join('\n');
}

/** A sentence with its first letter capitalised, to start a line. */
function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The application's variable a related place names, such as `profileLoader` in "held in the application by profileLoader". */
export function holderName(label: string): string | undefined {
  const m = /([A-Za-z_$][\w$]*)\s*$/.exec(label);
  return m ? m[1] : undefined;
}

/** The diagnostic of an allocating line of a growing sampled stack: the growth, and what sampling cannot tell. */
export function sampledMessage(g: SamplingGrowth, interval: number): string {
  return `Leak Lens: ${samplingGrowthSentence({ ...g, constructs: g.constructs ? clip(g.constructs, 60) : undefined }, interval)}; ${SAMPLING_NOTICE}.`;
}

/**
 * A growing sampled stack in a hover: the growth per round, the live samples at each boundary, the allocating stack
 * with links to the frames placed in the workspace, and what sampling cannot tell.
 */
export function sampledHoverMarkdown(
  g: SamplingGrowth,
  interval: number,
  frames: (HoverPlace | undefined)[],
  root: string | undefined,
): string {
  const lines: string[] = [];
  // The constructor's name came from the program: a code span; the rest are figures.
  lines.push(
    `**Leak Lens** (allocation sampling): objects allocated here${g.constructs ? ` (new ${code(clip(g.constructs, 60))})` : ''} grow every round: about +${formatBytes(samplingBytesPerRound(g, interval))} live per round.`,
  );
  lines.push('');
  lines.push(
    `Live bytes per round (estimated): ${samplingLiveBytes(g, interval)
      .map((b) => formatBytes(b))
      .join(
        ' → ',
      )}; live samples ${g.liveSamples.join(SERIES_ARROW)} (one per ${formatBytes(interval)} allocated); about ${formatBytes(g.estimatedBytes)} kept from the rounds.`,
  );
  lines.push('');
  lines.push('Allocating stack, innermost first:');
  lines.push('');
  g.stack.forEach((f, i) => {
    const place = frames[i];
    const where = place
      ? ` ${lineLink(place.file, place.line, root)}`
      : f.location
        ? ` ${escapeMarkdown(`${shownPath(root)(f.location.file)}:${f.location.line}`)}`
        : '';
    lines.push(`${i + 1}. ${code(`${f.function}()`)}${where}${f.library ? ' (library)' : ''}`);
  });
  lines.push('');
  lines.push(`_${escapeMarkdown(SAMPLING_NOTICE.charAt(0).toUpperCase() + SAMPLING_NOTICE.slice(1))}._`);
  return lines.join('\n');
}
