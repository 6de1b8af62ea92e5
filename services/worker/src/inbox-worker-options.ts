import type { SessionLogOptions } from '@holdfast/session-log';
import type { Handler } from './handler.js';
import type { WorkerLog } from './worker-log.js';
import type { AttemptSink } from './worker-metrics.js';

/** What `InboxWorker.start` takes; every bound is checked there. */
export interface InboxWorkerOptions {
  /**
   * The Redis holding the session logs and the inbound queue: `redis://…` for a server,
   * `redis+cluster://host:port,…` for a Redis Cluster.
   */
  redisUrl: string;
  /**
   * Prefix of every Holdfast key (BullMQ's keys use `<prefix>-bull`).
   * @default 'hf'
   */
  keyPrefix?: string;
  handler: Handler;
  /**
   * Inbox runs (sessions) handled at once by this process (one message at a time within each),
   * shared over the inbound queues: each queue's BullMQ worker gets ⌈concurrency / queues⌉.
   * @default 16
   */
  concurrency?: number;
  /**
   * Inbound queues to take inbox runs from: the same count as the edges'
   * (HOLDFAST_INBOUND_QUEUES; see @holdfast/inbound-queue's inbox-run-job.ts).
   * @default 1
   */
  inboundQueues?: number;
  /**
   * Attempts per message, however each ends (handler error, crash, shutdown); then the
   * message is dead-lettered.
   * @default 3
   */
  maxAttempts?: number;
  /**
   * Backoff before the second attempt after a handler error; doubles for each further one.
   * @default 1000
   */
  retryBaseMs?: number;
  /** @default 30_000 */
  retryMaxMs?: number;
  /**
   * On `close()`, running handlers get this long to finish their message; then their signal
   * aborts and the message is resumed, as a new attempt, by another worker.
   * @default 20_000
   */
  shutdownGraceMs?: number;
  /**
   * BullMQ job lock, renewed every half of it while the job runs. A worker that died is noticed
   * (its inbox run resumed elsewhere) about this long plus up to two stalled intervals later.
   * @default 15_000
   */
  lockDurationMs?: number;
  /** How often some worker checks for inbox runs whose lock expired. @default 5_000 */
  stalledIntervalMs?: number;
  /**
   * Dead letters older than this are deleted by the hourly maintenance job.
   * @default 604_800_000 (7 days)
   */
  deadLetterRetentionMs?: number;
  /**
   * Run the maintenance job scheduler (dead-letter cleanup) in this process.
   * @default true
   */
  maintenance?: boolean;
  /**
   * How often this process looks for inboxes holding messages whose inbox run job is gone (lost
   * with Redis data, or failed for good) and re-submits it; 0 turns the sweep off. See
   * orphaned-inbox-runs.ts.
   * @default 60_000
   */
  inboxSweepEveryMs?: number;
  /** Further options for the session log this worker opens. */
  sessionLog?: Omit<SessionLogOptions, 'redis' | 'keyPrefix'>;
  /** @default silent */
  report?: WorkerLog;
  /** Where handler attempts and dead letters are counted (see worker-metrics.ts); @default none */
  metrics?: AttemptSink;
}
