/**
 * Reading leak reports that arrive from outside: a file on disk or a notification payload. Nothing in them is
 * trusted. A report is checked field by field and rebuilt as a well-typed {@link LeakReport}; a group that lacks what
 * a marker needs is dropped with a reason, a location that is not a file/line/column is dropped from its group, and
 * a report too large to parse without stalling the server is refused. Cost: one pass over the report.
 */
import * as fs from 'fs';
import type {
  AllocationSite,
  LeakGroup,
  LeakOwner,
  LeakReport,
  RetainerStep,
  SnapshotInfo,
  ResourceGroup,
  SamplingFindings,
  SamplingFrame,
  SamplingGrowth,
  SourceLocation,
} from '../protocol/report';

/** Larger report files are refused: JSON.parse would hold the server's only thread for seconds. */
export const MAX_REPORT_BYTES = 256 * 1024 * 1024;
/** Longer retainer paths are cut (a path is shown in a hover; real ones are tens of steps). */
const MAX_PATH_STEPS = 200;

export type ReportInput = { ok: true; report: LeakReport; problems: string[] } | { ok: false; error: string };

const OWNER_KINDS = new Set(['variable', 'static-property', 'property', 'global', 'listeners', 'timer', 'internal']);
const GROUP_KINDS = new Set(['objects', 'chain', 'collection']);
/** Longer lists inside a group (related places, stack frames, chain links, per-snapshot figures) are cut. */
const MAX_LIST = 50;
/** Names and labels longer than this are cut: they are shown on one line. */
const MAX_NAME = 500;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown, fallback = ''): string {
  return typeof v === 'string' ? v : fallback;
}

function num(v: unknown, fallback = 0): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

function nums(v: unknown): number[] {
  return Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)) : [];
}

function positiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1;
}

/** A location with a file name and 1-based line and column, or undefined. */
export function location(v: unknown): SourceLocation | undefined {
  if (!isRecord(v) || typeof v.file !== 'string' || v.file.length === 0 || !positiveInt(v.line)) return undefined;
  const column = positiveInt(v.column) ? v.column : 1;
  const out: SourceLocation = { file: v.file, line: v.line, column };
  if (isRecord(v.generated) && typeof v.generated.file === 'string' && positiveInt(v.generated.line)) {
    out.generated = {
      file: v.generated.file,
      line: v.generated.line,
      column: positiveInt(v.generated.column) ? v.generated.column : 1,
    };
  }
  return out;
}

/** A short name or label: a non-empty string, cut to {@link MAX_NAME} characters. */
function name(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v.slice(0, MAX_NAME) : undefined;
}

/** `{ function, location? }`, as a caller or a stack frame has it; undefined without a function name. */
function frame(v: unknown): { function: string; location?: SourceLocation } | undefined {
  if (!isRecord(v) || typeof v.function !== 'string') return undefined;
  const out: { function: string; location?: SourceLocation } = { function: v.function.slice(0, MAX_NAME) };
  const loc = location(v.location);
  if (loc) out.location = loc;
  return out;
}

function allocationSite(s: Record<string, unknown>): AllocationSite {
  const site: AllocationSite = { function: str(s.function, '(anonymous)').slice(0, MAX_NAME), count: num(s.count) };
  const loc = location(s.location);
  if (loc) site.location = loc;
  const caller = frame(s.caller);
  if (caller) site.caller = caller;
  if (Array.isArray(s.stack)) {
    const stack = s.stack
      .slice(0, MAX_LIST)
      .map((f) => {
        const out: NonNullable<AllocationSite['stack']>[number] | undefined = frame(f);
        if (out && isRecord(f) && f.app === true) out.app = true;
        return out;
      })
      .filter((f): f is NonNullable<AllocationSite['stack']>[number] => !!f);
    if (stack.length) site.stack = stack;
  }
  if (s.fromSource === true) site.fromSource = true;
  return site;
}

