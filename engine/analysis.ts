/**
 * One snapshot with everything computed that the views and the leak finder need: DevTools shallow sizes, essential
 * edges, dominators, retained sizes, distances, classes and the dominator tree. Built once per snapshot.
 */
import { ClassIndex, classifyNodes, inferInterfaces, LocationIndex } from './classes';
import { propagateDetachedness } from './detached';
import { computeDistances } from './distances';
import { computeDominators } from './dominators';
import { buildDominatorTree, DominatorTree } from './domtree';
import { EphemeronNames, EssentialEdges, markPageOwned } from './essential';
import type { AnalysisStage } from '../protocol/progress';
import { parseSnapshotFile, ParseOptions } from './parse';
import { transferShallowSizes } from './shallow';
import { HeapSnapshot } from './snapshot';
import type { StageTimings } from '../protocol/report';

/** Time spent in each stage, in milliseconds (for the benchmark and the log). */
export interface AnalyzeOptions extends ParseOptions {
  /** Plain-object interface definitions to classify with (to line up a baseline with a later snapshot). */
  interfaces?: string[][];
  /** Called when a stage starts, for progress reporting. */
  onStage?: (stage: AnalysisStage) => void;
  /**
   * Skip the dominator tree and retained sizes (for snapshots that are only counted, such as the earlier snapshots of
   * a leak search). `retainedSize` and `dominator` are then empty.
   */
  light?: boolean;
}

export class HeapAnalysis {
  /** Shallow size per node after DevTools' transfer of single-owner internal stores onto their owner. */
  readonly shallowSize: Float64Array;
  readonly retainedSize: Float64Array;
  readonly dominator: Uint32Array;
  readonly distance: Int32Array;
  readonly classIndex: ClassIndex;
  readonly locations: LocationIndex;
  readonly ephemerons: EphemeronNames;
  readonly essential: EssentialEdges;
  readonly interfaces: string[][];
  private tree: DominatorTree | null = null;

  constructor(
    readonly snapshot: HeapSnapshot,
    readonly timings: StageTimings,
    options: AnalyzeOptions = {},
  ) {
    const stage = <T>(name: AnalysisStage, fn: () => T): T => {
      options.onStage?.(name);
      const t = performance.now();
      const r = fn();
      timings[name] = Math.round(performance.now() - t);
      return r;
    };
    const s = snapshot;
    stage('detachedness', () => propagateDetachedness(s));
    this.ephemerons = new EphemeronNames(s);
    this.shallowSize = s.nodeSelfSize;
    let queue: Uint32Array | undefined;
    if (options.light) {
      this.essential = new EssentialEdges(s, null, this.ephemerons);
      stage('shallowSizes', () => transferShallowSizes(s, this.shallowSize));
      this.dominator = new Uint32Array(0);
      this.retainedSize = new Float64Array(0);
    } else {
      const pageOwned = stage('flags', () => markPageOwned(s));
      this.essential = stage('essentialEdges', () => new EssentialEdges(s, pageOwned, this.ephemerons));
      stage('shallowSizes', () => transferShallowSizes(s, this.shallowSize));
      // The dominator pass's work arrays become the dominator tree (which the summary and the leak search walk) and
      // the distance queue, rather than garbage beside new arrays of the same size at the peak.
      const dom = stage('dominators', () => {
        const d = computeDominators(s, this.essential, this.shallowSize);
        this.tree = buildDominatorTree(d.dominator, s.rootIndex, d.scratch.slice(0, 3));
        return d;
      });
      this.dominator = dom.dominator;
      this.retainedSize = dom.retainedSize;
      queue = dom.scratch[3];
    }
    this.distance = stage('distances', () => computeDistances(s, this.ephemerons, queue));
    this.locations = new LocationIndex(s);
    this.interfaces = options.interfaces ?? stage('interfaces', () => inferInterfaces(s));
    this.classIndex = stage('classes', () => classifyNodes(s, this.locations, this.interfaces));
  }

  get dominatorTree(): DominatorTree {
    if (!this.tree) this.tree = buildDominatorTree(this.dominator, this.snapshot.rootIndex);
    return this.tree;
  }

  /** Total size: the root's retained size plus native bytes V8 attributes to no object. */
  get totalSize(): number {
    // The root retains everything; without a dominator pass, add up the shallow sizes instead (the same total).
    const root = this.retainedSize.length
      ? this.retainedSize[this.snapshot.rootIndex]
      : this.shallowSize.reduce((x, y) => x + y, 0);
    return root + (this.snapshot.header.extra_native_bytes ?? 0);
  }

  className(node: number): string {
    return this.classIndex.classes[this.classIndex.nodeClass[node]].name;
  }
}

/** Parses and analyses one snapshot file. */
export function loadAnalysis(file: string, options: AnalyzeOptions = {}): HeapAnalysis {
  const timings: StageTimings = {};
  options.onStage?.('parse');
  let t = performance.now();
  const raw = parseSnapshotFile(file, options);
  timings.parse = Math.round(performance.now() - t);
  options.onStage?.('retainers');
  t = performance.now();
  const snapshot = new HeapSnapshot(raw);
  timings.retainers = Math.round(performance.now() - t);
  return new HeapAnalysis(snapshot, timings, options);
}
