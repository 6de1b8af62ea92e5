import type { RedisOptions } from 'ioredis';
import type { Registry } from 'prom-client';
import { ErrorCode, HoldfastError, validateIntegerOption } from '@holdfast/protocol';
import type { AppendTraceObserver } from './append-trace.js';
import { DEFAULT_PARTITIONS, KEY_PREFIX_PATTERN, MAX_PARTITIONS } from './keys.js';
import {
  DEFAULT_LINK_PROBE,
  type LinkProbeOptions,
  type ResolvedLinkProbeOptions,
} from './redis-link-probe.js';
import { resolveReplicationWait, type ReplicationWait } from './replication-wait.js';

/** How much of a session's log is kept. 0 means no limit of that kind. */
export interface Retention {
  /**
   * Most messages kept per session; older ones are trimmed on append.
   * @default 100_000
   */
  maxMessages: number;
  /**
   * Messages older than this are trimmed on append (checked at most once a second per
   * session) and by the workers' retention sweep (`enforceRetention`); an idle session
   * expires whole.
   * @default 86_400_000 (24 hours)
   */
  maxAgeMs: number;
}

export interface GroupCommitOptions {
  /**
   * Most messages one script call carries. Larger groups from one session are split across
   * calls of the same flush, still in order.
   * @default 256
   */
  maxMessagesPerCall: number;
  /** @default 1_048_576 (1 MiB) */
  maxBytesPerCall: number;
  /**
   * Flushes (one write of script calls across sessions) in flight at once. While they are,
   * new appends accumulate and go out together in the next flush: the busier Redis is, the
   * larger the batches.
   * @default 1
   */
  maxInFlight: number;
}

export interface SessionLogOptions {
  /**
   * A `redis://` URL, a `redis+cluster://host:port,host:port` URL (Redis Cluster), or ioredis
   * options for one server. The log opens its own connection with them.
   */
  redis: string | RedisOptions;
  /**
   * Prefix of every key (`<prefix>:{p<partition>}:s:<sessionId>:…`, keys.ts).
   * @default 'hf'
   */
  keyPrefix?: string;
  /**
   * Partitions the sessions are spread over (keys.ts): one script call carries many sessions
   * of one partition. Fixed for the life of a deployment: the first process stores it in
   * Redis (`<prefix>:layout`) and every later one refuses to start with another count.
   * 1 to 16,384.
   * @default 256
   */
  partitions?: number;
  /**
   * What to do at start when Redis holds sessions of the previous key layout
   * (`<prefix>:{<id>}:meta`, before version 2): 'refuse' to start, or 'abandon' them (they are
   * no longer found and expire on their own idle TTL). See docs/deploy.md, "Upgrading".
   * @default 'refuse'
   */
  oldLayout?: OldLayoutPolicy;
  /** Retention of sessions created without their own; fixed per session at creation. */
  retention?: Partial<Retention>;
  /**
   * A session with no append, ack or connection for this long is deleted with all its keys
   * (between this and a second more: appends and acks refresh the expiry at most once a
   * second, by this plus that second). 0 disables idle expiry.
   * @default 86_400_000 (24 hours)
   */
  idleTtlMs?: number;
  /**
   * How long an ended session's tombstone remains, so late appends fail as `session_ended`
   * instead of finding nothing.
   * @default 604_800_000 (7 days)
   */
  tombstoneTtlMs?: number;
  /**
   * How long a completed session stays readable after its completion (then it expires as an
   * idle session does, leaving its tombstone). Sessions may set their own at create or at
   * completion. Activity after completion does not extend it.
   * @default 86_400_000 (24 hours)
   */
  completedRetentionMs?: number;
  /**
   * An append repeating a message id seen this recently returns the original offset and
   * writes nothing (ids are remembered between one and two windows).
   * @default 300_000 (5 minutes)
   */
  dedupeWindowMs?: number;
  /**
   * An inbound message whose id was accepted this recently is acknowledged again and not
   * enqueued twice (ids are remembered between one and two windows).
   * @default 86_400_000 (24 hours)
   */
  inboundDedupeWindowMs?: number;
  /**
   * Most new inbound messages per second per session, across all edges; more are refused with
   * `rate_limited` and a retry hint. 0 = no limit.
   * @default 50
   */
  inboundRatePerSession?: number;
  /**
   * Largest message, as UTF-8 JSON. Kept below every transport limit, so an oversize message
   * is refused with `payload_too_large` before any socket would be closed for it.
   * @default 262_144 (256 KiB)
   */
  maxPayloadBytes?: number;
  /**
   * Most messages in one `appendBatch`.
   * @default 1000
   */
  maxBatchMessages?: number;
  /**
   * A Redis command unanswered for this long fails with `timeout` (it may still be applied:
   * retry appends with the same message id).
   * @default 5000
   */
  commandTimeoutMs?: number;
  /**
   * On a Redis Cluster, how long a script call refused with TRYAGAIN (its slot is being
   * migrated, e.g. by `redis-cli --cluster reshard`) is retried before failing with the
   * retryable `redis_unavailable` (slot-migration-retry.ts).
   * @default 10_000
   */
  slotMigrationRetryMs?: number;
  groupCommit?: Partial<GroupCommitOptions>;
  /**
   * Synchronous replication (replication-wait.ts): create, append and complete are acknowledged
   * only once this many replicas confirmed them (`WAIT`, one per group-committed flush and
   * Redis node), or fail with `replication_timeout` after `timeoutMs`. At start the log refuses
   * to run when a master has fewer replicas connected. Unset: acknowledged when the master has
   * it (replication asynchronous, so a failover can lose the latest writes: signalled by a new
   * epoch, never silent).
   * @default undefined (off)
   */
  replicationWait?: ReplicationWait;
  /**
   * How often to re-read whether Redis runs with appendfsync always and no replicas.
   * @default 10_000
   */
  durabilityCheckIntervalMs?: number;
  /** Liveness probe of the Redis connection (see redis-link-probe.ts). */
  linkProbe?: LinkProbeOptions;
  /**
   * Called with the per-stage timing of every successful append (append-trace.ts), for
   * latency probes and benchmarks. Off by default, and free when off.
   * @default undefined
   */
  appendTrace?: AppendTraceObserver;
  /**
   * Where the session log's metrics are registered: Redis script calls (time by script and
   * outcome) and the group commit's batch size and flush time. None when unset.
   * @default undefined
   */
  metricsRegistry?: Registry;
}