/** The new facts of a group (kind, chain, collection, heldVia, thread), each kept only when well formed. */
function groupFacts(v: Record<string, unknown>, g: LeakGroup, label: string, problems: string[]): void {
  if (typeof v.kind === 'string' && GROUP_KINDS.has(v.kind)) g.kind = v.kind as LeakGroup['kind'];
  else if (v.kind !== undefined)
    problems.push(
      `leak group ${label}: kind ${JSON.stringify(v.kind).slice(0, 40)} is not objects, chain or collection; shown as objects`,
    );
  if (isRecord(v.chain) && Array.isArray(v.chain.link)) {
    const link = v.chain.link
      .slice(0, MAX_LIST)
      .map(name)
      .filter((x): x is string => !!x);
    if (link.length) g.chain = { link };
  }
  const c = v.collection;
  if (isRecord(c) && typeof c.className === 'string') {
    const collection: NonNullable<LeakGroup['collection']> = {
      className: c.className.slice(0, MAX_NAME),
      entries: nums(c.entries).slice(0, MAX_LIST),
      bytes: nums(c.bytes).slice(0, MAX_LIST),
    };
    const added = location(c.addedAt);
    if (added) collection.addedAt = added;
    g.collection = collection;
  } else if (c !== undefined) problems.push(`leak group ${label}: the collection has no class name; left out`);
  if (isRecord(v.heldVia) && typeof v.heldVia.className === 'string') {
    const heldVia: NonNullable<LeakGroup['heldVia']> = { className: v.heldVia.className.slice(0, MAX_NAME) };
    const loc = location(v.heldVia.location);
    if (loc) heldVia.location = loc;
    g.heldVia = heldVia;
  }
  const thread = name(v.thread);
  if (thread) g.thread = thread;
}

function step(v: unknown): RetainerStep | undefined {
  if (!isRecord(v)) return undefined;
  const out: RetainerStep = {
    edge: str(v.edge),
    edgeType: str(v.edgeType),
    node: str(v.node),
    nodeType: str(v.nodeType),
    nodeId: num(v.nodeId),
  };
  const loc = location(v.location);
  if (loc) out.location = loc;
  if (v.owner === true) out.owner = true;
  return out;
}

function group(v: unknown, index: number, problems: string[]): LeakGroup | undefined {
  if (!isRecord(v)) {
    problems.push(`leak group #${index + 1} is not an object`);
    return undefined;
  }
  const owner = v.owner;
  if (typeof v.className !== 'string' || !isRecord(owner) || typeof owner.name !== 'string') {
    problems.push(
      `leak group #${index + 1} (${typeof v.id === 'string' ? v.id : 'no id'}) has no class name or owner name`,
    );
    return undefined;
  }
  const kind =
    typeof owner.kind === 'string' && OWNER_KINDS.has(owner.kind) ? (owner.kind as LeakOwner['kind']) : 'internal';
  const o: LeakOwner = { name: owner.name, kind };
  const ownerLoc = location(owner.location);
  if (ownerLoc) o.location = ownerLoc;
  else if (owner.location !== undefined)
    problems.push(`leak group ${str(v.id, '#' + (index + 1))}: the owner location is not a file, line and column`);
  if (Array.isArray(owner.related)) {
    // A related place without a label or a location says nothing: it is dropped.
    const related = owner.related
      .slice(0, MAX_LIST)
      .filter(isRecord)
      .map((r) => ({ label: name(r.label), location: location(r.location) }));
    const kept = related.filter((r): r is { label: string; location: SourceLocation } => !!r.label && !!r.location);
    const total = Math.min(owner.related.length, MAX_LIST);
    if (kept.length < total)
      problems.push(
        `leak group ${str(v.id, '#' + (index + 1))}: ${total - kept.length} related place(s) of the owner without a label or a file, line and column were left out`,
      );
    if (kept.length) o.related = kept;
  }
  const sites: AllocationSite[] = [];
  for (const s of Array.isArray(v.allocationSites) ? v.allocationSites : []) {
    if (!isRecord(s)) continue;
    sites.push(allocationSite(s));
  }
  const path = (Array.isArray(v.retainerPath) ? v.retainerPath : [])
    .slice(0, MAX_PATH_STEPS)
    .map(step)
    .filter((s): s is RetainerStep => !!s);
  const g: LeakGroup = {
    id: str(v.id, `${v.className}@${owner.name}`),
    className: v.className,
    count: num(v.count),
    growthPerRound: num(v.growthPerRound),
    newPerRound: nums(v.newPerRound),
    countSeries: nums(v.countSeries),
    retainedSize: num(v.retainedSize),
    shallowSize: num(v.shallowSize),
    nativeSize: num(v.nativeSize),
    owner: o,
    retainerPath: path,
    retains: (Array.isArray(v.retains) ? v.retains : [])
      .filter(isRecord)
      .slice(0, 20)
      .map((r) => ({ className: str(r.className), count: num(r.count), size: num(r.size) })),
    alsoHeld: (Array.isArray(v.alsoHeld) ? v.alsoHeld : [])
      .filter(isRecord)
      .slice(0, 20)
      .map((r) => ({
        className: str(r.className),
        count: num(r.count),
        growthPerRound: num(r.growthPerRound),
        retainedSize: num(r.retainedSize),
      })),
    allocationSites: sites,
    sampleIds: nums(v.sampleIds).slice(0, 20),
  };
  const classLoc = location(v.classLocation);
  if (classLoc) g.classLocation = classLoc;
  groupFacts(v, g, str(v.id, '#' + (index + 1)), problems);
  return g;
}

