/** Temporary folders for tests: each is removed when its test ends, pass or fail. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** A new folder `leak-lens-<prefix>-*` under the system's temporary folder, removed after the test `t`. */
export function tempDir(t: { after(fn: () => void): void }, prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `leak-lens-${prefix}-`));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}
