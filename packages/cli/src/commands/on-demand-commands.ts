// `ferry offload PATH…` / `ferry hydrate PATH…`: files on demand inside a sync folder. A
// placeholder is a sparse file of the original size and mtime plus a record in .ferry/state.db.

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { hydrate, offload } from '@ferry/client/engine/files-on-demand';
import { SyncEngine } from '@ferry/client/engine/sync-engine';
import { CliError, formatBytes, loggedInClient, printJson, run } from './cli-context.ts';

function rootOf(file: string): string {
  let d = dirname(resolve(file));
  for (;;) {
    if (existsSync(join(d, '.ferry', 'state.db'))) return d;
    const up = dirname(d);
    if (up === d) throw new CliError(`${file} is not inside a Ferry folder`, 2);
    d = up;
  }
}

export function registerOnDemandCommands(program: Command): void {
  for (const [name, desc] of [
    ['offload', 'replace synced files by placeholders to free space (the server keeps the bytes)'],
    ['hydrate', 'download the bytes of offloaded files back'],
  ] as const) {
    program
      .command(name)
      .description(desc)
      .argument('<paths...>', 'files inside a sync folder')
      .option('--json', 'print results as JSON')
      .action((paths: string[], o: { json?: boolean }) =>
        run(async () => {
          const { client } = loggedInClient();
          const results = [];
          for (const p of paths) {
            const engine = new SyncEngine({ root: rootOf(p), client });
            try {
              const abs = resolve(p);
              results.push(name === 'offload' ? await offload(engine, abs) : await hydrate(engine, abs));
            } finally {
              engine.close();
            }
          }
          if (o.json) return printJson(results);
          for (const r of results) {
            const n = 'freed' in r ? r.freed : r.bytes;
            process.stdout.write(
              `${name === 'offload' ? 'offloaded' : 'hydrated'} ${r.path} (${formatBytes(n)}${name === 'offload' ? ' freed' : ' received'})\n`,
            );
          }
        }),
      );
  }
}
