import { z } from 'zod';
import {
  sharedLogConfig,
  sharedLogFields,
  inboundQueuesField,
  keyPrefix,
  type SharedLogConfig,
  logLevelField,
  nonNegativeInt,
  parseEnv,
  port,
  positiveInt,
  redisProbeFields,
  redisUrl,
  type LogLevel,
} from '@holdfast/config';

/**
 * The worker's configuration, read from environment variables and validated once at start-up:
 * a bad value stops the process with a message naming the variable.
 */
export const workerEnvSchema = z.object({
  REDIS_URL: redisUrl,
  HOLDFAST_KEY_PREFIX: keyPrefix,
  ...sharedLogFields,
  ...inboundQueuesField,
  ...redisProbeFields,
  /** Inbox runs (sessions) handled at once by this process. */
  WORKER_CONCURRENCY: positiveInt.max(10_000).default(16),
  /** Path (or package name) of a module whose default export is the handler. */
  HANDLER_MODULE: z.string().min(1).optional(),
  MAX_ATTEMPTS: positiveInt.max(100).default(3),
  RETRY_BASE_MS: nonNegativeInt.default(1_000),
  RETRY_MAX_MS: nonNegativeInt.default(30_000),
  /** SIGTERM: running messages get this long to finish before their handlers are aborted. */
  SHUTDOWN_TIMEOUT_MS: nonNegativeInt.default(20_000),
  /** BullMQ job lock and stalled check: how soon the inbox runs of a dead worker resume. */
  LOCK_DURATION_MS: z.coerce.number().int().min(100).default(15_000),
  STALLED_INTERVAL_MS: z.coerce.number().int().min(100).default(5_000),
  DEAD_LETTER_RETENTION_MS: positiveInt.default(7 * 24 * 60 * 60 * 1000),
  /** How often inboxes whose inbox run job was lost are looked for and re-submitted (0: never). */
  INBOX_SWEEP_EVERY_MS: nonNegativeInt.default(60_000),
  /** Serve Prometheus metrics at http://METRICS_HOST:<this>/metrics (unset: no listener; 0: any free port). */
  METRICS_PORT: port.optional(),
  METRICS_HOST: z.string().default('0.0.0.0'),
  ...logLevelField,
});

export interface WorkerConfig {
  redisUrl: string;
  keyPrefix: string;
  /** The session log settings every process shares (HOLDFAST_PARTITIONS, HOLDFAST_OLD_LAYOUT, HOLDFAST_REPLICATION_WAIT). */
  sharedLog: SharedLogConfig;
  /** Inbound queues this worker takes inbox runs from (HOLDFAST_INBOUND_QUEUES; as the edges'). */
  inboundQueues: number;
  redisProbe: { intervalMs: number; timeoutMs: number };
  concurrency: number;
  handlerModule: string | undefined;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  shutdownTimeoutMs: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  deadLetterRetentionMs: number;
  inboxSweepEveryMs: number;
  metrics: { port: number; host: string } | undefined;
  logLevel: LogLevel;
}

/** Parse the environment; throws one Error listing every bad variable by name. */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const e = parseEnv(workerEnvSchema, env, 'worker');
  return {
    redisUrl: e.REDIS_URL,
    keyPrefix: e.HOLDFAST_KEY_PREFIX,
    sharedLog: sharedLogConfig(e),
    inboundQueues: e.HOLDFAST_INBOUND_QUEUES,
    redisProbe: { intervalMs: e.REDIS_PROBE_INTERVAL_MS, timeoutMs: e.REDIS_PROBE_TIMEOUT_MS },
    concurrency: e.WORKER_CONCURRENCY,
    handlerModule: e.HANDLER_MODULE,
    maxAttempts: e.MAX_ATTEMPTS,
    retryBaseMs: e.RETRY_BASE_MS,
    retryMaxMs: e.RETRY_MAX_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    lockDurationMs: e.LOCK_DURATION_MS,
    stalledIntervalMs: e.STALLED_INTERVAL_MS,
    deadLetterRetentionMs: e.DEAD_LETTER_RETENTION_MS,
    inboxSweepEveryMs: e.INBOX_SWEEP_EVERY_MS,
    metrics: e.METRICS_PORT === undefined ? undefined : { port: e.METRICS_PORT, host: e.METRICS_HOST },
    logLevel: e.LOG_LEVEL,
  };
}
