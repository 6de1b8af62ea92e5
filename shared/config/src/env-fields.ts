import { z } from 'zod';
import { KEY_PREFIX_PATTERN } from '@holdfast/protocol';

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

export const redisUrl = z.string().url().default('redis://127.0.0.1:6379');

/** Prefix of every Redis key; all services of one deployment must use the same. */
export const keyPrefix = z
  .string()
  .regex(KEY_PREFIX_PATTERN, 'must be 1-32 characters of A-Z a-z 0-9 _ . -')
  .default('hf');

/**
 * The session log's key layout (shared/session-log/src/keys.ts): the partition count, the same
 * in every process of a deployment (stored in Redis by the first, checked by every other), and
 * what to do with sessions of the previous layout at the first start of this one.
 */
export const keyLayoutFields = {
  HOLDFAST_PARTITIONS: z.coerce.number().int().min(1).max(16_384).default(256),
  HOLDFAST_OLD_LAYOUT: z.enum(['refuse', 'abandon']).default('refuse'),
};

/** The session log options `keyLayoutFields` set. */
export interface KeyLayoutConfig {
  partitions: number;
  oldLayout: 'refuse' | 'abandon';
}

export function keyLayoutConfig(e: {
  HOLDFAST_PARTITIONS: number;
  HOLDFAST_OLD_LAYOUT: 'refuse' | 'abandon';
}): KeyLayoutConfig {
  return { partitions: e.HOLDFAST_PARTITIONS, oldLayout: e.HOLDFAST_OLD_LAYOUT };
}

/**
 * The Redis liveness probe (see the session log's redis-link-probe.ts): a PING every interval,
 * each with this deadline; two misses in a row declare the link dead.
 */
export const redisProbeFields = {
  REDIS_PROBE_INTERVAL_MS: positiveInt.default(1000),
  REDIS_PROBE_TIMEOUT_MS: positiveInt.default(2000),
};