export type OldLayoutPolicy = 'refuse' | 'abandon';

export type ResolvedSessionLogOptions = Required<
  Omit<
    SessionLogOptions,
    'retention' | 'groupCommit' | 'linkProbe' | 'appendTrace' | 'metricsRegistry' | 'replicationWait'
  >
> & {
  replicationWait: ReplicationWait | undefined;
  appendTrace: AppendTraceObserver | undefined;
  metricsRegistry: Registry | undefined;
  retention: Retention;
  groupCommit: GroupCommitOptions;
  linkProbe: ResolvedLinkProbeOptions;
};

export const DEFAULT_RETENTION: Retention = { maxMessages: 100_000, maxAgeMs: 24 * 60 * 60 * 1000 };

/** An integer option of at least `min` (0 unless given); InvalidOptions naming it otherwise. */
function nonNegativeInteger(name: string, value: number, min = 0): number {
  return validateIntegerOption(name, value, { min });
}

export function resolveRetention(
  name: string,
  retention: Partial<Retention> | undefined,
  base: Retention,
): Retention {
  return {
    maxMessages: nonNegativeInteger(`${name}.maxMessages`, retention?.maxMessages ?? base.maxMessages),
    maxAgeMs: nonNegativeInteger(`${name}.maxAgeMs`, retention?.maxAgeMs ?? base.maxAgeMs),
  };
}

