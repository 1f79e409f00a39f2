// The `ferry` command line: one program for the server, the sync client and administration.

import { Command } from 'commander';
import { registerServerCommand } from './commands/server-command.ts';
import { registerLoginCommand } from './commands/login-command.ts';
import { registerSyncCommands } from './commands/sync-commands.ts';
import { registerPutCommand } from './commands/put-command.ts';
import { registerOnDemandCommands } from './commands/on-demand-commands.ts';
import { registerRemoteFileCommands } from './commands/remote-files-commands.ts';

const program = new Command('ferry')
  .description('Ferry: self-hosted, offline-first sync and storage')
  .version('0.1.0')
  .showHelpAfterError()
  .configureHelp({ sortSubcommands: false });

registerServerCommand(program);
registerLoginCommand(program);
registerSyncCommands(program);
registerPutCommand(program);
registerOnDemandCommands(program);
registerRemoteFileCommands(program);

await program.parseAsync(process.argv);
