// A throw-away PostgreSQL database per test file, created next to FERRY_TEST_DATABASE_URL's
// database and dropped afterwards, so suites never see each other's rows. `undefined` when the
// variable is unset: callers skip with a message.

import pg from 'pg';
import { randomBytes } from 'node:crypto';

export const PG_URL = process.env.FERRY_TEST_DATABASE_URL;
export const PG_SKIP = PG_URL ? false : 'FERRY_TEST_DATABASE_URL is not set: PostgreSQL suite skipped';

export async function createTestDatabase(
  prefix = 'ferry_test',
): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!PG_URL) throw new Error('FERRY_TEST_DATABASE_URL is not set');
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
