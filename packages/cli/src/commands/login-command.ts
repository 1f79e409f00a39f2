// `ferry login URL --user U --password P --device NAME [--kind desktop]`: registers this device and
// stores its tokens in the credentials file (mode 0600).

import type { Command } from 'commander';
import { FerryClient } from '@ferry/client/api/client';
import { MemoryTokenStore } from '@ferry/client/api/transport';
import type { DeviceKind } from '@ferry/client/api/types';
import { credentialsFile, NODE_TRANSPORT, printJson, run, writeCredentials } from './cli-context.ts';

export function registerLoginCommand(program: Command): void {
  program
    .command('login')
    .description('log this device in to a Ferry server')
    .argument('<url>', 'server URL, e.g. http://localhost:8090')
    .requiredOption('--user <name>', 'user name')
    .requiredOption('--password <password>', 'password (or env FERRY_PASSWORD)', process.env.FERRY_PASSWORD)
    .requiredOption('--device <name>', 'a name for this device (shown in conflict copies)')
    .option('--kind <kind>', 'desktop | mobile | web | watch | other', 'desktop')
    .option('--json', 'print the result as JSON')
    .action(
      (url: string, o: { user: string; password: string; device: string; kind: string; json?: boolean }) =>
        run(async () => {
          const server = url.replace(/\/+$/, '');
          const client = new FerryClient({
            baseUrl: server,
            tokens: new MemoryTokenStore(),
            ...NODE_TRANSPORT,
          });
          const session = await client.auth.login({
            username: o.user,
            password: o.password,
            device: { name: o.device, kind: o.kind as DeviceKind },
          });
          writeCredentials({ server, deviceName: o.device, deviceKind: o.kind, session });
          if (o.json)
            printJson({
              server,
              user: session.user.username,
              deviceId: session.deviceId,
              credentials: credentialsFile(),
            });
          else
            process.stdout.write(
              `logged in to ${server} as ${session.user.username} (device ${o.device}, ${session.deviceId})\n`,
            );
        }),
    );
}
