// Buffer mode (`ferry put`): a device-wide queue in CONFIG_DIR/outbox.db of files to upload from
// anywhere on the device. Each entry is recorded (with its content hash and a stable opId) before
// anything is sent, uploaded through the chunk protocol when online (resumable: chunks already on
// the server are skipped), and — with evict — deleted locally only once the server reports the
// exact content hash for the committed file.

import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { DatabaseSync } from 'node:sqlite';
import { join, resolve } from 'node:path';
import type { FerryClient } from '../api/client.ts';
import { uploadMissingChunks } from './chunk-uploader.ts';
import { unpackRefs } from './chunk-refs.ts';
import { hashFile } from './file-hasher.ts';
import { statEntry } from './scanner.ts';

export interface PutEntry {
  id: string;
  localPath: string;
  space: string | null;
  remotePath: string;
  evict: boolean;
  size: number;
  contentHash: string;
  state: 'queued' | 'done' | 'failed';
  error: string | null;
  resultPath: string | null;
  createdAt: number;
}

function openQueue(configDir: string): DatabaseSync {
  mkdirSync(configDir, { recursive: true, mode: 0o700 });
  const db = new DatabaseSync(join(configDir, 'outbox.db'));
  db.exec(`PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;
    CREATE TABLE IF NOT EXISTS put_queue (
      id TEXT PRIMARY KEY, local_path TEXT NOT NULL, space TEXT, remote_path TEXT NOT NULL, evict INTEGER NOT NULL,
      size INTEGER NOT NULL, content_hash TEXT NOT NULL, state TEXT NOT NULL, error TEXT, result_path TEXT, created_at INTEGER NOT NULL)`);
  return db;
}

const row = (r: Record<string, unknown>): PutEntry => ({
  id: r.id as string,
  localPath: r.local_path as string,
  space: (r.space as string | null) ?? null,
  remotePath: r.remote_path as string,
  evict: Number(r.evict) === 1,
  size: Number(r.size),
  contentHash: r.content_hash as string,
  state: r.state as PutEntry['state'],
  error: (r.error as string | null) ?? null,
  resultPath: (r.result_path as string | null) ?? null,
  createdAt: Number(r.created_at),
});

/** Records files in the queue (hashing them now, so later edits are noticed). */
export async function enqueuePuts(
  configDir: string,
  files: { localPath: string; remotePath: string; space?: string; evict?: boolean }[],
): Promise<PutEntry[]> {
  const db = openQueue(configDir);
  try {
    const out: PutEntry[] = [];
    for (const f of files) {
      const h = await hashFile(f.localPath);
      const e: PutEntry = {
        id: randomUUID(),
        localPath: resolve(f.localPath),
        space: f.space ?? null,
        remotePath: f.remotePath,
        evict: !!f.evict,
        size: h.size,
        contentHash: h.contentHash,
        state: 'queued',
        error: null,
        resultPath: null,
        createdAt: Date.now(),
      };
      db.prepare(
        'INSERT INTO put_queue(id, local_path, space, remote_path, evict, size, content_hash, state, created_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(
        e.id,
        e.localPath,
        e.space,
        e.remotePath,
        e.evict ? 1 : 0,
        e.size,
        e.contentHash,
        e.state,
        e.createdAt,
      );
      out.push(e);
    }
    return out;
  } finally {
    db.close();
  }
}

export function listPuts(configDir: string): PutEntry[] {
  const db = openQueue(configDir);
  try {
    return (db.prepare('SELECT * FROM put_queue ORDER BY created_at').all() as Record<string, unknown>[]).map(
      row,
    );
  } finally {
    db.close();
  }
}

async function spaceIdOf(client: FerryClient, space: string | null): Promise<string> {
  const spaces = await client.spaces.list();
  const s = space ? spaces.find((x) => x.id === space || x.name === space) : spaces.find((x) => x.isDefault);
  if (!s) throw new Error(`no space ${space ?? '(default)'}`);
  return s.id;
}

/** Uploads every queued entry; returns those finished now. Network errors leave entries queued. */
export async function flushPutQueue(
  client: FerryClient,
  configDir: string,
  o: { onBytes?: (n: number) => void } = {},
): Promise<PutEntry[]> {
  const db = openQueue(configDir);
  const done: PutEntry[] = [];
  try {
    const queued = (
      db.prepare("SELECT * FROM put_queue WHERE state = 'queued' ORDER BY created_at").all() as Record<
        string,
        unknown
      >[]
    ).map(row);
    for (const e of queued) {
      const setState = (state: string, error: string | null, resultPath: string | null = null) =>
        db
          .prepare('UPDATE put_queue SET state = ?, error = ?, result_path = ? WHERE id = ?')
          .run(state, error, resultPath, e.id);
      const st = await statEntry(e.localPath);
      if (!st) {
        setState('failed', 'the local file is gone');
        continue;
      }
      const h = await hashFile(e.localPath);
      if (h.contentHash !== e.contentHash) {
        // Edited since `ferry put`: send what is there now (a new op), never half of each.
        db.prepare('UPDATE put_queue SET content_hash = ?, size = ?, id = ? WHERE id = ?').run(
          h.contentHash,
          h.size,
          randomUUID(),
          e.id,
        );
        continue;
      }
      const spaceId = await spaceIdOf(client, e.space);
      await uploadMissingChunks(client.sync, '/', [{ key: e.id, diskPath: e.localPath, refs: h.refs }], {
        onBytes: o.onBytes,
      });
      const answer = await client.sync.commit(spaceId, [
        {
          opId: e.id,
          path: e.remotePath,
          kind: 'file',
          baseVersionId: null,
          size: h.size,
          mtime: Math.round(st.mtime),
          contentHash: h.contentHash,
          chunks: unpackRefs(h.refs).map((r) => ({ hash: r.hash, size: r.size })),
        },
      ]);
      const r = answer.results[0];
      if (!r || r.status === 'rejected') {
        setState('failed', r?.error?.message ?? 'rejected');
        continue;
      }
      if (e.evict) {
        const info = await client.files.info(r.fileId);
        const now = await hashFile(e.localPath).catch(() => null);
        if (info.contentHash === e.contentHash && now?.contentHash === e.contentHash)
          await unlink(e.localPath);
        else {
          setState('failed', 'not evicted: the server copy could not be confirmed');
          continue;
        }
      }
      setState('done', null, r.path);
      done.push({ ...e, state: 'done', resultPath: r.path });
    }
    return done;
  } finally {
    db.close();
  }
}
