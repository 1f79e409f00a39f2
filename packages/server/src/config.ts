// The server's one typed options object: every field documented, defaults exported, validated at
// start-up with an error that names the bad setting. Read from flags, then FERRY_* env, then defaults.

import { isAbsolute, join, resolve } from 'node:path';

export interface ServerConfig {
  /** Interface to listen on. FERRY_HOST. */
  host: string;
  /** TCP port; 0 picks a free one. FERRY_PORT. */
  port: number;
  /** Where the database, chunks and the signing secret live. FERRY_DATA_DIR. */
  dataDir: string;
  /** `postgres://…` for distributed mode, else a SQLite file (default DATA/ferry.db). FERRY_DATABASE_URL. */
  databaseUrl: string;
  /** Admin account created on first start. FERRY_ADMIN_USER. */
  adminUser: string;
  /** Its password; generated and printed once when unset. FERRY_ADMIN_PASSWORD. */
  adminPassword: string | undefined;
  /** Anyone may register when true; else only admins. FERRY_OPEN_REGISTRATION=1. */
  openRegistration: boolean;
  /** Access token lifetime in seconds. FERRY_ACCESS_TOKEN_TTL. */
  accessTokenTtl: number;
  /** Refresh token lifetime in seconds. FERRY_REFRESH_TOKEN_TTL. */
  refreshTokenTtl: number;
  /** Largest single upload in bytes. FERRY_MAX_UPLOAD_BYTES. */
  maxUploadBytes: number;
  /** Default quota for new users in bytes; 0 = unlimited. FERRY_DEFAULT_QUOTA_BYTES. */
  defaultQuotaBytes: number;
  /** Log level: fatal, error, warn, info, debug, trace, silent. FERRY_LOG_LEVEL. */
  logLevel: string;
  /** Failed logins allowed per account per 15 minutes. FERRY_LOGIN_MAX_FAILURES. */
  loginMaxFailures: number;
  /** Trust X-Forwarded-* from a reverse proxy. FERRY_TRUST_PROXY=1. */
  trustProxy: boolean;
  /** Sync events older than this many days are pruned; 0 keeps them. FERRY_SYNC_EVENT_RETENTION_DAYS. */
  syncEventRetentionDays: number;
  /**
   * Bytes of queued sync events (packed: 69 bytes each plus error messages) held in memory before
   * ingest answers 503 + Retry-After. FERRY_TELEMETRY_QUEUE_BYTES.
   */
  telemetryQueueBytes: number;
  /** Folder of the owner's default space that watch uploads go to. FERRY_GARMIN_FOLDER. */
  garminFolder: string;
  /**
   * Seconds a scrape of the storage gauges (`ferry_stored_bytes`, `ferry_chunks`) is reused: each
   * computation scans the files and chunks tables. FERRY_METRICS_STORAGE_TTL.
   */
  metricsStorageTtl: number;
  /**
   * Token signing secret shared by every instance behind a load balancer (≥ 32 characters);
   * unset: generated on first start into DATA/jwt-secret (mode 0600). FERRY_JWT_SECRET.
   */
  jwtSecret?: string;
  /** Where the JSON log goes instead of stdout (programmatic only: tests capture the log with it). */
  logStream?: { write(line: string): void };
}

export const DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 8090,
  dataDir: './data',
  adminUser: 'admin',
  openRegistration: false,
  accessTokenTtl: 15 * 60,
  refreshTokenTtl: 30 * 24 * 3600,
  maxUploadBytes: 16 * 1024 ** 3,
  defaultQuotaBytes: 0,
  logLevel: 'info',
  loginMaxFailures: 10,
  trustProxy: false,
  syncEventRetentionDays: 90,
  telemetryQueueBytes: 4 * 1024 ** 2,
  garminFolder: '/Garmin/Activities',
  metricsStorageTtl: 30,
});

