#!/usr/bin/env node
// The `ferry` command. Ferry's TypeScript runs on Node 24 (type stripping); when this shim is
// started by an older Node, it re-runs itself on the Node 24 binary the `node@24` dev dependency installed.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'main.ts');
const [major] = process.versions.node.split('.').map(Number);
if (major >= 24) {
  await import(main);
} else {
  const require = createRequire(import.meta.url);
  const node24 = join(dirname(require.resolve('node/package.json')), 'bin', 'node');
  const child = spawn(node24, [main, ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => (signal ? process.kill(process.pid, signal) : process.exit(code ?? 1)));
}