function samplingFrame(v: unknown): SamplingFrame | undefined {
  if (!isRecord(v) || typeof v.function !== 'string') return undefined;
  const out: SamplingFrame = { function: v.function.slice(0, MAX_NAME) || '(anonymous)' };
  const loc = location(v.location);
  if (loc) out.location = loc;
  if (v.library === true) out.library = true;
  return out;
}

/**
 * The sampling mode's findings (`leak-lens run --sampling`, Find Leaks in sampling mode): growing allocation stacks,
 * each kept only with its allocating frame and its live samples; undefined when absent or not well formed.
 */
function samplingFindings(v: unknown, problems: string[]): SamplingFindings | undefined {
  if (v === undefined) return undefined;
  if (
    !isRecord(v) ||
    !Array.isArray(v.growth) ||
    !(typeof v.interval === 'number' && v.interval > 0 && Number.isFinite(v.interval))
  ) {
    problems.push('the sampling findings have no growth list or no sampling interval; left out');
    return undefined;
  }
  const growth: SamplingGrowth[] = [];
  v.growth.slice(0, MAX_LIST).forEach((x, i) => {
    const site = isRecord(x) ? samplingFrame(x.site) : undefined;
    if (!isRecord(x) || !site) {
      problems.push(`growing stack #${i + 1} has no allocating frame; left out`);
      return;
    }
    const stack = (Array.isArray(x.stack) ? x.stack : [])
      .slice(0, MAX_LIST)
      .map(samplingFrame)
      .filter((f): f is SamplingFrame => !!f);
    const g: SamplingGrowth = {
      stack: stack.length ? stack : [site],
      site,
      liveSamples: nums(x.liveSamples).slice(0, MAX_LIST),
      survivorsPerRound: nums(x.survivorsPerRound).slice(0, MAX_LIST),
      estimatedBytes: num(x.estimatedBytes),
    };
    const constructs = name(x.constructs);
    if (constructs) g.constructs = constructs;
    growth.push(g);
  });
  return {
    interval: v.interval,
    rounds: positiveInt(v.rounds)
      ? v.rounds
      : Math.max(1, growth[0]?.liveSamples.length ? growth[0].liveSamples.length - 1 : 1),
    growth,
  };
}

