/**
 * From a file name in a report to a file in the workspace. A report names files as the profiled process saw them:
 * absolute paths, `file://` URLs, or paths on another machine or in a container (`/app/src/db.js`). In order:
 *  1. a `file://` URL becomes a path; other URL schemes (`node:`, `http:`) are not files;
 *  2. the configured path map rewrites a prefix (longest prefix wins, on whole path segments);
 *  3. a relative path is taken relative to each workspace folder;
 *  4. when the result does not exist, the longest tail of the path (at least a directory and the file name) that
 *     exists under exactly one workspace folder is used, and the caller logs that it guessed.
 * Results are cached per instance (one instance per report application). Cost: a few `stat` calls per new name.
 */
import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath } from 'url';

export interface MappedPath {
  file: string;
  exists: boolean;
  /** How the path was found when it was not the report's own (for the log). */
  guessed?: string;
}

export class WorkspacePaths {
  private readonly cache = new Map<string, MappedPath | undefined>();
  private readonly prefixes: [string, string][];

  constructor(
    private readonly roots: string[],
    pathMap: Record<string, string> = {},
    private readonly exists: (file: string) => boolean = defaultExists,
  ) {
    this.prefixes = Object.entries(pathMap)
      .filter(([from, to]) => typeof from === 'string' && typeof to === 'string' && from.length > 0)
      .map(([from, to]): [string, string] => [normalizeSeparators(from).replace(/\/+$/, ''), to])
      .sort((a, b) => b[0].length - a[0].length);
  }

  /** The workspace file for a report's file name; undefined for names that are not files at all. */
  map(reportFile: string): MappedPath | undefined {
    if (this.cache.has(reportFile)) return this.cache.get(reportFile);
    const result = this.compute(reportFile);
    this.cache.set(reportFile, result);
    return result;
  }

  private compute(reportFile: string): MappedPath | undefined {
    let p = reportFile;
    if (p.startsWith('file://')) {
      try {
        p = fileURLToPath(p);
      } catch {
        return undefined;
      }
    } else if (/^[a-z][a-z0-9+.-]+:/i.test(p) && !/^[a-z]:[\\/]/i.test(p)) {
      return undefined;
    }
    const slashed = normalizeSeparators(p);
    for (const [from, to] of this.prefixes) {
      if (slashed === from || slashed.startsWith(from + '/')) {
        const mapped = path.join(to, slashed.slice(from.length));
        return { file: mapped, exists: this.exists(mapped) };
      }
    }
    if (path.isAbsolute(p) && !/^[a-z]:[\\/]/i.test(p)) {
      const file = path.normalize(p);
      if (this.exists(file)) return { file, exists: true };
      return this.bySuffix(slashed) ?? { file, exists: false };
    }
    if (!/^[a-z]:[\\/]/i.test(p)) {
      for (const root of this.roots) {
        const file = path.join(root, slashed);
        if (this.exists(file)) return { file, exists: true };
      }
    }
    return this.bySuffix(slashed) ?? { file: p, exists: false };
  }

  /** The longest tail of `slashed` that exists under exactly one workspace folder. */
  private bySuffix(slashed: string): MappedPath | undefined {
    const parts = slashed.split('/').filter((s) => s && s !== '.' && !/^[a-z]:$/i.test(s));
    for (let k = parts.length - 1; k >= 2; k--) {
      const tail = parts.slice(parts.length - k).join('/');
      const hits = this.roots.map((r) => path.join(r, tail)).filter((f) => this.exists(f));
      if (hits.length === 1) {
        const prefix = (slashed.startsWith('/') ? '/' : '') + parts.slice(0, parts.length - k).join('/');
        return {
          file: hits[0],
          exists: true,
          guessed: `by its last ${k} path segments; set leakLens.pathMap to map ${prefix} explicitly`,
        };
      }
      if (hits.length > 1) return undefined;
    }
    return undefined;
  }
}

function normalizeSeparators(p: string): string {
  return p.replace(/\\/g, '/');
}

function defaultExists(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
