/**
 * Words for the facts of a leak group beyond class, count and owner: what kind of leak it is (a chain, a growing
 * collection), what each object is held through (a callback, a timer), the container that grows, where library code
 * was called from, and the thread. The CLI, the VS Code markdown, the language server and the webview all take their
 * sentences from here, so they never disagree. Plain text only: each view escapes it (markdown) or sets it as text
 * (DOM); locations are left to the views, which show them as paths or links. No imports but types and units.
 */
import { formatBytes } from '../protocol/units';
import type { AllocationSite, LeakGroup, ResourceGroup, SamplingGrowth } from '../protocol/report';

/** The arrow between figures of successive snapshots. */
export const SERIES_ARROW = ' -> ';

/**
 * How a collection grows: `+100 entries per round (200 -> 300 -> 400)`. When every snapshot counts the same
 * entries (small integers, which a snapshot does not count as objects), the storage bytes show the growth.
 */
export function collectionGrowth(g: Pick<LeakGroup, 'growthPerRound' | 'collection'>): string {
  const c = g.collection;
  if (!c) return '';
  const bytesOnly = c.entries.length > 0 && c.entries.every((e) => e === c.entries[0]);
  return bytesOnly
    ? `storage ${c.bytes.map((b) => formatBytes(b)).join(SERIES_ARROW)} (its entries are small integers, which a snapshot does not count)`
    : `+${g.growthPerRound} entries per round (${c.entries.join(SERIES_ARROW)})`;
}

/** The headline of a collection group, without figures of size: `seenIds (Set) grows: +100 entries per round (...)`. */
export function collectionHeadline(
  g: Pick<LeakGroup, 'growthPerRound' | 'collection' | 'className' | 'owner'>,
): string {
  return `${g.owner.name} (${g.className}) grows: ${collectionGrowth(g)}`;
}

/** For a chain: `each Revision keeps the previous one alive through .previous`, or '' without a link. */
export function chainSentence(g: Pick<LeakGroup, 'className' | 'chain'>): string {
  if (!g.chain?.link.length) return '';
  return `each ${g.className} keeps the previous one alive through .${g.chain.link.join(SERIES_ARROW)}`;
}

/** What keeps each object: `each through a callback anonymous()` or `each through a timer Timeout` ('' if none). */
export function heldViaSentence(g: Pick<LeakGroup, 'heldVia'>): string {
  if (!g.heldVia) return '';
  return `each through ${g.heldVia.className === 'Timeout' ? 'a timer' : 'a callback'} ${g.heldVia.className}`;
}

/** For objects in a collection that grows (not the group itself): `in a growing Map: 200 -> 300 entries`. */
export function containerSentence(g: Pick<LeakGroup, 'kind' | 'collection'>): string {
  if (g.kind === 'collection' || !g.collection) return '';
  return `in a growing ${g.collection.className}: ${g.collection.entries.join(SERIES_ARROW)} entries`;
}

/** The label of the line that adds a collection's entries. */
export const ADDED_AT = 'entries added at';

/** The label of the application's line that called into a library which made the objects: `called from handler()`. */
export function callerSentence(site: Pick<AllocationSite, 'caller'>): string {
  if (!site.caller) return '';
  return `called from ${site.caller.function || '(anonymous)'}()`;
}

/**
 * The count after an allocation line: `200`, or, when V8's stacks put only part of the group there,
 * `22 of 200 by V8's allocation stacks; none kept for 170, another stack for 8`.
 */
export function siteCountText(site: Pick<AllocationSite, 'count' | 'of' | 'withoutStack'>): string {
  if (site.of === undefined || site.count >= site.of) return String(site.count);
  const none = site.withoutStack ?? 0;
  const other = site.of - site.count - none;
  const rest = [none > 0 ? `none kept for ${none}` : '', other > 0 ? `another stack for ${other}` : '']
    .filter(Boolean)
    .join(', ');
  return `${site.count} of ${site.of} by V8's allocation stacks${rest ? `; ${rest}` : ''}`;
}

/**
 * How the application's calling line was found when it was not in an allocation stack: `found in the source: the
 * application's call of acquire()` (or `one of 3 calls`).
 */
export function callerOrigin(site: Pick<AllocationSite, 'caller' | 'function'>): string {
  const c = site.caller;
  if (!c?.fromSource) return '';
  const what = `${site.function || '(anonymous)'}()`;
  return c.candidates && c.candidates > 1
    ? `found in the source, no allocation stack: one of ${c.candidates} calls into the library towards ${what}`
    : `found in the source, no allocation stack: the application's call into the library towards ${what}`;
}

