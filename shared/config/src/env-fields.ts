import { z } from 'zod';
import { KEY_PREFIX_PATTERN, parseRedisTarget } from '@holdfast/protocol';

/**
 * Field types the services' environment schemas share, so one variable means and validates
 * the same everywhere (REDIS_URL on the edge is REDIS_URL on the worker).
 */

/** A comma-separated list; blanks dropped. */
export const csv = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);

export const positiveInt = z.coerce.number().int().positive();
export const nonNegativeInt = z.coerce.number().int().min(0);
export const port = z.coerce.number().int().min(0).max(65535);
export const booleanFlag = z.enum(['true', 'false']).transform((value) => value === 'true');

/**
 * Where Redis is: `redis://` / `rediss://` for one server, `redis+cluster://host:port,host:port`
 * (or `rediss+cluster://`) for a Redis Cluster (see @holdfast/protocol's redis-target.ts).
 */
export const redisUrl = z
  .string()
  .superRefine((value, ctx) => {
    try {
      parseRedisTarget(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
    }
  })
  .default('redis://127.0.0.1:6379');

/** Prefix of every Redis key; all services of one deployment must use the same. */
export const keyPrefix = z
  .string()
  .regex(KEY_PREFIX_PATTERN, 'must be 1-32 characters of A-Z a-z 0-9 _ . -')
  .default('hf');

/** Replicas that must confirm each write, and how long to wait for them (`WAIT`). */
export interface ReplicationWaitSetting {
  replicas: number;
  timeoutMs: number;
}

/**
 * `HOLDFAST_REPLICATION_WAIT`: `off`, or `<replicas>:<timeoutMs>` (e.g. `1:500`): creates,
 * appends and completions are acknowledged only once that many replicas confirmed them, and
 * fail with `replication_timeout` after the timeout (docs/deploy.md, "Synchronous replication").
 */
export const replicationWait = z
  .string()
  .default('off')
  .transform((text, ctx): ReplicationWaitSetting | undefined => {
    const value = text.trim();
    if (value === 'off') return undefined;
    const match = /^(\d{1,4}):(\d{1,9})$/.exec(value);
    const replicas = Number(match?.[1]);
    const timeoutMs = Number(match?.[2]);
    if (match && replicas >= 1 && timeoutMs >= 1) return { replicas, timeoutMs };
    ctx.addIssue({
      code: 'custom',
      message: `must be "off" or "<replicas>:<timeoutMs>", both at least 1 (e.g. "1:500"), got ${JSON.stringify(text)}`,
    });
    return z.NEVER;
  });

/**
 * The session log settings every process of a deployment shares: the key layout (the partition
 * count, stored in Redis by the first process and checked by every other, and what to do with
 * sessions of the previous layout at the first start of this one) and the replication wait,
 * which every writer (API, edges, workers) must apply for the deployment's promise to hold.
 */
export const sharedLogFields = {
  HOLDFAST_PARTITIONS: z.coerce.number().int().min(1).max(16_384).default(256),
  HOLDFAST_OLD_LAYOUT: z.enum(['refuse', 'abandon']).default('refuse'),
  HOLDFAST_REPLICATION_WAIT: replicationWait,
};

/** The session log options `sharedLogFields` set. */
export interface SharedLogConfig {
  partitions: number;
  oldLayout: 'refuse' | 'abandon';
  /** Absent when off. */
  replicationWait?: ReplicationWaitSetting;
}

export function sharedLogConfig(e: {
  HOLDFAST_PARTITIONS: number;
  HOLDFAST_OLD_LAYOUT: 'refuse' | 'abandon';
  HOLDFAST_REPLICATION_WAIT: ReplicationWaitSetting | undefined;
}): SharedLogConfig {
  const wait = e.HOLDFAST_REPLICATION_WAIT;
  return {
    partitions: e.HOLDFAST_PARTITIONS,
    oldLayout: e.HOLDFAST_OLD_LAYOUT,
    ...(wait ? { replicationWait: wait } : {}),
  };
}

/**
 * Inbound queues (@holdfast/inbound-queue, inbox-run-job.ts): how many BullMQ queues the inbox
 * runs are spread over, by session. The edges submit to them and the workers take from them,
 * so every edge and worker of a deployment needs the same count (a worker's inbox sweep moves
 * an inbox run it cannot see to a queue it takes from, so a mismatch during a rollout heals).
 */
export const inboundQueuesField = {
  HOLDFAST_INBOUND_QUEUES: z.coerce.number().int().min(1).max(256).default(1),
};

/**
 * The Redis liveness probe (see the session log's redis-link-probe.ts): a PING every interval,
 * each with this deadline; two misses in a row declare the link dead.
 */
export const redisProbeFields = {
  REDIS_PROBE_INTERVAL_MS: positiveInt.default(1000),
  REDIS_PROBE_TIMEOUT_MS: positiveInt.default(2000),
};