/** What `--help` and the README list, one row per setting. */
export const CONFIG_DOCS: { env: string; flag?: string; default: string; doc: string }[] = [
  {
    env: 'FERRY_HOST',
    flag: '--host',
    default: DEFAULTS.host,
    doc: 'Interface to listen on (0.0.0.0 for all)',
  },
  { env: 'FERRY_PORT', flag: '--port', default: String(DEFAULTS.port), doc: 'TCP port (0 picks a free one)' },
  { env: 'FERRY_DATA_DIR', flag: '--data', default: DEFAULTS.dataDir, doc: 'Database, chunks and secrets' },
  {
    env: 'FERRY_DATABASE_URL',
    default: 'DATA/ferry.db',
    doc: 'postgres://… for distributed mode, else a SQLite file',
  },
  { env: 'FERRY_ADMIN_USER', default: DEFAULTS.adminUser, doc: 'Admin account created on first start' },
  { env: 'FERRY_ADMIN_PASSWORD', default: '(generated, printed once)', doc: "The admin's first password" },
  { env: 'FERRY_OPEN_REGISTRATION', default: '0', doc: '1 lets anyone register; else only admins' },
  {
    env: 'FERRY_ACCESS_TOKEN_TTL',
    default: String(DEFAULTS.accessTokenTtl),
    doc: 'Access token lifetime, seconds',
  },
  {
    env: 'FERRY_REFRESH_TOKEN_TTL',
    default: String(DEFAULTS.refreshTokenTtl),
    doc: 'Refresh token lifetime, seconds',
  },
  { env: 'FERRY_MAX_UPLOAD_BYTES', default: String(DEFAULTS.maxUploadBytes), doc: 'Largest single upload' },
  { env: 'FERRY_DEFAULT_QUOTA_BYTES', default: '0', doc: 'Quota of new users in bytes (0 = unlimited)' },
  {
    env: 'FERRY_LOGIN_MAX_FAILURES',
    default: String(DEFAULTS.loginMaxFailures),
    doc: 'Failed logins per account per 15 min',
  },
  { env: 'FERRY_LOG_LEVEL', default: DEFAULTS.logLevel, doc: 'fatal|error|warn|info|debug|trace|silent' },
  { env: 'FERRY_TRUST_PROXY', default: '0', doc: '1 trusts X-Forwarded-* from a reverse proxy' },
  {
    env: 'FERRY_SYNC_EVENT_RETENTION_DAYS',
    default: String(DEFAULTS.syncEventRetentionDays),
    doc: 'Prune sync events older than this (0 = keep)',
  },
  {
    env: 'FERRY_TELEMETRY_QUEUE_BYTES',
    default: String(DEFAULTS.telemetryQueueBytes),
    doc: 'Bytes of sync events queued in memory before 503 (69 bytes an event, ~60,000 by default)',
  },
  {
    env: 'FERRY_METRICS_STORAGE_TTL',
    default: String(DEFAULTS.metricsStorageTtl),
    doc: 'Seconds the storage gauges of /metrics are reused (each scans the files and chunks)',
  },
  {
    env: 'FERRY_JWT_SECRET',
    default: '(generated into DATA/jwt-secret)',
    doc: 'Token signing secret, ≥ 32 chars; the same on every instance',
  },
  {
    env: 'FERRY_GARMIN_FOLDER',
    default: DEFAULTS.garminFolder,
    doc: 'Folder of the default space for watch uploads',
  },
];