/** Says how a site was found when it was not seen in V8's allocation stacks. */
export function siteOrigin(site: Pick<AllocationSite, 'fromSource' | 'count'>): string {
  if (!site.fromSource) return '';
  return site.count === 0 ? 'found in the source; several places could make them' : 'found in the source';
}

/** One frame of a creating stack: `load()`, marked when it is the application's own frame. */
export function frameText(frame: { function: string; app?: true }): string {
  return `${frame.function || '(anonymous)'}()${frame.app ? ' (application)' : ''}`;
}

/** `thread: worker 1 jobs`, or '' for a report of one thread. */
export function threadText(g: Pick<LeakGroup, 'thread'>, threaded = true): string {
  return threaded && g.thread ? `thread: ${g.thread}` : '';
}

/** What kind of leak a group is, in words: objects, a chain, a growing collection. */
export function kindWords(g: Pick<LeakGroup, 'kind'>): string {
  return g.kind === 'chain' ? 'chain' : g.kind === 'collection' ? 'growing collection' : 'objects';
}

/** What a resource kind is, in a person's words (`never-settled promises`). */
export const RESOURCE_WORDS: Record<ResourceGroup['kind'], string> = {
  'pending-promise': 'never-settled promises',
  socket: 'open sockets',
  server: 'listening servers',
  timer: 'timers never cleared',
  'file-handle': 'open file handles',
  'child-process': 'running child processes',
  handle: 'open handles',
  'vm-context': 'vm contexts',
};

/**
 * The headline of a resource group, without locations: `never-settled promises (Promise) x40, +20 per round (80 -> 120
 * -> 160 of the kind in all)`.
 */
export function resourceHeadline(
  g: Pick<ResourceGroup, 'kind' | 'name' | 'native' | 'count' | 'growthPerRound' | 'countSeries'>,
): string {
  const what = `${g.name}${g.native && g.native !== g.name ? `, ${g.native}` : ''}`;
  return `${RESOURCE_WORDS[g.kind] ?? g.kind} (${what}) x${g.count}, +${g.growthPerRound} per round (${g.countSeries.join(SERIES_ARROW)} of the kind in all)`;
}

/** The words before a resource group's creating line: `created in askBackend()`. */
export function resourceCreated(g: Pick<ResourceGroup, 'createdAt'>): string {
  return g.createdAt ? `created in ${g.createdAt.function}()` : 'created at an unknown line';
}

/** The words before what waits on pending promises: `awaited in finishJob()`. */
export function resourceAwaited(g: Pick<ResourceGroup, 'awaitedBy'>): string {
  return g.awaitedBy ? `awaited by ${g.awaitedBy.function}()` : '';
}

/** What the sampling mode cannot tell, said wherever its findings are shown. */
export const SAMPLING_NOTICE = 'sampling mode: no retainer paths; take a snapshot to see what holds these objects';

/**
 * Estimated live bytes of a stack at each round boundary: its live samples times the sampling interval (V8 samples
 * about one allocation per interval bytes, so each live sample stands for about that much).
 */
export function samplingLiveBytes(g: Pick<SamplingGrowth, 'liveSamples'>, interval: number): number[] {
  return g.liveSamples.map((n) => n * interval);
}

/** Estimated live bytes added per round: the growth from the first boundary to the last, over the rounds. */
export function samplingBytesPerRound(g: Pick<SamplingGrowth, 'liveSamples'>, interval: number): number {
  const live = g.liveSamples;
  return live.length > 1 ? Math.round(((live[live.length - 1] - live[0]) * interval) / (live.length - 1)) : 0;
}

/** Where a growing stack allocates: `accept() (new Connection)`. */
export function samplingSiteText(g: Pick<SamplingGrowth, 'site' | 'constructs'>): string {
  return `${g.site.function}()${g.constructs ? ` (new ${g.constructs})` : ''}`;
}

/**
 * The sentence for one growing stack, for a hover or a diagnostic: `objects allocated here (new Connection) grow
 * every round: about +12.0 KB live per round (4.0 KB -> 16.0 KB -> 28.0 KB), from allocation sampling`.
 */
export function samplingGrowthSentence(
  g: Pick<SamplingGrowth, 'liveSamples' | 'constructs'>,
  interval: number,
): string {
  const live = samplingLiveBytes(g, interval)
    .map((b) => formatBytes(b))
    .join(SERIES_ARROW);
  return `objects allocated here${g.constructs ? ` (new ${g.constructs})` : ''} grow every round: about +${formatBytes(samplingBytesPerRound(g, interval))} live per round (${live}), from allocation sampling`;
}
