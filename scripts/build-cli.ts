// Builds the `ferry` command into packages/cli/dist: our TypeScript packages bundled into a few
// plain ES modules (npm dependencies stay imports from node_modules). Running TypeScript directly
// costs every process Node's type-stripping compiler (a WebAssembly module) and one transform per
// file: the bundle starts in 0.25 s instead of 0.6 s and an idle server takes ~28 MiB less memory
// (docs/decisions.md). bin/ferry.js runs the bundle only while it is newer than every source file.
//
//   node scripts/build-cli.ts

import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'rolldown';

const ROOT = join(import.meta.dirname, '..');
const OUT = join(ROOT, 'packages', 'cli', 'dist');

rmSync(OUT, { recursive: true, force: true });
await build({
  input: {
    ferry: join(ROOT, 'packages/cli/src/main.ts'),
    // Worker threads load their own entry file, next to the bundle that starts them.
    'telemetry-writer-worker': join(ROOT, 'packages/server/src/devices/telemetry-writer-worker.ts'),
  },
  platform: 'node',
  // Bare imports other than our workspaces (fastify, pg, …) resolve from node_modules at run time.
  external: (id) => !id.startsWith('@ferry/') && !id.startsWith('.') && !id.startsWith('/'),
  output: {
    dir: OUT,
    format: 'esm',
    entryFileNames: '[name].mjs',
    chunkFileNames: '[name]-[hash].mjs',
    sourcemap: true,
  },
  logLevel: 'warn',
});
// The SQL migrations are read from disk next to the code that applies them (sql-driver.ts).
cpSync(join(ROOT, 'packages/server/src/store/meta/migrations'), join(OUT, 'migrations'), { recursive: true });
writeFileSync(
  join(OUT, 'README.md'),
  'Built by `npm run build` (scripts/build-cli.ts); not edited by hand.\n',
);
console.log(`ferry: built ${OUT}`);
