// What every device command shares: where the credentials live ($FERRY_CONFIG_DIR, else the XDG
// config dir), a FerryClient whose rotated tokens are written back (mode 0600), path → id lookup,
// and output helpers (--json, progress bars on a TTY only).

import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import { FerryClient } from '@ferry/client/api/client';
import type { TokenStore } from '@ferry/client/api/transport';
import type { FileInfo, Session } from '@ferry/client/api/types';
import { isFerryApiError } from '@ferry/client/api/errors';
import { httpFetch } from '@ferry/client/engine/http-fetch';
import NodeWebSocket from 'ws';

/**
 * How device commands talk to the server: node:http with keep-alive and no body copies (sync moves
 * megabytes a request), and the `ws` WebSocket. Node's built-in fetch, Response and WebSocket all
 * live in undici, which the idle daemon would keep loaded (~4 MB).
 */
export const NODE_TRANSPORT = {
  fetch: httpFetch,
  webSocket: NodeWebSocket as unknown as typeof WebSocket,
};

export interface Credentials {
  server: string;
  deviceName: string;
  deviceKind: string;
  session: Session | null;
}

export function configDir(): string {
  if (process.env.FERRY_CONFIG_DIR) return process.env.FERRY_CONFIG_DIR;
  const xdg = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(xdg, 'ferry');
}

export function credentialsFile(): string {
  return join(configDir(), 'credentials.json');
}

export function readCredentials(): Credentials | null {
  try {
    return JSON.parse(readFileSync(credentialsFile(), 'utf8')) as Credentials;
  } catch {
    return null;
  }
}

export function writeCredentials(c: Credentials): void {
  const dir = configDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = credentialsFile();
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(c, null, 2), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/**
 * Tokens persisted in the credentials file. load() re-reads it when it changed on disk, so a CLI
 * command and a running daemon sharing one device adopt each other's rotated refresh token instead
 * of replaying an old one (which the server would treat as theft).
 */
export class FileTokenStore implements TokenStore {
  #mtime = -1;
  #creds: Credentials;
  constructor(creds: Credentials) {
    this.#creds = creds;
  }
  load(): Session | null {
    try {
      const m = statSync(credentialsFile()).mtimeMs;
      if (m !== this.#mtime) {
        this.#mtime = m;
        this.#creds = readCredentials() ?? this.#creds;
      }
    } catch {
      // no file yet
    }
    return this.#creds.session;
  }
  save(session: Session | null): void {
    this.#creds = { ...this.#creds, session };
    writeCredentials(this.#creds);
    this.#mtime = statSync(credentialsFile()).mtimeMs;
  }
}

export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

export function loggedInClient(): { client: FerryClient; creds: Credentials } {
  const creds = readCredentials();
  if (!creds?.session)
    throw new CliError('not logged in: run "ferry login URL --user U --password P --device NAME"', 2);
  const client = new FerryClient({
    baseUrl: creds.server,
    tokens: new FileTokenStore(creds),
    ...NODE_TRANSPORT,
  });
  return { client, creds };
}

/** Runs a command body, turning errors into a message on stderr and an exit code. */
export async function run(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`ferry: ${msg}\n`);
    process.exitCode = e instanceof CliError ? e.exitCode : isFerryApiError(e) && e.status === 0 ? 3 : 1;
  }
}

export function printJson(v: unknown): void {
  process.stdout.write(JSON.stringify(v, null, 2) + '\n');
}

export function normalizeRemote(p: string): string {
  const s = ('/' + p.replace(/^\/+/, '')).replace(/\/+$/, '');
  return (s || '/').normalize('NFC');
}

/** Finds a file or folder by path (through its parent's listing). */
export async function resolveRemote(client: FerryClient, path: string, space?: string): Promise<FileInfo> {
  const p = normalizeRemote(path);
  const parent = p.slice(0, p.lastIndexOf('/')) || '/';
  for await (const e of client.files.listAll(parent, { space })) if (e.path === p) return e;
  throw new CliError(`${p}: no such file or folder`, 1);
}

export function formatBytes(n: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i ? n.toFixed(1) : n} ${u[i]}`;
}

/** A byte progress bar on a TTY (stderr), nothing otherwise. */
export function progressBar(label: string, total: number): { add(n: number): void; stop(): void } {
  if (!process.stderr.isTTY || total < 1024 * 1024) return { add() {}, stop() {} };
  const bar = new SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} bytes | {eta}s`,
      stream: process.stderr,
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  bar.start(total, 0);
  return {
    add: (n) => bar.increment(n),
    stop: () => bar.stop(),
  };
}
