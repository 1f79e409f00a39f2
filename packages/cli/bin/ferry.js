#!/usr/bin/env node
// The `ferry` command. It runs the bundle `npm run build` makes (packages/cli/dist/ferry.mjs) while
// that is newer than every TypeScript source, and the TypeScript itself otherwise (Node 24 strips
// the types), so an edit is never shadowed by a stale build. When this shim is started by an older
// Node, it re-runs itself on the Node 24 binary the `node@24` dev dependency installed.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import module, { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(cli, 'dist', 'ferry.mjs');

/** Newest mtime (ms) of the .ts and .sql files under the workspace packages' src dirs. */
function newestSource() {
  let newest = 0;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|sql)$/.test(e.name)) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const pkg of ['cli', 'client', 'core', 'server']) walk(join(cli, '..', pkg, 'src'));
  return newest;
}

function entry() {
  if (process.env.FERRY_FROM_SOURCE === '1') return join(cli, 'src', 'main.ts');
  try {
    if (statSync(bundle).mtimeMs >= newestSource()) return bundle;
  } catch {
    // no bundle (never built): run the sources
  }
  return join(cli, 'src', 'main.ts');
}

/**
 * V8's compiled code for the bundle and its dependencies, kept between runs (node:module's compile
 * cache), so that a short command compiles nothing it compiled before (~8 ms of `ferry sync`, more
 * of `ferry --version`). In the user's own cache directory: Node's default, a shared folder under
 * the system's temp dir, would let another local user plant code. Not for the server and the
 * daemon: they start once and run for days, and the eagerly loaded code cost the idle server 3–5
 * MiB of RSS. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
 */
function enableCompileCache() {
  if (process.env.NODE_DISABLE_COMPILE_CACHE || typeof module.enableCompileCache !== 'function') return;
  if (['server', 'daemon'].includes(process.argv[2])) return;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  const dir = process.env.NODE_COMPILE_CACHE || join(base, 'ferry', 'compile-cache');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    module.enableCompileCache(dir);
  } catch {
    // a read-only home: run without it
  }
}

const main = entry();
const [major] = process.versions.node.split('.').map(Number);
if (major >= 24) {
  // main.ts re-executes the server and the daemon with their V8 flags from argv[1]: point it at
  // the entry chosen here, so the re-executed process does not walk the sources again.
  process.argv[1] = main;
  enableCompileCache();
  await import(main);
} else {
  const require = createRequire(import.meta.url);
  const node24 = join(dirname(require.resolve('node/package.json')), 'bin', 'node');
  const child = spawn(node24, [main, ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => (signal ? process.kill(process.pid, signal) : process.exit(code ?? 1)));
}