export class ConfigError extends Error {
  readonly setting: string;
  constructor(setting: string, message: string) {
    super(`invalid setting ${setting}: ${message}`);
    this.setting = setting;
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function int(
  setting: string,
  raw: string | number | undefined,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (raw === undefined || raw === '') return fallback;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(setting, `expected an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

function flag(setting: string, raw: string | boolean | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  if (typeof raw === 'boolean') return raw;
  if (['1', 'true', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'no'].includes(raw)) return false;
  throw new ConfigError(setting, `expected 1 or 0, got "${raw}"`);
}

/** Builds a validated config from explicit overrides (CLI flags) over the environment. */
export function loadConfig(
  overrides: Partial<ServerConfig> = {},
  env: NodeJS.ProcessEnv = process.env,
): ServerConfig {
  const dataDir = resolve(overrides.dataDir ?? env.FERRY_DATA_DIR ?? DEFAULTS.dataDir);
  const databaseUrl = overrides.databaseUrl ?? env.FERRY_DATABASE_URL ?? join(dataDir, 'ferry.db');
  if (
    !/^postgres(ql)?:\/\//.test(databaseUrl) &&
    databaseUrl !== ':memory:' &&
    !isAbsolute(databaseUrl.replace(/^sqlite:(\/\/)?/, ''))
  ) {
    throw new ConfigError('FERRY_DATABASE_URL', 'expected postgres://… or an absolute SQLite file path');
  }
  const logLevel = overrides.logLevel ?? env.FERRY_LOG_LEVEL ?? DEFAULTS.logLevel;
  if (!LOG_LEVELS.includes(logLevel))
    throw new ConfigError('FERRY_LOG_LEVEL', `expected one of ${LOG_LEVELS.join(', ')}`);
  const adminUser = overrides.adminUser ?? env.FERRY_ADMIN_USER ?? DEFAULTS.adminUser;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(adminUser))
    throw new ConfigError('FERRY_ADMIN_USER', 'use 1-64 letters, digits, . _ -');
  const garminFolder = overrides.garminFolder ?? env.FERRY_GARMIN_FOLDER ?? DEFAULTS.garminFolder;
  if (
    !garminFolder.startsWith('/') ||
    garminFolder.length > 1000 ||
    /\p{Cc}/u.test(garminFolder) ||
    garminFolder.split('/').includes('..')
  ) {
    throw new ConfigError(
      'FERRY_GARMIN_FOLDER',
      'expected an absolute folder path such as /Garmin/Activities',
    );
  }
  const jwtSecret = overrides.jwtSecret ?? (env.FERRY_JWT_SECRET || undefined);
  if (jwtSecret !== undefined && jwtSecret.length < 32)
    throw new ConfigError('FERRY_JWT_SECRET', 'must be at least 32 characters');
  const adminPassword = overrides.adminPassword ?? env.FERRY_ADMIN_PASSWORD;
  if (adminPassword !== undefined && adminPassword.length < 8)
    throw new ConfigError('FERRY_ADMIN_PASSWORD', 'must be at least 8 characters');
  return {
    host: overrides.host ?? env.FERRY_HOST ?? DEFAULTS.host,
    port: int('FERRY_PORT (--port)', overrides.port ?? env.FERRY_PORT, DEFAULTS.port, 0, 65535),
    dataDir,
    databaseUrl,
    adminUser,
    adminPassword,
    jwtSecret,
    openRegistration: flag(
      'FERRY_OPEN_REGISTRATION',
      overrides.openRegistration ?? env.FERRY_OPEN_REGISTRATION,
      DEFAULTS.openRegistration,
    ),
    accessTokenTtl: int(
      'FERRY_ACCESS_TOKEN_TTL',
      overrides.accessTokenTtl ?? env.FERRY_ACCESS_TOKEN_TTL,
      DEFAULTS.accessTokenTtl,
      10,
    ),
    refreshTokenTtl: int(
      'FERRY_REFRESH_TOKEN_TTL',
      overrides.refreshTokenTtl ?? env.FERRY_REFRESH_TOKEN_TTL,
      DEFAULTS.refreshTokenTtl,
      60,
    ),
    maxUploadBytes: int(
      'FERRY_MAX_UPLOAD_BYTES',
      overrides.maxUploadBytes ?? env.FERRY_MAX_UPLOAD_BYTES,
      DEFAULTS.maxUploadBytes,
      1,
    ),
    defaultQuotaBytes: int(
      'FERRY_DEFAULT_QUOTA_BYTES',
      overrides.defaultQuotaBytes ?? env.FERRY_DEFAULT_QUOTA_BYTES,
      0,
      0,
    ),
    logLevel,
    loginMaxFailures: int(
      'FERRY_LOGIN_MAX_FAILURES',
      overrides.loginMaxFailures ?? env.FERRY_LOGIN_MAX_FAILURES,
      DEFAULTS.loginMaxFailures,
      1,
    ),
    trustProxy: flag('FERRY_TRUST_PROXY', overrides.trustProxy ?? env.FERRY_TRUST_PROXY, DEFAULTS.trustProxy),
    syncEventRetentionDays: int(
      'FERRY_SYNC_EVENT_RETENTION_DAYS',
      overrides.syncEventRetentionDays ?? env.FERRY_SYNC_EVENT_RETENTION_DAYS,
      DEFAULTS.syncEventRetentionDays,
      0,
      36500,
    ),
    telemetryQueueBytes: int(
      'FERRY_TELEMETRY_QUEUE_BYTES',
      overrides.telemetryQueueBytes ?? env.FERRY_TELEMETRY_QUEUE_BYTES,
      DEFAULTS.telemetryQueueBytes,
      1,
      1024 ** 3,
    ),
    garminFolder,
    metricsStorageTtl: int(
      'FERRY_METRICS_STORAGE_TTL',
      overrides.metricsStorageTtl ?? env.FERRY_METRICS_STORAGE_TTL,
      DEFAULTS.metricsStorageTtl,
      0,
      86400,
    ),
    logStream: overrides.logStream,
  };
}
