/**
 * The engine as a service: answers typed requests (protocol/engine.ts) and keeps a few analysed snapshots in memory
 * so that paged queries (classes, objects, retainers) are cheap after the first load. Runs inside the engine worker,
 * or in-process where blocking is fine (the CLI, tests).
 */
import type {
  EngineAnswer,
  EngineErrorCode,
  EngineProgress,
  EngineRequest,
  EngineResults,
  ObjectInfo,
  Page,
  RetainerInfo,
} from '../protocol/engine';
import { AnalyzeOptions, HeapAnalysis, loadAnalysis } from './analysis';
import { compareSnapshots } from './compare';
import { CancelledError } from '../protocol/cancel';
import { SnapshotParseError } from './parseErrors';
import { retainerPath } from './paths';
import { buildLeakReport, buildSamplingReport, describePath, InputError } from './report';
import { readSidecarFile } from './sidecar';
import { ScriptIndex } from './scripts';
import { SourceResolver } from './source';
import { summarizeClasses } from './summary';
import { mergeThreadReports, type ThreadReport } from './threads';
import type { SourceLocation } from '../protocol/report';

export interface ServiceHooks {
  onProgress?: (progress: EngineProgress) => void;
  shouldCancel?: () => boolean;
}

/** Which snapshot of a request on several a load is for (progress names it, so figures never go backwards). */
type Where = Pick<EngineProgress, 'snapshot' | 'snapshots' | 'thread'>;

function page<T>(all: T[], offset = 0, limit = 100): Page<T> {
  return { total: all.length, offset, items: all.slice(offset, offset + limit) };
}

export class EngineService {
  private readonly cache = new Map<string, HeapAnalysis>();
  /** Script maps and source resolvers per analysis, built on the first location asked for. */
  private readonly sources = new WeakMap<HeapAnalysis, { scripts: ScriptIndex; resolver: SourceResolver }>();

  private locate(a: HeapAnalysis, node: number): SourceLocation | undefined {
    let src = this.sources.get(a);
    if (!src) {
      src = {
        scripts: new ScriptIndex(a, readSidecarFile(a.snapshot.file)?.scripts ?? []),
        resolver: new SourceResolver(),
      };
      this.sources.set(a, src);
    }
    const loc = src.scripts.nodeLocation(node);
    return loc ? src.resolver.resolve(loc) : undefined;
  }

  constructor(private readonly maxCached = 3) {}

  private options(hooks: ServiceHooks, where: Where = {}): AnalyzeOptions {
    let lastReport = 0;
    return {
      shouldCancel: hooks.shouldCancel,
      onStage: (stage) => hooks.onProgress?.({ stage, ...where }),
      onProgress: (done, total) => {
        // Parsing reports after every chunk; pass on at most a few updates a second.
        const now = Date.now();
        if (now - lastReport > 200 || done === total) {
          lastReport = now;
          hooks.onProgress?.({ stage: 'parse', done, total, ...where });
        }
      },
    };
  }

  /**
   * The loader of a leak search over `files` (the main thread's, or a worker's): the last snapshot is analysed in
   * full and kept for the queries that follow, the earlier ones only counted; cached analyses are reused.
   */
  private loader(
    files: string[],
    hooks: ServiceHooks,
    keepLast: boolean,
    thread?: string,
  ): (file: string, last: boolean) => HeapAnalysis {
    let index = 0;
    return (file, last) => {
      const where: Where = { snapshot: ++index, snapshots: files.length, ...(thread ? { thread } : {}) };
      if (last && keepLast) return this.analysis(file, hooks, where);
      return this.cache.get(file) ?? loadAnalysis(file, { ...this.options(hooks, where), light: !last });
    };
  }

  /** The analysis of a file, from the cache or loaded now. */
  analysis(file: string, hooks: ServiceHooks = {}, where: Where = {}): HeapAnalysis {
    const cached = this.cache.get(file);
    if (cached) {
      this.cache.delete(file);
      this.cache.set(file, cached);
      return cached;
    }
    const a = loadAnalysis(file, this.options(hooks, where));
    this.cache.set(file, a);
    while (this.cache.size > this.maxCached) this.cache.delete(this.cache.keys().next().value!);
    return a;
  }

  private nodeOf(a: HeapAnalysis, nodeId: number): number {
    const ids = a.snapshot.nodeId;
    for (let i = 0; i < ids.length; i++) if (ids[i] === nodeId) return i;
    throw new InputError(`no object with id @${nodeId} in ${a.snapshot.file}`);
  }

