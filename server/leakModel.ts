/**
 * What the editor shows for the reports it has: markers (a leak group's owner declaration, its allocation sites, a
 * module loaded again and again) anchored in the workspace's files, static suspects of the open files, and from
 * them the diagnostics, code lenses, hovers and definitions the server answers with.
 *
 * A rebuild goes over every group of every report once: map each location into the workspace, then anchor it in the
 * file's current text (see anchor.ts). Both passes yield to the event loop every few hundred items, so requests are
 * answered while a huge report is applied, and a newer report abandons the older rebuild. Cost: O(groups + files
 * named), one read per file (cached), a parse only for files that changed since the snapshot.
 */
import * as path from 'path';
import { pathToFileURL } from 'url';
import {
  CodeLens,
  Diagnostic,
  DiagnosticRelatedInformation,
  DiagnosticSeverity,
  Hover,
  LocationLink,
  MarkupKind,
  Position,
} from 'vscode-languageserver';
import { SourceResolver } from '../engine/source';
import {
  LeakDiagnosticData,
  ReportStatusParams,
  SHOW_LEAK_GROUP_COMMAND,
  ShowLeakGroupArgs,
  SkippedMarker,
} from '../protocol/lsp';
import { anchor, AnchorTarget, TextRange } from './anchor';
import { ADDED_AT, callerSentence, heldViaSentence } from '../render/words';
import {
  allocationLensTitle,
  allocationMessage,
  clip,
  holderMessage,
  holderName,
  HoverPlace,
  hoverMarkdown,
  moduleMessage,
  ownerLensTitle,
  ownerMessage,
  sampledHoverMarkdown,
  sampledMessage,
  shownPath,
  resourceMessage,
} from './format';
import { stepText } from '../render/steps';
import { reportSourceTime } from './reportInput';
import { Reload, ReloadEvidence, StaticResult, staticSuspects, Suspect } from './staticChecks';
import { FileText, TextSource } from './texts';
import { WorkspacePaths } from './workspacePaths';
import type {
  LeakGroup,
  LeakReport,
  ResourceGroup,
  RetainerStep,
  SourceLocation,
  SamplingGrowth,
} from '../protocol/report';

/** A report the server holds, and where it came from. */
export interface LoadedReport {
  /** The report file's path, or an inline report's label. */
  source: string;
  file?: string;
  report: LeakReport;
  /** When the profiled program read its sources (epoch ms), if the report says. */
  sourceTime?: number;
  /** When it arrived (performance.now()), for the status's duration. */
  arrivedAt: number;
}

/**
 * owner: the owner's line; allocation: an allocation site; module: a module loaded again and again; holder: for an
 * owner inside node_modules, the application's line that holds the library object (where the user edits); sampled:
 * the allocating line of a stack whose live samples grow (a report of the sampling mode: no owner, no retainers).
 */
type MarkerKind = 'owner' | 'allocation' | 'module' | 'holder' | 'sampled' | 'resource';

/** Where a marker should go, before it is anchored in the current text. */
interface MarkerSpec {
  report: LoadedReport;
  group?: LeakGroup;
  at: MarkerKind;
  siteIndex?: number;
  /** For a holder marker: the index in `owner.related`. */
  relatedIndex?: number;
  instances?: number[];
  /** For a resource marker: the growing resource group, marked at the line that creates it. */
  resource?: ResourceGroup;
  /** For a sampled marker: the growing stack, and the report's sampling interval. */
  sampled?: { growth: SamplingGrowth; interval: number };
  file: string;
  line: number;
  column: number;
  targets: AnchorTarget[];
  /** `file:line` as the report has it, for log lines. */
  reported: string;
}

interface Marker {
  spec: MarkerSpec;
  range: TextRange;
  moved: boolean;
  /** The text the marker covers (`_connections`, `setInterval`, `new Connection`), to match static suspects. */
  subject: string;
}

export interface ModelOptions {
  roots: string[];
  pathMap: Record<string, string>;
  staticChecks: boolean;
  /** The client implements the show-group command, so hovers may link to it. */
  hostCommands: boolean;
}

/** Raised inside a rebuild when a newer one has started. */
class Superseded extends Error {}

