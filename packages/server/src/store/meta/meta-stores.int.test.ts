import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testMetaStore } from './meta-store.contract.ts';
import { openMetaStore } from './sql-meta-store.ts';
import { PG_SKIP, createTestDatabase } from '../../testing/pg-test-db.ts';

testMetaStore('SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-meta-'));
  const meta = await openMetaStore(join(dir, 'ferry.db'));
  return {
    meta,
    cleanup: async () => {
      await meta.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

testMetaStore(
  'PostgreSQL',
  async () => {
    const db = await createTestDatabase('ferry_meta');
    const meta = await openMetaStore(db.url);
    return {
      meta,
      cleanup: async () => {
        await meta.close();
        await db.drop();
      },
    };
  },
  PG_SKIP,
);
