/**
 * Source evidence a snapshot carries without a live session: the script each closure belongs to
 * (closure -> shared -> script -> name) and the script ids in `locations`, joined into a script id -> file map.
 * A capture sidecar, when present, adds the script map the debugger reported (with source map URLs).
 * Time O(closures).
 */
import { HeapAnalysis } from './analysis';
import type { ScriptRecord } from '../protocol/sidecar';

/** A position in a script: 1-based line and column, file as the runtime named it (path or URL). */
export interface RuntimeLocation {
  file: string;
  line: number;
  column: number;
  scriptId?: number;
}

/** A script as the debugger reported it (from the capture sidecar): the fields the engine reads. */
export type SidecarScript = Pick<ScriptRecord, 'scriptId' | 'url' | 'sourceMapURL'>;

export class ScriptIndex {
  private readonly byId = new Map<number, string>();
  readonly sourceMapURLs = new Map<string, string>();

  constructor(
    private readonly a: HeapAnalysis,
    sidecarScripts: SidecarScript[] = [],
  ) {
    // The sidecar is checked when read (sidecar.ts); entries of another shape are still never trusted here.
    for (const sc of Array.isArray(sidecarScripts) ? sidecarScripts : []) {
      if (!sc || typeof sc.url !== 'string' || !sc.url) continue;
      this.byId.set(Number(sc.scriptId), sc.url);
      if (typeof sc.sourceMapURL === 'string' && sc.sourceMapURL) this.sourceMapURLs.set(sc.url, sc.sourceMapURL);
    }
    const s = a.snapshot;
    const closure = s.types.closure;
    for (let node = 0; node < s.nodeCount; node++) {
      if (s.nodeType[node] !== closure) continue;
      const entry = a.locations.find(node);
      if (entry < 0) continue;
      const id = a.locations.scriptId(entry);
      if (this.byId.has(id)) continue;
      const file = this.closureScript(node);
      if (file) this.byId.set(id, file);
    }
  }

  /** Every script file known from the snapshot and the sidecar, as the runtime named it. */
  files(): string[] {
    return [...new Set(this.byId.values())];
  }

  /** The file (path or URL) of the script with this CDP id, or undefined. */
  file(scriptId: number): string | undefined {
    return this.byId.get(scriptId);
  }

  /** The script name of a closure, read through its SharedFunctionInfo. */
  closureScript(closure: number): string | undefined {
    return closureScriptName(this.a, closure);
  }

  /** Where a closure's function starts, or where an object's constructor is (from `locations`). */
  nodeLocation(node: number): RuntimeLocation | undefined {
    const a = this.a;
    const entry = a.locations.find(node);
    if (entry < 0) return undefined;
    const scriptId = a.locations.scriptId(entry);
    const file =
      this.byId.get(scriptId) ??
      (a.snapshot.nodeType[node] === a.snapshot.types.closure ? this.closureScript(node) : undefined);
    if (!file) return undefined;
    return { file, line: a.locations.line(entry) + 1, column: a.locations.column(entry) + 1, scriptId };
  }
}

/** The script name of a closure, read through its SharedFunctionInfo, or undefined. */
export function closureScriptName(a: HeapAnalysis, closure: number): string | undefined {
  const shared = edgeTarget(a, closure, 'shared');
  if (shared < 0) return undefined;
  const script = edgeTarget(a, shared, 'script_or_debug_info', 'script');
  if (script < 0) return undefined;
  const name = a.snapshot.name(script);
  return name && !name.startsWith('system / ') ? name : undefined;
}

function edgeTarget(a: HeapAnalysis, node: number, ...names: string[]): number {
  const s = a.snapshot;
  for (let e = s.firstEdge[node]; e < s.firstEdge[node + 1]; e++) {
    if (!s.edgeHasStringName(e)) continue;
    if (names.includes(s.strings.get(s.edgeName[e]))) return s.edgeTo[e];
  }
  return -1;
}