const YIELD_EVERY = 250;
const IDENT = /^[A-Za-z_$#][\w$]*$/;
const MAX_RELATED = 12;
const MAX_LOGGED = 25;

function ownerTargets(g: LeakGroup): AnchorTarget[] {
  const { name, kind } = g.owner;
  if (kind === 'timer') return [{ kind: 'call', names: ['setInterval', 'setTimeout', 'setImmediate'] }];
  if ((kind === 'property' || kind === 'static-property') && /^module\.\w+ of /.test(name))
    return [{ kind: 'call', names: ['require'] }];
  let ident = name;
  let holder: string | undefined;
  if (kind === 'listeners') ident = name.split(' listeners for ')[0];
  if (kind === 'global') ident = name.replace(/^globalThis\./, '');
  if (kind === 'property' || kind === 'static-property' || kind === 'listeners') {
    const dot = ident.lastIndexOf('.');
    if (dot > 0) {
      holder = ident.slice(0, dot);
      ident = ident.slice(dot + 1);
    }
  }
  if (!IDENT.test(ident)) return [];
  return [{ kind: 'declaration', name: ident, holder: holder && IDENT.test(holder) ? holder : undefined }];
}

/** A location inside an installed package, which the user does not edit. */
function inLibrary(loc: SourceLocation | undefined): boolean {
  return !!loc && /[\\/]node_modules[\\/]/.test(loc.file);
}

/** The related places of a library owner that are in the application: where the library object is held. */
function holders(g: LeakGroup): { label: string; location: SourceLocation; index: number }[] {
  if (g.owner.location && !inLibrary(g.owner.location)) return [];
  return (g.owner.related ?? []).map((r, index) => ({ ...r, index })).filter((r) => !inLibrary(r.location));
}

function holderTargets(label: string): AnchorTarget[] {
  const name = holderName(label);
  return name && IDENT.test(name) ? [{ kind: 'declaration', name }, { kind: 'position' }] : [{ kind: 'position' }];
}

/** True when a report analysed more than one thread, so each group says which thread it is in. */
function threaded(report: LeakReport): boolean {
  return (report.threads?.length ?? 0) > 1;
}

function allocationTargets(g: LeakGroup, fn: string): AnchorTarget[] {
  const bare = g.className.replace(/\(\)$/, '');
  const out: AnchorTarget[] = [];
  if (bare === 'Timeout') out.push({ kind: 'call', names: ['setInterval', 'setTimeout'] });
  else if (bare === 'Module') out.push({ kind: 'call', names: ['require'] });
  else if (IDENT.test(bare) && bare !== 'anonymous') out.push({ kind: 'new', name: bare });
  if (IDENT.test(fn)) out.push({ kind: 'declaration', name: fn });
  return out;
}

/** Where a sampled stack allocates: the `new` of the constructor it calls, else the function's declaration. */
function sampledTargets(g: SamplingGrowth): AnchorTarget[] {
  const out: AnchorTarget[] = [];
  if (g.constructs && IDENT.test(g.constructs)) out.push({ kind: 'new', name: g.constructs });
  else if (IDENT.test(g.site.function)) out.push({ kind: 'declaration', name: g.site.function });
  out.push({ kind: 'position' });
  return out;
}

/** A caller's frame: the token at its line in a file as it ran, else nothing (V8 names no call to look for). */
const FRAME_TARGETS: AnchorTarget[] = [{ kind: 'position' }];

/**
 * Targets for a retainer step's node: a named function or class by its name on the line, else (in an unchanged
 * file) the token at the position, which for a class is its constructor. Only a changed file is parsed for it.
 */
function stepTargets(node: string): AnchorTarget[] {
  const bare = node.replace(/\(\)$/, '');
  return IDENT.test(bare) && bare !== 'anonymous' ? [{ kind: 'declaration', name: bare }, { kind: 'position' }] : [];
}

function contains(r: TextRange, p: Position): boolean {
  const afterStart = p.line > r.start.line || (p.line === r.start.line && p.character >= r.start.character);
  const beforeEnd = p.line < r.end.line || (p.line === r.end.line && p.character <= r.end.character);
  return afterStart && beforeEnd;
}

function sameRange(a: TextRange, b: TextRange): boolean {
  return (
    a.start.line === b.start.line &&
    a.start.character === b.start.character &&
    a.end.line === b.end.line &&
    a.end.character === b.end.character
  );
}

function compareRanges(a: TextRange, b: TextRange): number {
  return a.start.line - b.start.line || a.start.character - b.start.character;
}

export class LeakModel {
  private readonly reports = new Map<string, LoadedReport>();
  private readonly markers = new Map<string, Marker[]>();
  private readonly specsByFile = new Map<string, MarkerSpec[]>();
  private readonly byGroup = new Map<string, Marker[]>();
  private readonly statics = new Map<string, StaticResult>();
  /** Modules a file reloads on every call (from its static check): requiring file -> reloads. */
  private readonly reloadsFrom = new Map<string, Reload[]>();
  /** Modules the runtime report found loaded many times: file -> description. */
  private readonly runtimeReloads = new Map<string, string>();
  /** Files whose runtime reload evidence changed in the last rebuilds (their static suspects depend on it). */
  private readonly reloadChanges = new Set<string>();
  private paths: WorkspacePaths;
  private resolver: SourceResolver;
  private generation = 0;

  constructor(
    private readonly texts: TextSource,
    private readonly log: (message: string) => void,
    private options: ModelOptions,
    private readonly uriOf: (file: string) => string = (f) => pathToFileURL(f).href,
  ) {
    this.paths = new WorkspacePaths(options.roots, options.pathMap, (f) => texts.exists(f));
    this.resolver = new SourceResolver({ warn: (m) => this.log(m) });
  }

  setOptions(options: ModelOptions): void {
    this.options = options;
  }

  get staticChecksEnabled(): boolean {
    return this.options.staticChecks;
  }

  setReport(loaded: LoadedReport): void {
    this.reports.set(loaded.source, loaded);
  }

  removeReport(source?: string): boolean {
    if (source === undefined) {
      const had = this.reports.size > 0;
      this.reports.clear();
      return had;
    }
    return this.reports.delete(source);
  }

  reportSources(): string[] {
    return [...this.reports.keys()];
  }

  /** Every file that has runtime markers or static suspects now. */
  files(): Set<string> {
    return new Set([...this.markers.keys(), ...this.statics.keys()]);
  }

  /**
   * Recomputes every marker from the reports held. Returns a status per report, or undefined when a newer rebuild
   * started meanwhile (its result wins).
   */
  async rebuild(): Promise<Map<string, { status: ReportStatusParams; log: string }> | undefined> {
    const generation = ++this.generation;
    this.texts.beginPass();
    this.paths = new WorkspacePaths(this.options.roots, this.options.pathMap, (f) => this.texts.exists(f));
    this.resolver = new SourceResolver({ warn: (m) => this.log(m) });
    let work = 0;
    const tick = async (): Promise<void> => {
      if (++work % YIELD_EVERY !== 0) return;
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (generation !== this.generation) throw new Superseded();
    };
    const status = new Map<string, ReportStatusParams & { files: number; fileSet: Set<string>; notes: string[] }>();
    const specsByFile = new Map<string, MarkerSpec[]>();
    const runtimeReloads = new Map<string, string>();
    // A group (or a reloaded module) that two reports hold, such as a report file and the same report sent with
    // leakLens/setReport, or two runs of one program, gets its markers once: from the newest report.
    const shownBy = new Map<string, string>();
    const once = (key: string, loaded: LoadedReport, notes: string[], what: string): boolean => {
      const other = shownBy.get(key);
      if (other === undefined) {
        shownBy.set(key, loaded.source);
        return true;
      }
      if (other !== loaded.source)
        notes.push(`${what} is shown from report ${other}, newer, with the same place: not marked twice`);
      return other === loaded.source;
    };
    try {
      for (const loaded of [...this.reports.values()].sort(newestFirst)) {
        const st = {
          source: loaded.source,
          ok: true,
          groups: loaded.report.leaks.length + (loaded.report.sampling?.growth.length ?? 0),
          markers: 0,
          files: 0,
          reanchored: 0,
          skipped: [] as SkippedMarker[],
          durationMs: 0,
          fileSet: new Set<string>(),
          notes: [] as string[],
        };
        status.set(loaded.source, st);
        const add = (spec: MarkerSpec): void => {
          const list = specsByFile.get(spec.file);
          if (list) list.push(spec);
          else specsByFile.set(spec.file, [spec]);
        };
        for (const g of loaded.report.leaks) {
          await tick();
          const o = g.owner.location;
          if (
            !once(
              `group\u0000${g.id}\u0000${o ? `${o.file}:${o.line}:${o.column}` : ''}\u0000${g.thread ?? ''}`,
              loaded,
              st.notes,
              g.id,
            )
          )
            continue;
          if (!g.owner.location)
            st.skipped.push({ groupId: g.id, at: 'owner', reason: 'the report has no source location for its owner' });
          else {
            const p = this.workspacePosition(g.owner.location, st.notes);
            if ('reason' in p) st.skipped.push({ groupId: g.id, at: 'owner', reason: p.reason });
            else
              add({
                report: loaded,
                group: g,
                at: 'owner',
                ...p,
                targets: ownerTargets(g),
                reported: `${g.owner.location.file}:${g.owner.location.line}`,
              });
          }
          for (const h of holders(g)) {
            const p = this.workspacePosition(h.location, st.notes);
            if ('reason' in p)
              st.skipped.push({ groupId: g.id, at: 'owner', reason: `the application's holder: ${p.reason}` });
            else
              add({
                report: loaded,
                group: g,
                at: 'holder',
                relatedIndex: h.index,
                ...p,
                targets: holderTargets(h.label),
                reported: `${h.location.file}:${h.location.line}`,
              });
          }
          g.allocationSites.forEach((site, i) => {
            const loc = site.location;
            // A collection is the group itself: the line that adds its entries is related information of its owner.
            if (!loc || g.kind === 'collection') return;
            // The owner's own line (a timer, a require) is already marked.
            const o = g.owner.location;
            if (o && o.file === loc.file && o.line === loc.line) return;
            const p = this.workspacePosition(loc, st.notes);
            if ('reason' in p) st.skipped.push({ groupId: g.id, at: 'allocation', reason: p.reason });
            else
              add({
                report: loaded,
                group: g,
                at: 'allocation',
                siteIndex: i,
                ...p,
                targets: allocationTargets(g, site.function),
                reported: `${loc.file}:${loc.line}`,
              });
          });
        }
        // The sampling mode's growing stacks: the allocating line of each (there is no owner to mark).
        const sampling = loaded.report.sampling;
        for (const [i, growth] of (sampling?.growth ?? []).entries()) {
          await tick();
          const loc = growth.site.location;
          const id = `sampled stack ${i + 1} (${clip(growth.site.function, 60)}())`;
          if (!loc) {
            st.skipped.push({
              groupId: id,
              at: 'allocation',
              reason: 'the report has no source location for its allocating frame',
            });
            continue;
          }
          if (
            !once(
              `sampled\u0000${loc.file}:${loc.line}:${loc.column}\u0000${growth.constructs ?? ''}`,
              loaded,
              st.notes,
              id,
            )
          )
            continue;
          const p = this.workspacePosition(loc, st.notes);
          if ('reason' in p) st.skipped.push({ groupId: id, at: 'allocation', reason: p.reason });
          else
            add({
              report: loaded,
              at: 'sampled',
              sampled: { growth, interval: sampling!.interval },
              ...p,
              targets: sampledTargets(growth),
              reported: `${loc.file}:${loc.line}`,
            });
        }
        for (const d of loaded.report.duplicateModules) {
          await tick();
          const mapped = this.paths.map(d.file);
          if (!mapped?.exists) continue;
          if (!once(`module\u0000${mapped.file}`, loaded, st.notes, `module ${path.basename(mapped.file)}`)) continue;
          runtimeReloads.set(
            mapped.file,
            `the runtime report finds ${d.instances[d.instances.length - 1] ?? 0} live copies`,
          );
          add({
            report: loaded,
            at: 'module',
            instances: d.instances,
            file: mapped.file,
            line: 1,
            column: 1,
            targets: [],
            reported: `${d.file}:1`,
          });
        }
      }
      // Resources that grow (pending promises, handles, contexts): marked where they are created, else where held.
      for (const loaded of [...this.reports.values()].sort(newestFirst)) {
        const st = status.get(loaded.source)!;
        for (const r of loaded.report.resources ?? []) {
          await tick();
          const loc = r.createdAt?.location ?? r.owner.location;
          if (!loc) {
            st.skipped.push({
              groupId: r.id,
              at: 'allocation',
              reason: 'the report has no source location for the resource',
            });
            continue;
          }
          if (
            !once(
              `resource\u0000${r.id}\u0000${loc.file}:${loc.line}:${loc.column}\u0000${r.thread ?? ''}`,
              loaded,
              st.notes,
              r.id,
            )
          )
            continue;
          const p = this.workspacePosition(loc, st.notes);
          if ('reason' in p) st.skipped.push({ groupId: r.id, at: 'allocation', reason: p.reason });
          else {
            const spec: MarkerSpec = {
              report: loaded,
              at: 'resource',
              resource: r,
              ...p,
              targets: [{ kind: 'position' }],
              reported: `${loc.file}:${loc.line}`,
            };
            const list = specsByFile.get(spec.file);
            if (list) list.push(spec);
            else specsByFile.set(spec.file, [spec]);
          }
        }
      }
      const markers = new Map<string, Marker[]>();
      for (const [file, specs] of specsByFile) {
        await tick();
        const placed = this.anchorFile(file, specs, (spec, result) => {
          const st = status.get(spec.report.source)!;
          const id =
            spec.group?.id ??
            spec.resource?.id ??
            (spec.sampled ? `sampled stack ${spec.sampled.growth.site.function}()` : `module ${path.basename(file)}`);
          if ('reason' in result)
            st.skipped.push({
              groupId: id,
              at: spec.at === 'allocation' || spec.at === 'sampled' ? 'allocation' : 'owner',
              reason: `${spec.reported}: ${result.reason}`,
            });
          else if (result.moved) {
            st.reanchored++;
            st.notes.push(
              `re-anchored ${id} (${spec.at}) from ${spec.reported} to line ${result.range.start.line + 1}: the file changed since the snapshot`,
            );
          }
        });
        if (placed.length) markers.set(file, placed);
        for (const m of placed) {
          const st = status.get(m.spec.report.source)!;
          st.markers++;
          st.fileSet.add(file);
        }
      }
      // Commit only now: a superseded rebuild leaves the previous markers in place.
      this.markers.clear();
      this.byGroup.clear();
      this.specsByFile.clear();
      for (const [file, specs] of specsByFile) this.specsByFile.set(file, specs);
      for (const [file, list] of markers) this.setMarkers(file, list);
      for (const f of new Set([...this.runtimeReloads.keys(), ...runtimeReloads.keys()])) {
        if (this.runtimeReloads.get(f) !== runtimeReloads.get(f)) this.reloadChanges.add(f);
      }
      this.runtimeReloads.clear();
      for (const [f, why] of runtimeReloads) this.runtimeReloads.set(f, why);
    } catch (e) {
      if (e instanceof Superseded) return undefined;
      throw e;
    }
    const out = new Map<string, { status: ReportStatusParams; log: string }>();
    for (const [source, st] of status) {
      const { fileSet, notes, ...rest } = st;
      rest.files = fileSet.size;
      out.set(source, { status: rest, log: statusLog(rest, notes) });
    }
    return out;
  }

  /** A report location as a workspace file and position, through the path map and source maps, or why it has none. */
  private workspacePosition(
    loc: SourceLocation,
    notes: string[],
  ): { file: string; line: number; column: number } | { reason: string } {
    const mapped = this.paths.map(loc.file);
    let at: { file: string; line: number; column: number } | undefined;
    if (mapped?.exists) {
      at = { file: mapped.file, line: loc.line, column: loc.column };
      if (mapped.guessed) this.noteOnce(notes, `mapped ${loc.file} to ${mapped.file} ${mapped.guessed}`);
    } else if (loc.generated) {
      const gen = this.paths.map(loc.generated.file);
      if (gen?.exists) {
        at = { file: gen.file, line: loc.generated.line, column: loc.generated.column };
        this.noteOnce(notes, `${loc.file} is not in the workspace; marking its generated file ${gen.file}`);
      }
    }
    if (!at)
      return {
        reason: `${loc.file} is not in the workspace${mapped && mapped.file !== loc.file ? ` (looked for ${mapped.file})` : ''}`,
      };
    // A report made without source maps points into generated JavaScript: follow the file's own map if it has one.
    if (!loc.generated && /\.[cm]?js$/.test(at.file)) {
      const text = this.texts.get(at.file);
      if (text?.at.hasSourceMap) {
        const orig = this.resolver.resolve(at);
        if (orig && orig.file !== at.file && this.texts.exists(orig.file))
          return { file: orig.file, line: orig.line, column: orig.column };
      }
    }
    return at;
  }

  private noteOnce(notes: string[], note: string): void {
    if (!notes.includes(note)) notes.push(note);
  }

  /** Anchors the specs of one file in its current text. */
  private anchorFile(
    file: string,
    specs: MarkerSpec[],
    report?: (spec: MarkerSpec, result: { reason: string } | { range: TextRange; moved: boolean }) => void,
  ): Marker[] {
    const text = this.texts.get(file);
    const out: Marker[] = [];
    for (const spec of specs) {
      if (!text) {
        report?.(spec, { reason: 'the file cannot be read' });
        continue;
      }
      if (spec.at === 'module') {
        const range = lineRange(text.at.line(0), 0);
        out.push({ spec, range, moved: false, subject: '' });
        continue;
      }
      const trusted = asRan(text, spec.report);
      const r = anchor(text.at, spec.line, spec.column, spec.targets, trusted);
      if (!r.ok) {
        report?.(spec, { reason: r.reason });
        continue;
      }
      report?.(spec, r);
      const startOff = text.at.lineStarts[r.range.start.line] + r.range.start.character;
      const endOff = text.at.lineStarts[r.range.end.line] + r.range.end.character;
      out.push({ spec, range: r.range, moved: r.moved, subject: text.at.text.slice(startOff, endOff) });
    }
    return out.sort((a, b) => compareRanges(a.range, b.range));
  }

  private setMarkers(file: string, list: Marker[]): void {
    for (const m of this.markers.get(file) ?? []) {
      const key = groupKey(m.spec);
      const l = this.byGroup.get(key);
      if (l)
        this.byGroup.set(
          key,
          l.filter((x) => x !== m),
        );
    }
    if (list.length) this.markers.set(file, list);
    else this.markers.delete(file);
    for (const m of list) {
      if (!m.spec.group) continue;
      const key = groupKey(m.spec);
      const l = this.byGroup.get(key);
      if (l) l.push(m);
      else this.byGroup.set(key, [m]);
    }
  }

  /** Files whose static suspects must be computed again after a rebuild, once. */
  takeReloadChanges(): string[] {
    const out = [...this.reloadChanges].filter((f) => this.statics.has(f));
    this.reloadChanges.clear();
    return out;
  }

  /** Anchors a file's markers again (its text changed in the editor). Returns whether anything changed. */
  reanchorFile(file: string): boolean {
    const specs = this.specsByFile.get(file);
    if (!specs) return false;
    this.setMarkers(file, this.anchorFile(file, specs));
    return true;
  }

  /**
   * Runs the static checks on an open file (or drops them when it is closed or checks are off). Returns other open
   * files whose suspects depend on this one (modules it reloads), to be checked again.
   */
  updateStatic(file: string, open: boolean): string[] {
    const before = (this.reloadsFrom.get(file) ?? []).map((r) => r.target);
    const text = open && this.options.staticChecks ? this.texts.get(file) : undefined;
    if (!text || !/\.[cm]?[jt]sx?$/.test(file)) {
      this.statics.delete(file);
      this.reloadsFrom.delete(file);
    } else {
      let result: StaticResult;
      try {
        result = staticSuspects(text.at, this.reloadEvidence(file));
      } catch (e) {
        this.log(`static checks failed on ${file}: ${(e as Error).message}`);
        result = { suspects: [], reloads: [] };
      }
      this.statics.set(file, result);
      this.reloadsFrom.set(file, result.reloads);
    }
    const after = (this.reloadsFrom.get(file) ?? []).map((r) => r.target);
    return [...new Set([...before, ...after])].filter((f) => f !== file && this.statics.has(f));
  }

  private reloadEvidence(file: string): ReloadEvidence | undefined {
    const runtime = this.runtimeReloads.get(file);
    if (runtime) return { by: runtime, runtime: true };
    for (const [from, reloads] of this.reloadsFrom) {
      const r = reloads.find((x) => x.target === file);
      if (r) return { by: `${path.basename(from)}:${r.line} requires it again on every call`, runtime: false };
    }
    return undefined;
  }

  // --- what the editor asks for ---

  diagnostics(file: string): Diagnostic[] {
    const markers = this.markers.get(file) ?? [];
    const out: Diagnostic[] = [];
    const runtime = new Map<Marker, Diagnostic>();
    for (const m of markers) {
      const d = this.runtimeDiagnostic(m);
      runtime.set(m, d);
      out.push(d);
    }
    for (const s of this.statics.get(file)?.suspects ?? []) {
      const same = markers.find((m) => m.spec.group && sameRange(m.range, s.range));
      if (same) {
        const d = runtime.get(same)!;
        d.message += `\nStatic check agrees: ${s.message}`;
        (d.data as LeakDiagnosticData).confirmed = true;
        continue;
      }
      out.push(this.staticDiagnostic(file, s, markers));
    }
    return out.sort((a, b) => compareRanges(a.range, b.range));
  }

  private staticDiagnostic(file: string, s: Suspect, markers: Marker[]): Diagnostic {
    const subjectRange = s.subjectRange;
    const confirmedBy = subjectRange
      ? markers.find((m) => m.spec.at === 'owner' && sameRange(m.range, subjectRange))
      : undefined;
    const runtimeReload = s.code === 'static/resource-in-reloaded-module' && this.runtimeReloads.has(file);
    const d: Diagnostic = {
      range: s.range,
      severity: confirmedBy || runtimeReload ? DiagnosticSeverity.Warning : DiagnosticSeverity.Hint,
      source: 'leak-lens',
      code: s.code,
      message: confirmedBy
        ? `${s.message} (confirmed by the runtime report: ${ownerMessage(confirmedBy.spec.group!)})`
        : s.message,
      data: {
        confirmed: !!(confirmedBy || runtimeReload),
        groupId: confirmedBy?.spec.group?.id,
        reportFile: confirmedBy?.spec.report.file,
      } satisfies LeakDiagnosticData,
    };
    if (s.related.length)
      d.relatedInformation = s.related.map((r) => ({
        location: { uri: this.uriOf(file), range: r.range },
        message: r.message,
      }));
    return d;
  }

  private runtimeDiagnostic(m: Marker): Diagnostic {
    const { spec } = m;
    const data: LeakDiagnosticData = { groupId: spec.group?.id, reportFile: spec.report.file };
    if (spec.at === 'module') {
      return {
        range: m.range,
        severity: DiagnosticSeverity.Warning,
        source: 'leak-lens',
        code: 'module-loaded-repeatedly',
        message: moduleMessage(spec.instances ?? []),
        data,
      };
    }
    if (spec.at === 'resource') {
      const r = spec.resource!;
      const d: Diagnostic = {
        range: m.range,
        severity: DiagnosticSeverity.Warning,
        source: 'leak-lens',
        code: 'resource-growth',
        message: resourceMessage(r),
        data: { groupId: r.id, reportFile: spec.report.file },
      };
      if (r.owner.location && r.createdAt?.location) {
        const p = this.locate(r.owner.location, [{ kind: 'position' }], spec.report);
        if (p && !(p.file === spec.file && sameRange(p.range, m.range)))
          d.relatedInformation = [
            { location: { uri: this.uriOf(p.file), range: p.range }, message: `held by ${clip(r.owner.name)}` },
          ];
      }
      return d;
    }
    if (spec.sampled) return this.sampledDiagnostic(m, spec.sampled.growth, spec.sampled.interval, data);
    const g = spec.group!;
    const related: DiagnosticRelatedInformation[] = [];
    const relate = (loc: SourceLocation | undefined, targets: AnchorTarget[], message: string): void => {
      if (!loc) return;
      const p = this.locate(loc, targets, spec.report);
      if (p && !(p.file === spec.file && sameRange(p.range, m.range)))
        related.push({ location: { uri: this.uriOf(p.file), range: p.range }, message });
    };
    const callers = (sites: typeof g.allocationSites): void => {
      for (const s of sites)
        if (s.caller?.location)
          relate(
            s.caller.location,
            IDENT.test(s.caller.function)
              ? [{ kind: 'declaration', name: s.caller.function }, { kind: 'position' }]
              : [{ kind: 'position' }],
            `${callerSentence(s)}, which made ${s.count || g.count} ${clip(g.className, 60)} in ${clip(s.function)}()`,
          );
    };
    if (spec.at === 'owner' || spec.at === 'holder') {
      // The facts that say where to edit come first: related places, the adding line, the callback, the callers.
      (g.owner.related ?? []).forEach((r, i) => {
        if (i !== spec.relatedIndex) relate(r.location, holderTargets(r.label), clip(r.label));
      });
      if (spec.at === 'holder') {
        const owner = this.ownerMarker(spec);
        if (owner)
          related.push({
            location: { uri: this.uriOf(owner.spec.file), range: owner.range },
            message: `the library's owner: ${clip(g.owner.name)}`,
          });
      }
      if (g.kind === 'collection' && g.collection?.addedAt)
        relate(g.collection.addedAt, [{ kind: 'position' }], ADDED_AT.replace(/ at$/, ' here'));
      if (g.heldVia?.location) relate(g.heldVia.location, [{ kind: 'position' }], heldViaSentence(g));
      callers(g.allocationSites);
      const shown = shownPath(this.rootOf(spec.file));
      g.retainerPath.forEach((step, i) => {
        if (!step.location || related.length >= MAX_RELATED) return;
        const p = this.locateStep(step, spec.report);
        if (p)
          related.push({
            location: { uri: this.uriOf(p.file), range: p.range },
            message: `retainer path step ${i + 1} of ${g.retainerPath.length}: ${clip(stepText(step, i, shown), 200)}${step.owner ? ' (owner)' : ''}`,
          });
      });
      for (const site of this.siteMarkers(spec)) {
        if (related.length >= MAX_RELATED * 2) break;
        related.push({
          location: { uri: this.uriOf(site.spec.file), range: site.range },
          message: `allocated here: ${g.allocationSites[site.spec.siteIndex!].count} in ${clip(g.allocationSites[site.spec.siteIndex!].function)}()`,
        });
      }
    } else {
      const owner = this.ownerMarker(spec);
      if (owner)
        related.push({
          location: { uri: this.uriOf(owner.spec.file), range: owner.range },
          message: `held by ${clip(g.owner.name)}`,
        });
      for (const h of this.holderMarkers(spec))
        related.push({
          location: { uri: this.uriOf(h.spec.file), range: h.range },
          message: clip(g.owner.related![h.spec.relatedIndex!].label),
        });
      callers([g.allocationSites[spec.siteIndex!]]);
    }
    const many = threaded(spec.report.report);
    const d: Diagnostic = {
      range: m.range,
      severity: spec.at === 'allocation' ? DiagnosticSeverity.Information : DiagnosticSeverity.Warning,
      source: 'leak-lens',
      code: spec.at === 'owner' ? 'leak-owner' : spec.at === 'holder' ? 'leak-holder' : 'leak-allocation',
      message:
        spec.at === 'owner'
          ? ownerMessage(g, many)
          : spec.at === 'holder'
            ? holderMessage(g, g.owner.related![spec.relatedIndex!].label, many)
            : allocationMessage(g, g.allocationSites[spec.siteIndex!]),
      data,
    };
    if (related.length) d.relatedInformation = related;
    return d;
  }

  /** A growing sampled stack's allocating line: the growth per round, from sampling; the callers as related places. */
  private sampledDiagnostic(m: Marker, g: SamplingGrowth, interval: number, data: LeakDiagnosticData): Diagnostic {
    const related: DiagnosticRelatedInformation[] = [];
    const at = g.stack.findIndex(
      (f) => f.location && f.location.file === g.site.location?.file && f.location.line === g.site.location?.line,
    );
    g.stack.forEach((f, i) => {
      if (i <= at || !f.location || f.library || related.length >= MAX_RELATED) return;
      const p = this.locate(f.location, FRAME_TARGETS, m.spec.report);
      if (p)
        related.push({
          location: { uri: this.uriOf(p.file), range: p.range },
          message: `called from ${clip(f.function)}() (frame ${i + 1} of the allocating stack)`,
        });
    });
    const d: Diagnostic = {
      range: m.range,
      severity: DiagnosticSeverity.Warning,
      source: 'leak-lens',
      code: 'leak-sampled-allocation',
      message: sampledMessage(g, interval),
      data,
    };
    if (related.length) d.relatedInformation = related;
    return d;
  }

  /**
   * Places a retainer step: in a file as the program ran it, on the reported line (a constructor's line, as the
   * report, the CLI and the panel say, not its class's); in a changed file, at the nearest declaration of its name,
   * or nowhere (an anonymous function). The step's text always says the report's location.
   */
  private locateStep(step: RetainerStep, report: LoadedReport): { file: string; range: TextRange } | undefined {
    if (!step.location) return undefined;
    const p = this.workspacePosition(step.location, []);
    if ('reason' in p) return undefined;
    const text = this.texts.get(p.file);
    if (!text) return undefined;
    const targets = stepTargets(step.node);
    if (asRan(text, report)) {
      if (p.line > text.at.lineCount) return undefined;
      // The token at the reported position (`constructor`), else the whole line (an anonymous function).
      const r = targets.length ? anchor(text.at, p.line, p.column, [{ kind: 'position' }], true) : undefined;
      return {
        file: p.file,
        range: r?.ok && r.range.start.line === p.line - 1 ? r.range : lineRange(text.at.line(p.line - 1), p.line - 1),
      };
    }
    if (targets.length === 0) return undefined;
    const r = anchor(text.at, p.line, p.column, targets, false);
    return r.ok ? { file: p.file, range: r.range } : undefined;
  }

  /** The workspace root a file is in (the first root when it is in none), which the texts show paths relative to. */
  private rootOf(file: string | undefined): string | undefined {
    return this.options.roots.find((r) => file && !path.relative(r, file).startsWith('..')) ?? this.options.roots[0];
  }

  /** Places a secondary location the same careful way as a marker, or not at all. */
  private locate(
    loc: SourceLocation,
    targets: AnchorTarget[],
    report: LoadedReport,
  ): { file: string; range: TextRange } | undefined {
    const p = this.workspacePosition(loc, []);
    if ('reason' in p) return undefined;
    const text = this.texts.get(p.file);
    if (!text) return undefined;
    const trusted = asRan(text, report);
    if (targets.length === 0) {
      // An anonymous function: its line, if the file is as the program ran it.
      if (!trusted || p.line > text.at.lineCount) return undefined;
      return { file: p.file, range: lineRange(text.at.line(p.line - 1), p.line - 1) };
    }
    const r = anchor(text.at, p.line, p.column, targets, trusted);
    return r.ok ? { file: p.file, range: r.range } : undefined;
  }

  private siteMarkers(spec: MarkerSpec): Marker[] {
    return (this.byGroup.get(groupKey(spec)) ?? []).filter((m) => m.spec.at === 'allocation');
  }

  private holderMarkers(spec: MarkerSpec): Marker[] {
    return (this.byGroup.get(groupKey(spec)) ?? []).filter((m) => m.spec.at === 'holder');
  }

  private ownerMarker(spec: MarkerSpec): Marker | undefined {
    return (this.byGroup.get(groupKey(spec)) ?? []).find((m) => m.spec.at === 'owner');
  }

  codeLenses(file: string): CodeLens[] {
    const out: CodeLens[] = [];
    for (const m of this.markers.get(file) ?? []) {
      const g = m.spec.group;
      if (!g) continue;
      const args: ShowLeakGroupArgs = {
        groupId: g.id,
        reportFile: m.spec.report.file,
        at: m.spec.at === 'allocation' ? 'allocation' : 'owner',
      };
      const title =
        m.spec.at === 'allocation' ? allocationLensTitle(g, g.allocationSites[m.spec.siteIndex!]) : ownerLensTitle(g);
      out.push({ range: m.range, command: { title, command: SHOW_LEAK_GROUP_COMMAND, arguments: [args] } });
    }
    return out;
  }

  private markersAt(file: string, pos: Position): Marker[] {
    return (this.markers.get(file) ?? []).filter((m) => contains(m.range, pos));
  }

  hover(file: string, pos: Position): Hover | null {
    const at = this.markersAt(file, pos);
    if (!at.length) return null;
    const parts: string[] = [];
    const seen = new Set<string>();
    for (const m of at) {
      if (m.spec.at === 'module') {
        parts.push(`**Leak Lens**: ${moduleMessage(m.spec.instances ?? [])}`);
        continue;
      }
      if (m.spec.at === 'resource') {
        parts.push(`**Leak Lens**: ${resourceMessage(m.spec.resource!)}`);
        continue;
      }
      if (m.spec.sampled) {
        const { growth, interval } = m.spec.sampled;
        const site = growth.site.location;
        const frames = growth.stack.map((f) => {
          // The allocating frame is where the marker is (found by parsing a changed file); the others, if as they ran.
          if (site && f.location?.file === site.file && f.location.line === site.line)
            return { file: m.spec.file, line: m.range.start.line + 1 };
          const p = f.location ? this.locate(f.location, FRAME_TARGETS, m.spec.report) : undefined;
          return p ? { file: p.file, line: p.range.start.line + 1 } : undefined;
        });
        parts.push(sampledHoverMarkdown(growth, interval, frames, this.rootOf(file)));
        continue;
      }
      const key = groupKey(m.spec);
      if (seen.has(key)) continue;
      seen.add(key);
      parts.push(
        this.groupMarkdown(m.spec.report, m.spec.group!, m.spec.at === 'allocation' ? 'allocation' : 'owner', m),
      );
    }
    return { contents: { kind: MarkupKind.Markdown, value: parts.join('\n\n---\n\n') }, range: at[0].range };
  }

  /**
   * A group as markdown, with links to the places of its retainer path, allocation sites and owner in the workspace
   * (the owner's link is left out when `from` is the owner's own marker).
   */
  groupMarkdown(report: LoadedReport, g: LeakGroup, at: 'owner' | 'allocation', from?: Marker): string {
    const markers = this.byGroup.get(keyOf(report.source, g.id)) ?? [];
    const anchorFile = from?.spec.file ?? markers[0]?.spec.file;
    const root = this.rootOf(anchorFile);
    const hoverPlace = (p: { file: string; range: TextRange } | undefined): HoverPlace | undefined =>
      p ? { file: p.file, line: p.range.start.line + 1 } : undefined;
    const sites = g.allocationSites.map((s, i) => {
      const marker = markers.find((x) => x.spec.at === 'allocation' && x.spec.siteIndex === i);
      if (marker) return hoverPlace({ file: marker.spec.file, range: marker.range });
      return s.location ? hoverPlace(this.locate(s.location, allocationTargets(g, s.function), report)) : undefined;
    });
    const owner = markers.find((x) => x.spec.at === 'owner');
    const placeOf = (loc: SourceLocation, name?: string): HoverPlace | undefined =>
      hoverPlace(
        this.locate(
          loc,
          name && IDENT.test(name) ? [{ kind: 'declaration', name }, { kind: 'position' }] : [{ kind: 'position' }],
          report,
        ),
      );
    const args: ShowLeakGroupArgs = { groupId: g.id, reportFile: report.file, at };
    const command = this.options.hostCommands
      ? `command:${SHOW_LEAK_GROUP_COMMAND}?${encodeURIComponent(JSON.stringify([args]))}`
      : undefined;
    return hoverMarkdown(
      g,
      {
        steps: g.retainerPath.map((s) => hoverPlace(this.locateStep(s, report))),
        sites,
        owner: owner && owner !== from ? hoverPlace({ file: owner.spec.file, range: owner.range }) : undefined,
        placeOf,
        threaded: threaded(report.report),
      },
      root,
      command,
    );
  }

  /** From an owner's name to where its objects are allocated; from an allocation site to the owner's declaration. */
  definition(file: string, pos: Position): LocationLink[] | null {
    const out: LocationLink[] = [];
    for (const m of this.markersAt(file, pos)) {
      if (!m.spec.group) continue;
      const targets =
        m.spec.at === 'owner' || m.spec.at === 'holder'
          ? this.siteMarkers(m.spec)
          : [this.ownerMarker(m.spec)].filter((x): x is Marker => !!x);
      for (const t of targets)
        out.push({
          originSelectionRange: m.range,
          targetUri: this.uriOf(t.spec.file),
          targetRange: t.range,
          targetSelectionRange: t.range,
        });
    }
    return out.length ? out : null;
  }

  /** A group by id, from the given report file or any report, with the report it is in. */
  findGroup(groupId: string, reportFile?: string): { report: LoadedReport; group: LeakGroup } | undefined {
    for (const r of this.reports.values()) {
      if (reportFile && r.file !== reportFile) continue;
      const g = r.report.leaks.find((x) => x.id === groupId);
      if (g) return { report: r, group: g };
    }
    return undefined;
  }
}

/** One log entry about an applied report: counts, then what moved and what was skipped and why. */
function statusLog(st: ReportStatusParams, notes: string[]): string {
  const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
  const lines = [
    `report ${st.source}: ${plural(st.groups, 'leak group')}, ${plural(st.markers, 'marker')} in ${plural(st.files, 'file')}${st.reanchored ? `, ${st.reanchored} re-anchored` : ''}${st.skipped.length ? `, ${st.skipped.length} skipped` : ''}`,
  ];
  const details = [...notes, ...st.skipped.map((s) => `skipped ${s.groupId} (${s.at}): ${s.reason}`)];
  for (const d of details.slice(0, MAX_LOGGED)) lines.push(`  ${d}`);
  if (details.length > MAX_LOGGED) lines.push(`  ... and ${details.length - MAX_LOGGED} more`);
  return lines.join('\n');
}

/** Reports by the time they were made (their `createdAt`), then by arrival: newest first. */
function newestFirst(a: LoadedReport, b: LoadedReport): number {
  const made = (r: LoadedReport): number => {
    const t = Date.parse(r.report.createdAt);
    return Number.isFinite(t) ? t : 0;
  };
  return made(b) - made(a) || b.arrivedAt - a.arrivedAt;
}

function keyOf(source: string, groupId: string): string {
  return `${source}\u0000${groupId}`;
}

function groupKey(spec: MarkerSpec): string {
  return keyOf(spec.report.source, spec.group?.id ?? '');
}

/** The range of a line's code, without its indentation and trailing blanks. */
/** Whether a file's text is as the program ran it: not changed on disk since the report's snapshots, nor edited. */
function asRan(text: FileText, report: LoadedReport): boolean {
  return text.mtimeMs !== undefined && report.sourceTime !== undefined && text.mtimeMs <= report.sourceTime;
}

function lineRange(text: string, line: number): TextRange {
  const start = text.length - text.trimStart().length;
  const end = text.trimEnd().length;
  return { start: { line, character: Math.min(start, end) }, end: { line, character: end } };
}

/** A report as held by the model. */
export function loadedReport(source: string, report: LeakReport, file?: string): LoadedReport {
  return { source, file, report, sourceTime: reportSourceTime(report), arrivedAt: performance.now() };
}
