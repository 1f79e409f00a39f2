// `npm test`: builds the web app (when e2e/web tests run) and the `ferry` bundle, then runs every test file with
// node:test — unit (*.test.ts next to code), integration (*.int.test.ts) and end-to-end (e2e/).
// PostgreSQL suites run when FERRY_TEST_DATABASE_URL is set and say that they skip otherwise.

import { spawnSync } from 'node:child_process';
import { globSync, readFileSync } from 'node:fs';

const patterns = ['packages/*/src/**/*.test.ts', 'e2e/**/*.test.ts'];
const files = patterns.flatMap((p) => globSync(p)).filter((f) => !f.includes('node_modules'));
const only = process.argv.slice(2);
const selected = only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files;

const web = JSON.parse(readFileSync('packages/web/package.json', 'utf8')) as {
  scripts?: Record<string, string>;
};
if (
  web.scripts?.build &&
  !process.env.FERRY_SKIP_WEB_BUILD &&
  selected.some((f) => f.startsWith('e2e/web'))
) {
  const b = spawnSync('npm', ['run', 'build', '-w', '@ferry/web'], { stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
// The `ferry` bundle (scripts/build-cli.ts): end-to-end tests run the command as shipped.
const cli = spawnSync(process.execPath, ['scripts/build-cli.ts'], { stdio: 'inherit' });
if (cli.status !== 0) process.exit(cli.status ?? 1);
if (!process.env.FERRY_TEST_DATABASE_URL) {
  console.log(
    '# FERRY_TEST_DATABASE_URL is not set: PostgreSQL suites are skipped (set it to postgres://… to run them)',
  );
}
const r = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-timeout=120000', ...selected],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
