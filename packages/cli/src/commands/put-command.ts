// `ferry put FILE… [--space S] [--to PATH] [--evict]`: buffer mode. Files are queued in the
// device-wide outbox first, then sent if the server is reachable; otherwise a later `ferry put`
// (with or without files) or a running `ferry daemon` sends them.

import { statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { isFerryApiError } from '@ferry/client/api/errors';
import { enqueuePuts, flushPutQueue, listPuts } from '@ferry/client/engine/put-queue';
import { configDir, loggedInClient, normalizeRemote, printJson, progressBar, run } from './cli-context.ts';

export function registerPutCommand(program: Command): void {
  program
    .command('put')
    .description('queue files for upload from anywhere on this device (sent now if online)')
    .argument('[files...]', 'local files (none: just send what is queued)')
    .option('--space <space>', 'space id or name')
    .option('--to <path>', 'remote folder the files go into', '/')
    .option('--evict', 'delete each local file once the server has confirmed its exact content')
    .option('--json', 'print the queue as JSON')
    .action((files: string[], o: { space?: string; to: string; evict?: boolean; json?: boolean }) =>
      run(async () => {
        const { client } = loggedInClient();
        const to = normalizeRemote(o.to);
        const entries = files.map((f) => {
          if (!statSync(f).isFile()) throw new Error(`${f} is not a file`);
          const remotePath = `${to === '/' ? '' : to}/${basename(f).normalize('NFC')}`;
          return { localPath: f, remotePath, space: o.space, evict: o.evict };
        });
        await enqueuePuts(configDir(), entries);
        const total = entries.reduce((n, e) => n + statSync(e.localPath).size, 0);
        const bar = progressBar('put', total);
        let offline = false;
        try {
          await flushPutQueue(client, configDir(), { onBytes: (n) => bar.add(n) });
        } catch (e) {
          if (!(isFerryApiError(e) && e.status === 0)) throw e;
          offline = true;
        } finally {
          bar.stop();
        }
        const queue = listPuts(configDir());
        const pending = queue.filter((q) => q.state === 'queued');
        if (o.json) return printJson({ offline, queue });
        for (const q of queue.slice(-Math.max(entries.length, pending.length))) {
          process.stdout.write(
            `${q.state.padEnd(7)} ${q.localPath} → ${q.resultPath ?? q.remotePath}${q.error ? ` (${q.error})` : ''}${q.state === 'done' && q.evict ? ' [evicted]' : ''}\n`,
          );
        }
        if (offline)
          process.stdout.write(
            `offline: ${pending.length} file(s) queued, sent when the server is reachable\n`,
          );
        if (pending.length) process.exitCode = 3;
      }),
    );
}
