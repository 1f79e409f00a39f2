// Upgrading a database that holds data: a migration that rebuilds tables keeps every row.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { loadMigrations, type Migration } from './sql-driver.ts';
import { SqliteDriver } from './sqlite-driver.ts';

test('0006 rebuilds the chunk tables WITHOUT ROWID and keeps their rows', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-migrate-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'ferry.db');

  // A database as version 0005 left it, with chunks, uploads and space references in it.
  const old = new DatabaseSync(path);
  old.exec(
    'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
  );
  for (const m of loadMigrations('sqlite').filter((m) => m.version <= 5)) {
    old.exec(m.sql);
    old.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
  }
  const hashes = Array.from({ length: 300 }, (_, i) => i.toString(16).padStart(64, '0'));
  const insert = old.prepare('INSERT INTO chunks (hash, size, stored_size, created_at) VALUES (?, ?, ?, ?)');
  hashes.forEach((h, i) => insert.run(h, 1000 + i, 500 + i, i));
  for (const h of hashes.slice(0, 200)) old.prepare('INSERT INTO user_chunks VALUES (?, ?)').run('u1', h);
  for (const h of hashes.slice(100)) old.prepare('INSERT INTO space_chunks VALUES (?, ?)').run('s1', h);
  old.close();

  const driver = new SqliteDriver({ path });
  const upgraded: Migration[] = [];
  await driver.migrate({ onUpgrade: (m) => upgraded.push(m) });
  await driver.close();
  assert.ok(upgraded.some((m) => m.version === 6 && m.name === 'chunk-tables'));

  const db = new DatabaseSync(path);
  t.after(() => db.close());
  for (const table of ['chunks', 'user_chunks', 'space_chunks']) {
    const { sql } = db.prepare('SELECT sql FROM sqlite_master WHERE name = ?').get(table) as { sql: string };
    assert.match(sql, /WITHOUT ROWID$/, table);
  }
  assert.equal(db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'space_chunks_hash'").get(), undefined);
  const chunks = db.prepare('SELECT hash, size, stored_size, created_at FROM chunks ORDER BY hash').all();
  assert.deepEqual(
    chunks.map((r) => ({ ...r })),
    hashes.map((h, i) => ({ hash: h, size: 1000 + i, stored_size: 500 + i, created_at: i })),
  );
  const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  assert.equal(count("SELECT COUNT(*) AS n FROM user_chunks WHERE user_id = 'u1'"), 200);
  assert.equal(count("SELECT COUNT(*) AS n FROM space_chunks WHERE space_id = 's1'"), 200);
  assert.equal(
    (db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check,
    'ok',
  );
});