export function resolveOptions(options: SessionLogOptions): ResolvedSessionLogOptions {
  const keyPrefix = options.keyPrefix ?? 'hf';
  if (!KEY_PREFIX_PATTERN.test(keyPrefix)) {
    throw new HoldfastError(
      ErrorCode.InvalidOptions,
      `keyPrefix must be 1-32 characters of A-Z a-z 0-9 _ . -, got ${JSON.stringify(keyPrefix)}`,
    );
  }
  const groupCommit = options.groupCommit ?? {};
  const oldLayout = options.oldLayout ?? 'refuse';
  if (oldLayout !== 'refuse' && oldLayout !== 'abandon') {
    throw new HoldfastError(
      ErrorCode.InvalidOptions,
      `oldLayout must be 'refuse' or 'abandon', got ${JSON.stringify(oldLayout)}`,
    );
  }
  const commandTimeoutMs = nonNegativeInteger('commandTimeoutMs', options.commandTimeoutMs ?? 5000, 1);
  return {
    metricsRegistry: options.metricsRegistry,
    replicationWait: resolveReplicationWait(options.replicationWait, commandTimeoutMs),
    redis: options.redis,
    keyPrefix,
    partitions: validateIntegerOption('partitions', options.partitions ?? DEFAULT_PARTITIONS, {
      min: 1,
      max: MAX_PARTITIONS,
    }),
    oldLayout,
    retention: resolveRetention('retention', options.retention, DEFAULT_RETENTION),
    idleTtlMs: nonNegativeInteger('idleTtlMs', options.idleTtlMs ?? 24 * 60 * 60 * 1000),
    tombstoneTtlMs: nonNegativeInteger(
      'tombstoneTtlMs',
      options.tombstoneTtlMs ?? 7 * 24 * 60 * 60 * 1000,
      1,
    ),
    completedRetentionMs: nonNegativeInteger(
      'completedRetentionMs',
      options.completedRetentionMs ?? 24 * 60 * 60 * 1000,
      1,
    ),
    dedupeWindowMs: nonNegativeInteger('dedupeWindowMs', options.dedupeWindowMs ?? 5 * 60 * 1000, 1),
    inboundRatePerSession: nonNegativeInteger('inboundRatePerSession', options.inboundRatePerSession ?? 50),
    inboundDedupeWindowMs: nonNegativeInteger(
      'inboundDedupeWindowMs',
      options.inboundDedupeWindowMs ?? 24 * 60 * 60 * 1000,
      1,
    ),
    maxPayloadBytes: nonNegativeInteger('maxPayloadBytes', options.maxPayloadBytes ?? 256 * 1024, 1),
    maxBatchMessages: nonNegativeInteger('maxBatchMessages', options.maxBatchMessages ?? 1000, 1),
    commandTimeoutMs,
    slotMigrationRetryMs: nonNegativeInteger('slotMigrationRetryMs', options.slotMigrationRetryMs ?? 10_000),
    durabilityCheckIntervalMs: nonNegativeInteger(
      'durabilityCheckIntervalMs',
      options.durabilityCheckIntervalMs ?? 10_000,
      1,
    ),
    linkProbe: {
      intervalMs: nonNegativeInteger(
        'linkProbe.intervalMs',
        options.linkProbe?.intervalMs ?? DEFAULT_LINK_PROBE.intervalMs,
        1,
      ),
      timeoutMs: nonNegativeInteger(
        'linkProbe.timeoutMs',
        options.linkProbe?.timeoutMs ?? DEFAULT_LINK_PROBE.timeoutMs,
        1,
      ),
      misses: nonNegativeInteger(
        'linkProbe.misses',
        options.linkProbe?.misses ?? DEFAULT_LINK_PROBE.misses,
        1,
      ),
    },
    appendTrace: options.appendTrace,
    groupCommit: {
      maxMessagesPerCall: nonNegativeInteger(
        'groupCommit.maxMessagesPerCall',
        groupCommit.maxMessagesPerCall ?? 256,
        1,
      ),
      maxBytesPerCall: nonNegativeInteger(
        'groupCommit.maxBytesPerCall',
        groupCommit.maxBytesPerCall ?? 1024 * 1024,
        1,
      ),
      maxInFlight: nonNegativeInteger('groupCommit.maxInFlight', groupCommit.maxInFlight ?? 1, 1),
    },
  };
}

/** A per-session completed retention, validated; '' lets the script fall back to the default. */
export function optionalRetentionMs(value: number | undefined): number | '' {
  if (value === undefined) return '';
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new HoldfastError(
      ErrorCode.InvalidOptions,
      `completedRetentionMs must be an integer >= 1 (ms the completed session stays readable), got ${String(value)}`,
    );
  }
  return value;
}
