// Sync-folder commands: `ferry init DIR`, `ferry sync [DIR]` (one pass, exit 0 only when in sync),
// `ferry status [DIR]` and `ferry daemon [DIR…]` (watch + realtime + reconnect until stopped).

import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { FerryClient } from '@ferry/client/api/client';
import { parseRate } from '@ferry/client/engine/bandwidth-limiter';
import { SyncDaemon } from '@ferry/client/engine/sync-daemon';
import { SyncEngine, type PassReport } from '@ferry/client/engine/sync-engine';
import { flushPutQueue } from '@ferry/client/engine/put-queue';
import {
  CliError,
  configDir,
  formatBytes,
  loggedInClient,
  printJson,
  progressBar,
  run,
} from './cli-context.ts';

interface EngineFlags {
  limitUp?: string;
  limitDown?: string;
  allowDeleteAll?: boolean;
}

function findRoot(dir: string | undefined): string {
  let d = resolve(dir ?? '.');
  if (dir) {
    if (!existsSync(join(d, '.ferry', 'state.db')))
      throw new CliError(`${d} is not a Ferry folder: run "ferry init ${dir}"`, 2);
    return d;
  }
  for (;;) {
    if (existsSync(join(d, '.ferry', 'state.db'))) return d;
    const up = resolve(d, '..');
    if (up === d) throw new CliError('not inside a Ferry folder: run "ferry init DIR" or name the folder', 2);
    d = up;
  }
}

function openEngine(
  client: FerryClient,
  root: string,
  f: EngineFlags,
  onProgress?: (k: 'up' | 'down', n: number) => void,
): SyncEngine {
  return new SyncEngine({
    root,
    client,
    uploadLimit: parseRate(f.limitUp ?? process.env.FERRY_LIMIT_UP),
    downloadLimit: parseRate(f.limitDown ?? process.env.FERRY_LIMIT_DOWN),
    allowMassDelete: f.allowDeleteAll,
    onProgress,
  });
}

function summary(r: PassReport): string {
  const parts = [`${r.uploaded} up`, `${r.downloaded} down`, `${r.renamed} renamed`, `${r.deleted} deleted`];
  if (r.conflicts) parts.push(`${r.conflicts} conflicts`);
  return `${r.status}: ${parts.join(', ')} (${formatBytes(r.bytesUp)} sent, ${formatBytes(r.bytesDown)} received, ${r.durationMs} ms)`;
}

const engineOptions = (c: Command) =>
  c
    .option('--limit-up <rate>', 'upload limit, e.g. 500k or 2M per second (env FERRY_LIMIT_UP)')
    .option('--limit-down <rate>', 'download limit (env FERRY_LIMIT_DOWN)')
    .option('--allow-delete-all', 'allow a pass to delete everything when the folder was emptied on purpose');

