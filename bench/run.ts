// `npm run bench [-- name…]`: runs every bench/*-bench.ts (or the named ones: `foundation`,
// `telemetry`, …) one after another with this same Node binary, streaming their output. A failing
// benchmark does not stop the others; the exit code is non-zero when any failed.

import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

const dir = import.meta.dirname;
const available = (await readdir(dir))
  .filter((f) => f.endsWith('-bench.ts'))
  .map((f) => f.slice(0, -'-bench.ts'.length))
  .sort((a, b) => (a === 'foundation' ? -1 : b === 'foundation' ? 1 : a.localeCompare(b)));

const [flags, names] = [
  process.argv.slice(2).filter((a) => a.startsWith('-')),
  process.argv.slice(2).filter((a) => !a.startsWith('-')),
];
if (flags.includes('--help') || flags.includes('-h')) {
  console.log(`usage: npm run bench [-- name…]\nbenchmarks: ${available.join(', ')}`);
  process.exit(0);
}
const unknown = names.filter((n) => !available.includes(n.replace(/-bench(\.ts)?$/, '')));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}
const selected = names.length > 0 ? names.map((n) => n.replace(/-bench(\.ts)?$/, '')) : available;

const results: { name: string; code: number; seconds: number }[] = [];
for (const name of selected) {
  console.log(`\n=== ${name} (bench/${name}-bench.ts) ===`);
  const t0 = performance.now();
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [join(dir, `${name}-bench.ts`)], { stdio: 'inherit' });
    child.on('error', (e) => {
      console.error(`${name}: ${e.message}`);
      resolve(1);
    });
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
  results.push({ name, code, seconds: (performance.now() - t0) / 1000 });
}

console.log('\n=== summary ===');
for (const r of results)
  console.log(`  ${r.code === 0 ? 'ok  ' : 'FAIL'}  ${r.name.padEnd(12)} ${r.seconds.toFixed(1)} s`);
const failed = results.filter((r) => r.code !== 0);
if (failed.length > 0) {
  console.error(`\n${failed.length} benchmark(s) failed: ${failed.map((r) => r.name).join(', ')}`);
  process.exitCode = 1;
}
