// Remote file commands over the file API: `ferry ls | get | rm | versions | restore | conflicts`.

import { createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import type { FileInfo } from '@ferry/client/api/types';
import {
  formatBytes,
  loggedInClient,
  normalizeRemote,
  printJson,
  progressBar,
  resolveRemote,
  run,
} from './cli-context.ts';

const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

function line(e: FileInfo): string {
  const size = e.kind === 'dir' ? '-' : formatBytes(e.size);
  return `${e.kind === 'dir' ? 'd' : '-'} ${size.padStart(10)}  ${iso(e.mtime)}  ${e.path}${e.kind === 'dir' ? '/' : ''}`;
}

export function registerRemoteFileCommands(program: Command): void {
  program
    .command('ls')
    .description('list a folder on the server')
    .argument('[path]', 'remote folder', '/')
    .option('--space <space>', 'space id or name (default: your default space)')
    .option('-r, --recursive', 'everything below the folder')
    .option('--json', 'print entries as JSON')
    .action((path: string, o: { space?: string; recursive?: boolean; json?: boolean }) =>
      run(async () => {
        const { client } = loggedInClient();
        const entries: FileInfo[] = [];
        for await (const e of client.files.listAll(normalizeRemote(path), {
          space: o.space,
          recursive: o.recursive,
        }))
          entries.push(e);
        if (o.json) printJson(entries);
        else for (const e of entries) process.stdout.write(line(e) + '\n');
      }),
    );

  program
    .command('get')
    .description('download a file from the server')
    .argument('<path>', 'remote file')
    .argument('[dest]', 'local file (default: its name in the current folder)')
    .option('--space <space>', 'space id or name')
    .action((path: string, dest: string | undefined, o: { space?: string }) =>
      run(async () => {
        const { client } = loggedInClient();
        const remote = normalizeRemote(path);
        const target = resolve(dest ?? basename(remote));
        const res = await client.files.download({ path: remote }, { space: o.space });
        const total = Number(res.headers.get('content-length') ?? 0);
        const bar = progressBar('get', total);
        const tmp = `${target}.ferry-tmp`;
        const count = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            bar.add(chunk.length);
            cb(null, chunk);
          },
        });
        await pipeline(
          Readable.fromWeb(res.body! as import('node:stream/web').ReadableStream),
          count,
          createWriteStream(tmp),
        );
        bar.stop();
        await rename(tmp, target);
        process.stderr.write(`${remote} → ${target}\n`);
      }),
    );

  program
    .command('rm')
    .description('move a remote file or folder to the trash')
    .argument('<path...>', 'remote paths')
    .option('--space <space>', 'space id or name')
    .action((paths: string[], o: { space?: string }) =>
      run(async () => {
        const { client } = loggedInClient();
        for (const p of paths) {
          const e = await resolveRemote(client, p, o.space);
          await client.files.delete(e.id);
          process.stdout.write(`deleted ${e.path}\n`);
        }
      }),
    );

  program
    .command('versions')
    .description("list a remote file's versions")
    .argument('<path>', 'remote file')
    .option('--space <space>', 'space id or name')
    .option('--json', 'print versions as JSON')
    .action((path: string, o: { space?: string; json?: boolean }) =>
      run(async () => {
        const { client } = loggedInClient();
        const e = await resolveRemote(client, path, o.space);
        const versions = await client.files.versions(e.id);
        if (o.json) return printJson(versions);
        for (const v of versions) {
          const what = v.deleted
            ? 'deleted'
            : `${formatBytes(v.size).padStart(10)}  ${(v.contentHash ?? '').slice(0, 12)}`;
          process.stdout.write(`v${String(v.version).padEnd(4)} ${iso(v.createdAt)}  ${what}  ${v.path}\n`);
        }
      }),
    );

  program
    .command('restore')
    .description('make an older version of a remote file the current one')
    .argument('<path>', 'remote file')
    .argument('<version>', 'version number (see ferry versions)')
    .option('--space <space>', 'space id or name')
    .option('--json', 'print the restored file as JSON')
    .action((path: string, version: string, o: { space?: string; json?: boolean }) =>
      run(async () => {
        const { client } = loggedInClient();
        const e = await resolveRemote(client, path, o.space);
        const info = await client.files.restoreVersion(e.id, Number(version));
        if (o.json) printJson(info);
        else process.stdout.write(`restored ${info.path} to version ${version} (now v${info.version})\n`);
      }),
    );

  program
    .command('conflicts')
    .description('list conflict copies in a space')
    .option('--space <space>', 'space id or name')
    .option('--json', 'print entries as JSON')
    .action((o: { space?: string; json?: boolean }) =>
      run(async () => {
        const { client } = loggedInClient();
        const entries = await client.files.conflicts({ space: o.space });
        if (o.json) printJson(entries);
        else for (const e of entries) process.stdout.write(line(e) + '\n');
      }),
    );
}