export function registerSyncCommands(program: Command): void {
  program
    .command('init')
    .description('make DIR a sync folder of a space')
    .argument('<dir>', 'local folder (created if missing)')
    .option('--space <space>', 'space id or name (default: your default space)')
    .option('--json', 'print the result as JSON')
    .action((dir: string, o: { space?: string; json?: boolean }) =>
      run(async () => {
        const { client, creds } = loggedInClient();
        const spaces = await client.spaces.list();
        const space = o.space
          ? spaces.find((s) => s.id === o.space || s.name === o.space)
          : spaces.find((s) => s.isDefault);
        if (!space) throw new CliError(`no space ${o.space ?? '(default)'} for this user`, 2);
        const root = resolve(dir);
        await mkdir(root, { recursive: true });
        await SyncEngine.init(root, space.id, creds.server);
        if (o.json) printJson({ root, spaceId: space.id, space: space.name });
        else
          process.stdout.write(
            `${root} now syncs space "${space.name}" (${space.id}); run "ferry sync ${dir}" or "ferry daemon ${dir}"\n`,
          );
      }),
    );

  engineOptions(
    program
      .command('sync')
      .description('run one sync pass; exit 0 only when the folder is fully in sync')
      .argument('[dir]', 'sync folder (default: the one around the current directory)')
      .option('--json', 'print the pass report as JSON'),
  ).action((dir: string | undefined, o: EngineFlags & { json?: boolean }) =>
    run(async () => {
      const { client } = loggedInClient();
      const root = findRoot(dir);
      let bar: ReturnType<typeof progressBar> | null = null;
      const engine = openEngine(client, root, o, (_k, n) => {
        bar ??= progressBar('sync', 64 * 1024 * 1024);
        bar.add(n);
      });
      try {
        const r = await engine.sync();
        (bar as ReturnType<typeof progressBar> | null)?.stop();
        if (o.json) printJson(r);
        else
          process.stdout.write(
            summary(r) +
              (r.message ? `\n${r.message}` : '') +
              (r.errors.length ? `\n${r.errors.join('\n')}` : '') +
              '\n',
          );
        if (!r.inSync) process.exitCode = r.status === 'offline' ? 3 : r.status === 'halted' ? 4 : 1;
      } finally {
        engine.close();
      }
    }),
  );

  program
    .command('status')
    .description('show online/offline, pending changes, last sync and conflicts of a sync folder')
    .argument('[dir]', 'sync folder')
    .option('--json', 'print status as JSON')
    .action((dir: string | undefined, o: { json?: boolean }) =>
      run(async () => {
        const { client, creds } = loggedInClient();
        const root = findRoot(dir);
        const engine = openEngine(client, root, {});
        try {
          const p = await engine.preview();
          const up = p.ops.filter((x) => x.type === 'upload' || x.type === 'deleteRemote');
          const down = p.ops.filter(
            (x) =>
              x.type === 'download' ||
              x.type === 'mkdirLocal' ||
              x.type === 'deleteLocal' ||
              x.type === 'renameLocal',
          );
          const bytes = (ops: typeof p.ops) =>
            ops.reduce(
              (n, x) => n + (x.type === 'upload' ? x.local.size : x.type === 'download' ? x.remote.size : 0),
              0,
            );
          const lastSync = Number(engine.db.getMeta('lastSyncAt') ?? 0);
          const conflicts = [...engine.db.remote().keys()].filter((k) => / \(conflict from .+\)/.test(k));
          const st = {
            root,
            server: creds.server,
            spaceId: engine.spaceId,
            online: !p.offline,
            inSync: p.ops.length === 0 && !p.halt,
            pendingUp: { files: up.length, bytes: bytes(up) },
            pendingDown: { files: down.length, bytes: bytes(down) },
            outbox: engine.db.outbox().length,
            lastSyncAt: lastSync ? new Date(lastSync).toISOString() : null,
            lastStatus: engine.db.getMeta('lastStatus'),
            lastMessage: engine.db.getMeta('lastMessage') || null,
            halt: p.halt ?? null,
            conflicts,
            queuedReports: engine.db.pendingEvents(1000).length,
          };
          if (o.json) return printJson(st);
          const w = (s: string) => process.stdout.write(s + '\n');
          w(`${root} → ${creds.server} (space ${engine.spaceId})`);
          w(`${st.online ? 'online' : 'OFFLINE'}, ${st.inSync ? 'in sync' : 'not in sync'}`);
          w(
            `pending: ${up.length} up (${formatBytes(st.pendingUp.bytes)}), ${down.length} down (${formatBytes(st.pendingDown.bytes)})`,
          );
          w(
            `last sync: ${st.lastSyncAt ?? 'never'}${st.lastStatus && st.lastStatus !== 'ok' ? ` (last pass: ${st.lastStatus} ${st.lastMessage ?? ''})` : ''}`,
          );
          if (st.halt) w(`HALTED: ${st.halt}`);
          w(`conflicts: ${conflicts.length}`);
          for (const c of conflicts) w(`  ${c}`);
        } finally {
          engine.close();
        }
      }),
    );

  engineOptions(
    program
      .command('daemon')
      .description('keep sync folders in sync: watch, realtime push, periodic rescan, reconnect')
      .argument('[dirs...]', 'sync folders (default: the current one)')
      .option('--rescan <seconds>', 'full rescan interval', '120')
      .option('--quiet', 'log only errors'),
  ).action((dirs: string[], o: EngineFlags & { rescan: string; quiet?: boolean }) =>
    run(async () => {
      const { client } = loggedInClient();
      const roots = (dirs.length ? dirs : [undefined]).map((d) => findRoot(d));
      const log = (m: string) => process.stderr.write(`${new Date().toISOString()} ${m}\n`);
      const daemons = roots.map((root) => {
        const engine = openEngine(client, root, o);
        return new SyncDaemon(engine, {
          rescanMs: Number(o.rescan) * 1000,
          log,
          onPass: (r) => {
            if (!o.quiet && (r.uploaded || r.downloaded || r.deleted || r.renamed || r.status !== 'ok'))
              log(`[${root}] ${summary(r)}`);
          },
        });
      });
      for (const d of daemons) d.start();
      // Buffer-mode uploads (`ferry put`) queued on this device go out whenever we are online.
      const putTimer = setInterval(
        () => void flushPutQueue(client, configDir()).catch(() => undefined),
        10_000,
      );
      void flushPutQueue(client, configDir()).catch(() => undefined);
      // The signal handlers go in before the "watching" line, which whoever started us may answer
      // with a signal at once (until a listener exists, Node's own handler kills the process); a
      // repeated signal is ignored while the daemons stop.
      const stopped = new Promise<void>((done) => {
        let stopping = false;
        const stop = () => {
          if (stopping) return;
          stopping = true;
          clearInterval(putTimer);
          void Promise.all(daemons.map((d) => d.stop())).then(() => {
            for (const d of daemons) d.engine.close();
            done();
          });
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      log(`ferry daemon watching ${roots.join(', ')}`);
      await stopped;
    }),
  );
}
