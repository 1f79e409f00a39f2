// The `ferry` command line: one program for the server, the sync client and administration.

import { setFlagsFromString } from 'node:v8';
import { Command } from 'commander';
import { registerServerCommand } from './commands/server-command.ts';
import { registerLoginCommand } from './commands/login-command.ts';
import { registerSyncCommands } from './commands/sync-commands.ts';
import { registerPutCommand } from './commands/put-command.ts';
import { registerOnDemandCommands } from './commands/on-demand-commands.ts';
import { registerRemoteFileCommands } from './commands/remote-files-commands.ts';

// The long-running commands run with a smaller V8 young generation than the default 16 MiB
// semi-spaces: short-lived request buffers are collected sooner, so RSS and GC time drop. The
// server uses 4 MiB, a compromise: 2 MiB suited uploads best but cost telemetry ingest 40% of its
// throughput (docs/decisions.md). The server's old generation grows to 1.5 times what survives a
// full collection instead of by V8's adaptive factor (one full collection under load went 144 →
// 44 MB): under 10,000 sync events a second its heap stayed at ~65 MB instead of climbing past
// 100 MB of promoted request garbage (peak RSS ~320 → ~210 MB), for 12–16% more CPU per event.
// Buffers count toward that limit too (--external-memory-accounted-in-global-limit): otherwise
// V8 runs a full collection for every ~64 MB of Buffers allocated since the last one, however
// little of the JavaScript heap there is to collect, and the ~1 GB of short-lived socket reads
// and chunk copies of a 302 MiB sync set off 25 of them (16 with the flag: V8's helper threads
// 1.00 → 0.74 s of CPU, for a peak RSS some 7–10 MiB higher; docs/decisions.md).
// The daemon, mostly idle, uses 2 MiB and one V8 worker thread instead of one per core (13 MiB
// less). V8 reads flags only at start-up, so the process replaces itself (same pid, so signals
// and supervisors see one process).
const V8_FLAGS = new Map([
  [
    'server',
    ['--max-semi-space-size=4', '--heap-growing-percent=50', '--external-memory-accounted-in-global-limit'],
  ],
  ['daemon', ['--max-semi-space-size=2', '--v8-pool-size=1']],
]);
// glibc's malloc raises its mmap threshold up to 32 MiB after the first big free, so the chunk and
// socket buffers of a transfer (64 KiB–1 MiB, freed by the garbage collector in bursts) then come
// from heap arenas that fragment and rarely shrink. A fixed 64 KiB threshold returns them to the
// system when freed: peak RSS of the server during a 302 MiB sync 200–226 → 153–174 MiB, at no
// measurable CPU cost (docs/decisions.md). Two arenas instead of glibc's eight per core: the
// telemetry writer thread, libuv's pool and V8's helpers each kept a partly used arena of their
// own (~15 MB more RSS under fleet ingest). Other C libraries ignore these variables.
const MALLOC_ENV = {
  MALLOC_MMAP_THRESHOLD_: '65536',
  MALLOC_TRIM_THRESHOLD_: '65536',
  MALLOC_ARENA_MAX: '2',
};
const flags = V8_FLAGS.get(process.argv[2]);
if (
  flags &&
  !process.execArgv.some((a) => a.startsWith('--max-semi-space-size')) &&
  typeof process.execve === 'function'
) {
  process.execve(
    process.execPath,
    [process.execPath, ...flags, ...process.execArgv, ...process.argv.slice(1)],
    { ...MALLOC_ENV, ...process.env },
  );
}

// Every other command counts Buffers toward V8's global heap limit too (the flag the server starts
// with, above), set at run time since they do not re-execute themselves: A's `ferry sync` of the
// 302 MiB corpus ran 11–14 full collections without it and 2 with it, for 0.2–0.4 s less CPU.
setFlagsFromString('--external-memory-accounted-in-global-limit');

// Device commands: file work goes through libuv's thread pool (4 threads by default). A scan of
// thousands of small files is a queue of open/read/close calls, and a download of thousands is a
// queue of fsyncs, each of which waits for a journal commit that concurrent ones share: writing
// 5,000 downloaded files of 4 KB took 3.4 s with 16 threads, 3.0–3.1 s with 64, 2.2–3.0 s with
// 64 and 32 files of a group at once (a thread waiting in fsync costs no CPU; the idle daemon's
// RSS did not move). The pool size is read when the pool starts. The server
// keeps the default: more threads there meant more chunk buffers in flight and a higher peak RSS.
if (process.argv[2] !== 'server') process.env.UV_THREADPOOL_SIZE ??= '64';

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