/** Checks an untrusted value and rebuilds it as a report, or says in one line why it is not one. */
export function sanitizeReport(raw: unknown): ReportInput {
  if (!isRecord(raw)) return { ok: false, error: 'not a leak report (expected a JSON object)' };
  if (!Array.isArray(raw.leaks))
    return { ok: false, error: 'not a leak report (no "leaks" array); write one with `leak-lens run --format json`' };
  const problems: string[] = [];
  if (raw.tool !== undefined && raw.tool !== 'leak-lens')
    problems.push(`the report says it was written by ${JSON.stringify(raw.tool)}, not leak-lens`);
  const leaks: LeakGroup[] = [];
  const ids = new Set<string>();
  raw.leaks.forEach((v, i) => {
    const g = group(v, i, problems);
    if (!g) return;
    // Group ids name lens targets; keep them unique within a report.
    let id = g.id;
    for (let n = 2; ids.has(id); n++) id = `${g.id}#${n}`;
    g.id = id;
    ids.add(id);
    leaks.push(g);
  });
  const duplicateModules = (Array.isArray(raw.duplicateModules) ? raw.duplicateModules : [])
    .filter(isRecord)
    .filter((d) => typeof d.file === 'string')
    .map((d) => {
      const loc = location(d.location);
      return { file: d.file as string, instances: nums(d.instances), ...(loc ? { location: loc } : {}) };
    });
  // Growing resources: only their words and locations are used, each field checked like a group's.
  const resourceKinds = new Set([
    'pending-promise',
    'socket',
    'server',
    'timer',
    'file-handle',
    'child-process',
    'handle',
    'vm-context',
  ]);
  const resources: ResourceGroup[] = (Array.isArray(raw.resources) ? raw.resources : [])
    .filter(isRecord)
    .slice(0, MAX_LIST)
    .flatMap((r, i) => {
      if (typeof r.kind !== 'string' || !resourceKinds.has(r.kind) || !isRecord(r.owner)) {
        problems.push(`resources[${i}] skipped: it needs a known kind and an owner`);
        return [];
      }
      const ownerLoc = location(r.owner.location);
      const created = isRecord(r.createdAt)
        ? {
            function: str(r.createdAt.function, '(anonymous)'),
            location: location(r.createdAt.location),
            count: num(r.createdAt.count),
          }
        : undefined;
      const awaited = isRecord(r.awaitedBy)
        ? { function: str(r.awaitedBy.function, '(anonymous)'), location: location(r.awaitedBy.location) }
        : undefined;
      const g: ResourceGroup = {
        id: str(r.id, `${r.kind}#${i}`).slice(0, 400),
        kind: r.kind as ResourceGroup['kind'],
        name: str(r.name, r.kind).slice(0, 200),
        count: num(r.count),
        growthPerRound: num(r.growthPerRound),
        newPerRound: nums(r.newPerRound),
        countSeries: nums(r.countSeries),
        owner: {
          name: str(r.owner.name, '(unknown)').slice(0, 400),
          kind: 'internal',
          ...(ownerLoc ? { location: ownerLoc } : {}),
        },
        retainerPath: [],
        sampleIds: [],
        ...(typeof r.native === 'string' ? { native: r.native.slice(0, 100) } : {}),
        ...(created ? { createdAt: created } : {}),
        ...(awaited ? { awaitedBy: awaited } : {}),
        ...(typeof r.thread === 'string' ? { thread: r.thread.slice(0, 200) } : {}),
      };
      return [g];
    });
  const snapshotList = (v: unknown): SnapshotInfo[] =>
    (Array.isArray(v) ? v : []).filter(isRecord).map((s) => ({
      file: str(s.file),
      label: typeof s.label === 'string' ? s.label : undefined,
      time: typeof s.time === 'string' ? s.time : undefined,
      nodeCount: num(s.nodeCount),
      edgeCount: num(s.edgeCount),
      totalSize: num(s.totalSize),
      maxJsObjectId: num(s.maxJsObjectId),
    }));
  const snapshots = snapshotList(raw.snapshots);
  // Threads of a worker_threads program: each named, with its own snapshots; nameless entries are dropped.
  const threads = (Array.isArray(raw.threads) ? raw.threads : [])
    .filter(isRecord)
    .slice(0, MAX_LIST)
    .flatMap((t) => {
      const n = name(t.name);
      return n ? [{ name: n, snapshots: snapshotList(t.snapshots) }] : [];
    });
  const sampling = samplingFindings(raw.sampling, problems);
  const report: LeakReport = {
    version: num(raw.version, 1),
    tool: 'leak-lens',
    verdict: leaks.length > 0 || resources.length > 0 || (sampling?.growth.length ?? 0) > 0 ? 'leak' : 'clean',
    createdAt: str(raw.createdAt),
    pid: typeof raw.pid === 'number' ? raw.pid : undefined,
    rounds: num(raw.rounds),
    snapshots,
    leaks,
    duplicateModules,
    resources,
    classGrowth: [],
    warnings: (Array.isArray(raw.warnings) ? raw.warnings : []).filter((w): w is string => typeof w === 'string'),
    timings: {},
  };
  if (threads.length) report.threads = threads;
  if (sampling) report.sampling = sampling;
  return { ok: true, report, problems };
}

/** Parses report JSON text. */
export function parseReport(text: string): ReportInput {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `not valid JSON (${(e as Error).message})` };
  }
  return sanitizeReport(raw);
}

/** Reads and checks a report file without blocking on a huge one. */
export async function readReportFile(file: string): Promise<ReportInput> {
  let size: number;
  try {
    size = (await fs.promises.stat(file)).size;
  } catch (e) {
    return {
      ok: false,
      error:
        (e as NodeJS.ErrnoException).code === 'ENOENT'
          ? 'the file does not exist'
          : `cannot read it (${(e as Error).message})`,
    };
  }
  if (size > MAX_REPORT_BYTES)
    return {
      ok: false,
      error: `it is ${Math.round(size / 1024 / 1024)} MB, over the ${MAX_REPORT_BYTES / 1024 / 1024} MB limit for reports`,
    };
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (e) {
    return { ok: false, error: `cannot read it (${(e as Error).message})` };
  }
  if (text.trim() === '') return { ok: false, error: 'the file is empty (a run may still be writing it)' };
  return parseReport(text);
}

/**
 * When the running program last read its sources: the first snapshot's time, else the report's creation time, in
 * epoch milliseconds. A source file modified after this may no longer match the report's line numbers.
 */
export function reportSourceTime(r: LeakReport): number | undefined {
  const times = [...r.snapshots.map((s) => s.time), r.createdAt]
    .map((t) => (t ? Date.parse(t) : NaN))
    .filter((t) => Number.isFinite(t));
  return times.length ? Math.min(...times) : undefined;
}
