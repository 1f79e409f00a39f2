// Runs a Ferry server as a process: first-start admin, listen, and graceful shutdown on signals
// (in-flight requests finish, then the database closes cleanly).

import type { ServerConfig } from './config.ts';
import { createFerryServer, type FerryServer } from './app.ts';

export async function startServer(config: ServerConfig, { handleSignals = true } = {}): Promise<FerryServer> {
  const server = await createFerryServer(config);
  const { app } = server;
  const admin = await server.services.auth.bootstrapAdmin(config.adminUser, config.adminPassword);
  const address = await app.listen({ host: config.host, port: config.port });
  if (admin.created) {
    const pw = admin.generatedPassword;
    app.log.info({ username: config.adminUser }, 'created the admin account');
    if (pw) {
      // Printed once, to the terminal, not to the JSON log.
      process.stdout.write(
        `\n  Ferry created the admin account.\n    username: ${config.adminUser}\n    password: ${pw}\n  It will not be shown again. Log in:\n` +
          `    curl -s ${address}/api/v1/auth/login -H 'content-type: application/json' -d '{"username":"${config.adminUser}","password":"${pw}"}'\n\n`,
      );
    }
  }
  // Before the "listening" line: whoever waits for that line may signal at once, and until a
  // listener exists Node's own handler kills the process on SIGINT/SIGTERM (seen in CI: a loaded
  // machine preempted the server between the line and the handlers).
  if (handleSignals) {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      app.log.info({ signal }, 'shutting down: finishing in-flight requests');
      // Keep-alive sockets of in-flight requests close as soon as their response is sent, instead
      // of idling for the keep-alive timeout (72 s) and holding the shutdown up.
      app.server.keepAliveTimeout = 1;
      server.close().then(
        () => process.exit(0),
        (e: unknown) => {
          app.log.error({ err: e }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    // `on`, not `once`: a repeated signal (Ctrl-C twice, or a terminal's and a supervisor's) is
    // ignored while the shutdown runs, instead of killing the process half-way through it.
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  }
  process.stdout.write(
    `Ferry is listening on ${address} (data: ${config.dataDir}; API docs: ${address}/api/docs)\n`,
  );
  return server;
}
