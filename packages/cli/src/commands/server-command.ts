// `ferry server`: starts the Ferry server on the embedded default (SQLite + local disk) or on
// PostgreSQL when FERRY_DATABASE_URL says so. Graceful shutdown on SIGINT/SIGTERM.

import type { Command } from 'commander';
import { CONFIG_DOCS, ConfigError, loadConfig } from '@ferry/server/config';

export function registerServerCommand(program: Command): void {
  const width = Math.max(...CONFIG_DOCS.map((d) => d.env.length));
  const table = CONFIG_DOCS.map(
    (d) => `  ${d.env.padEnd(width)} ${(d.flag ?? '').padEnd(8)} ${d.doc} (default: ${d.default})`,
  ).join('\n');
  program
    .command('server')
    .description('run the Ferry server (embedded SQLite + local disk by default)')
    .option('--host <host>', 'interface to listen on (env FERRY_HOST, default 127.0.0.1)')
    .option('--port <port>', 'TCP port, 0 for any free one (env FERRY_PORT, default 8090)')
    .option('--data <dir>', 'data directory (env FERRY_DATA_DIR, default ./data)')
    .addHelpText('after', `\nEnvironment:\n${table}\n`)
    .action(async (opts: { host?: string; port?: string; data?: string }) => {
      let config;
      try {
        config = loadConfig({
          host: opts.host,
          port:
            opts.port === undefined
              ? undefined
              : Number.isInteger(Number(opts.port))
                ? Number(opts.port)
                : (opts.port as unknown as number),
          dataDir: opts.data,
        });
      } catch (e) {
        if (e instanceof ConfigError) {
          process.stderr.write(`ferry server: ${e.message}\n`);
          process.exit(2);
        }
        throw e;
      }
      // Loaded only here: the server's modules would add ~1 s and ~50 MiB to every other command.
      const { startServer } = await import('@ferry/server/start');
      await startServer(config);
    });
}
