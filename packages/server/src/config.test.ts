// Configuration: defaults, environment, flags over environment, and errors that name the setting.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, DEFAULTS, loadConfig } from './config.ts';

test('defaults apply when nothing is set; flags win over the environment', () => {
  const c = loadConfig({}, {});
  assert.equal(c.port, DEFAULTS.port);
  assert.equal(c.host, DEFAULTS.host);
  assert.equal(c.jwtSecret, undefined);
  assert.equal(loadConfig({ port: 9000 }, { FERRY_PORT: '9100' }).port, 9000);
  assert.equal(loadConfig({}, { FERRY_PORT: '9100' }).port, 9100);
});

test('a bad setting is refused with its name', () => {
  const bad: [Record<string, string>, string][] = [
    [{ FERRY_PORT: '70000' }, 'FERRY_PORT'],
    [{ FERRY_LOG_LEVEL: 'loud' }, 'FERRY_LOG_LEVEL'],
    [{ FERRY_JWT_SECRET: 'too-short' }, 'FERRY_JWT_SECRET'],
    [{ FERRY_ADMIN_PASSWORD: 'short' }, 'FERRY_ADMIN_PASSWORD'],
    [{ FERRY_OPEN_REGISTRATION: 'maybe' }, 'FERRY_OPEN_REGISTRATION'],
    [{ FERRY_GARMIN_FOLDER: 'relative/path' }, 'FERRY_GARMIN_FOLDER'],
    [{ FERRY_DATABASE_URL: 'mysql://x' }, 'FERRY_DATABASE_URL'],
  ];
  for (const [env, setting] of bad)
    assert.throws(
      () => loadConfig({}, env),
      (e: unknown) => e instanceof ConfigError && e.message.includes(setting),
      setting,
    );
  assert.equal(loadConfig({}, { FERRY_JWT_SECRET: 'x'.repeat(32) }).jwtSecret, 'x'.repeat(32));
});
