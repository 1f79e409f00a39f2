// `.ferryignore` at the sync root, gitignore syntax (the `ignore` package), plus the entries Ferry
// never syncs: its own state folder, temp files of editors and of Ferry, and OS litter.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ignoreModule, { type Ignore } from 'ignore';

// The package is CommonJS with an `export =`-style default; under nodenext the callable is on .default or the module.
const ignore = ((ignoreModule as unknown as { default?: () => Ignore }).default ??
  ignoreModule) as unknown as () => Ignore;

export const STATE_DIR = '.ferry';
const BUILTIN = [`/${STATE_DIR}/`, '*.ferry-tmp', '.DS_Store', 'Thumbs.db', '.~lock.*#', '*.swp', '*~'];

export class IgnoreRules {
  readonly #ig: Ignore;

  constructor(patterns: string[] = []) {
    this.#ig = ignore().add(BUILTIN).add(patterns);
  }

  /** Reads `.ferryignore` from the root (missing file: only the built-in rules). */
  static load(root: string): IgnoreRules {
    let text = '';
    try {
      text = readFileSync(join(root, '.ferryignore'), 'utf8');
    } catch {
      // no .ferryignore
    }
    return new IgnoreRules(text.split(/\r?\n/));
  }

  /** `path` is a Ferry path ('/a/b'); folders must be asked with isDir so 'dir/' patterns match. */
  ignores(path: string, isDir = false): boolean {
    const rel = path.replace(/^\/+/, '');
    if (rel === '') return false;
    return this.#ig.ignores(isDir ? rel + '/' : rel);
  }
}