  /** Answers one request; never throws. */
  handle<K extends EngineRequest['kind']>(
    request: Extract<EngineRequest, { kind: K }>,
    hooks: ServiceHooks = {},
  ): EngineAnswer<EngineResults[K]> {
    try {
      return { ok: true, value: this.run(request as EngineRequest, hooks) as EngineResults[K] };
    } catch (e) {
      let code: EngineErrorCode = 'internal';
      if (e instanceof CancelledError) code = 'cancelled';
      else if (e instanceof SnapshotParseError) code = 'parse';
      else if (e instanceof InputError) code = 'input';
      else if (e instanceof RangeError) code = 'memory';
      const message =
        code === 'memory'
          ? `not enough memory to analyse this snapshot (${(e as Error).message})`
          : (e as Error).message;
      return { ok: false, error: message, code };
    }
  }

  private run(r: EngineRequest, hooks: ServiceHooks): unknown {
    switch (r.kind) {
      case 'load': {
        const a = this.analysis(r.file, hooks);
        return {
          file: r.file,
          nodeCount: a.snapshot.nodeCount,
          edgeCount: a.snapshot.edgeCount,
          totalSize: a.totalSize,
          maxJsObjectId: a.snapshot.maxJsObjectId(),
          timings: a.timings,
        };
      }
      case 'summary':
        return page(summarizeClasses(this.analysis(r.file, hooks)), r.offset, r.limit);
      case 'analyze': {
        const opts = this.options(hooks);
        // Reuse cached analyses and keep the last snapshot for the queries that follow (retainers, paths).
        const main = buildLeakReport(r.files, { ...opts, pathMap: r.pathMap, load: this.loader(r.files, hooks, true) });
        if (!r.threads?.length && !r.threadNotes?.length) return main;
        // Each worker alone, one after the other, so that only one thread's snapshots are in memory at a time.
        const workers: ThreadReport[] = (r.threads ?? []).map((t) => ({
          name: t.name,
          report: buildLeakReport(t.files, {
            ...opts,
            pathMap: r.pathMap,
            load: this.loader(t.files, hooks, false, t.name),
          }),
        }));
        return mergeThreadReports(main, workers, r.threadNotes ?? []);
      }
      case 'analyzeSampling':
        if (r.profiles.length < 2)
          throw new InputError(
            'the sampling mode needs allocation samples from two round boundaries at least; run at least one round',
          );
        return buildSamplingReport(r.profiles, r.interval, r.pid, new Map(Object.entries(r.sourceMapURLs ?? {})));
      case 'compare':
        return page(
          compareSnapshots(
            this.analysis(r.base, hooks, { snapshot: 1, snapshots: 2 }),
            this.analysis(r.target, hooks, { snapshot: 2, snapshots: 2 }),
          ),
          r.offset,
          r.limit,
        );
      case 'retainers': {
        const a = this.analysis(r.file, hooks);
        const s = a.snapshot;
        const node = this.nodeOf(a, r.nodeId);
        const out: RetainerInfo[] = [];
        for (let i = s.firstRetainer[node]; i < s.firstRetainer[node + 1]; i++) {
          const e = s.retainerEdge[i];
          const from = s.retainerNode[i];
          if (s.edgeType[e] === s.types.edgeWeak || from === s.rootIndex) continue;
          out.push({
            edge: s.edgeHasStringName(e) ? s.edgeNameText(e) : `[${s.edgeName[e]}]`,
            edgeType: s.edgeTypeName(e),
            node: s.nodeType[from] === s.types.closure ? `${s.name(from) || 'anonymous'}()` : a.className(from),
            nodeType: s.typeName(from),
            nodeId: s.nodeId[from],
            distance: a.distance[from],
            retainedSize: a.retainedSize[from],
            location: this.locate(a, from),
          });
        }
        out.sort((x, y) => x.distance - y.distance || x.node.localeCompare(y.node));
        return page(out, r.offset, r.limit);
      }
      case 'retainerPath': {
        const a = this.analysis(r.file, hooks);
        return describePath(a, retainerPath(a, this.nodeOf(a, r.nodeId)));
      }
      case 'objects': {
        const a = this.analysis(r.file, hooks);
        const s = a.snapshot;
        const out: ObjectInfo[] = [];
        for (let node = 0; node < s.nodeCount; node++) {
          if (a.shallowSize[node] === 0 || a.className(node) !== r.className) continue;
          out.push({
            nodeId: s.nodeId[node],
            name: s.name(node),
            className: r.className,
            shallowSize: a.shallowSize[node],
            retainedSize: a.retainedSize[node],
            distance: a.distance[node],
          });
        }
        out.sort((x, y) => y.retainedSize - x.retainedSize);
        return page(out, r.offset, r.limit);
      }
      case 'unload':
        this.cache.delete(r.file);
        return null;
    }
  }
}
