import { z } from 'zod';
import {
  csv,
  sharedLogConfig,
  sharedLogFields,
  keyPrefix,
  type SharedLogConfig,
  logLevelField,
  parseEnv,
  port,
  positiveInt,
  redisProbeFields,
  redisUrl,
} from '@holdfast/config';
import { MIN_HS256_SECRET_BYTES, createTokenIssuer, type IssuerConfig } from '@holdfast/auth';

/**
 * The API's configuration, read from environment variables and validated once at start-up:
 * a bad value stops the process with a message naming the variable.
 */
/** API keys shorter than this are refused: they would be guessable. */
export const MIN_API_KEY_LENGTH = 16;

export const apiEnvSchema = z
  .object({
    PORT: port.default(8081),
    HOST: z.string().default('0.0.0.0'),
    REDIS_URL: redisUrl,
    HOLDFAST_KEY_PREFIX: keyPrefix,
    ...sharedLogFields,
    ...redisProbeFields,
    /**
     * A Redis command (or, while Redis is unreachable, the wait for it) that takes longer fails
     * the request with 503 `timeout` / `redis_unavailable`.
     */
    REDIS_COMMAND_TIMEOUT_MS: positiveInt.default(5000),
    /**
     * How long a completed session stays readable (so a client that was away when it completed
     * still gets the end), unless the session set its own at create or completion.
     */
    COMPLETED_RETENTION_MS: positiveInt.default(24 * 60 * 60 * 1000),
    /** Bearer keys accepted on /v1 routes (comma-separated: all valid, so keys can be rotated). */
    API_KEYS: csv
      .refine((keys) => keys.length > 0, 'set at least one API key (comma-separated)')
      .refine(
        (keys) => keys.every((key) => key.length >= MIN_API_KEY_LENGTH),
        `every API key must be at least ${MIN_API_KEY_LENGTH} characters (e.g. \`openssl rand -base64 32\`)`,
      ),
    /** Largest request body; a single message is still bounded by the session log (256 KiB). */
    API_MAX_BODY_BYTES: positiveInt.default(1024 * 1024),
    /** HS256 secrets, comma-separated: the first signs (the edges verify with all of theirs). */
    TOKEN_HS256_SECRETS: csv
      .refine(
        (secrets) => secrets.every((s) => Buffer.byteLength(s, 'utf8') >= MIN_HS256_SECRET_BYTES),
        `every secret must be at least ${MIN_HS256_SECRET_BYTES} bytes (e.g. \`openssl rand -base64 32\`)`,
      )
      .optional(),
    /** PKCS#8 PEM private key for RS256/ES256/EdDSA tokens (with TOKEN_PRIVATE_KEY_ALG). */
    TOKEN_PRIVATE_KEY: z.string().optional(),
    TOKEN_PRIVATE_KEY_ALG: z.enum(['RS256', 'ES256', 'EdDSA']).optional(),
    TOKEN_AUDIENCE: z.string().min(1).default('holdfast'),
    TOKEN_ISSUER: z.string().min(1).optional(),
    ...logLevelField,
    /** SIGTERM to exit: requests still running then are cut off. */
    SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),
  })
  .refine((env) => Boolean(env.TOKEN_HS256_SECRETS?.length) !== Boolean(env.TOKEN_PRIVATE_KEY), {
    message:
      'set exactly one of TOKEN_HS256_SECRETS or TOKEN_PRIVATE_KEY (with TOKEN_PRIVATE_KEY_ALG) so tokens can be signed',
    path: ['TOKEN_HS256_SECRETS'],
  })
  .refine((env) => !env.TOKEN_PRIVATE_KEY || env.TOKEN_PRIVATE_KEY_ALG, {
    message: 'TOKEN_PRIVATE_KEY needs TOKEN_PRIVATE_KEY_ALG (RS256, ES256 or EdDSA)',
    path: ['TOKEN_PRIVATE_KEY_ALG'],
  });

export type ApiEnv = z.infer<typeof apiEnvSchema>;

export type LogLevel = ApiEnv['LOG_LEVEL'];

export interface ApiConfig {
  /** 0 picks a free port (see `ApiServer.port`). */
  port: number;
  host: string;
  redisUrl: string;
  keyPrefix: string;
  /** The session log settings every process shares (HOLDFAST_PARTITIONS, HOLDFAST_OLD_LAYOUT, HOLDFAST_REPLICATION_WAIT). */
  sharedLog: SharedLogConfig;
  redisCommandTimeoutMs: number;
  /** Default completed retention of sessions completed through this API. */
  completedRetentionMs?: number;
  redisProbe: { intervalMs: number; timeoutMs: number };
  apiKeys: string[];
  maxBodyBytes: number;
  token: IssuerConfig;
  logLevel: LogLevel;
  shutdownTimeoutMs: number;
}

/** Parse the environment; throws one Error listing every bad variable by name. */
export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const e = parseEnv(apiEnvSchema, env, 'api');
  const claims = { audience: e.TOKEN_AUDIENCE, ...(e.TOKEN_ISSUER ? { issuer: e.TOKEN_ISSUER } : {}) };
  const firstSecret = e.TOKEN_HS256_SECRETS?.[0];
  const token: IssuerConfig =
    firstSecret !== undefined
      ? { algorithm: 'HS256', secret: firstSecret, ...claims }
      : {
          algorithm: e.TOKEN_PRIVATE_KEY_ALG ?? 'RS256',
          privateKey: (e.TOKEN_PRIVATE_KEY ?? '').replace(/\\n/g, '\n'),
          ...claims,
        };
  try {
    // A key that does not fit its algorithm fails now, naming the variable, not at the first request.
    createTokenIssuer(token);
  } catch (error) {
    const variable = token.algorithm === 'HS256' ? 'TOKEN_HS256_SECRETS' : 'TOKEN_PRIVATE_KEY';
    throw new Error(`invalid api configuration:\n  ${variable}: ${(error as Error).message}`);
  }
  return {
    port: e.PORT,
    host: e.HOST,
    redisUrl: e.REDIS_URL,
    keyPrefix: e.HOLDFAST_KEY_PREFIX,
    sharedLog: sharedLogConfig(e),
    redisCommandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
    completedRetentionMs: e.COMPLETED_RETENTION_MS,
    redisProbe: { intervalMs: e.REDIS_PROBE_INTERVAL_MS, timeoutMs: e.REDIS_PROBE_TIMEOUT_MS },
    apiKeys: e.API_KEYS,
    maxBodyBytes: e.API_MAX_BODY_BYTES,
    token,
    logLevel: e.LOG_LEVEL,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
  };
}
