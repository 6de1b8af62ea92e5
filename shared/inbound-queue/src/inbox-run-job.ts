import { partitionOf } from '@holdfast/session-log';

/**
 * Inbound messages wait in each session's inbox (see the session log's inbox scripts); an
 * *inbox run* job hands them to the handler one at a time, in order. BullMQ's open-source
 * edition has no job groups, so per-session order comes from the inbox, and BullMQ does what it
 * is good at: durable scheduling, spreading sessions over workers and concurrency slots,
 * re-running an inbox run whose worker died (stalled jobs), and retrying with backoff.
 *
 * One inbox run per session runs at a time: the inbox names the scheduled run by a generation
 * number, and the job id is derived from it, so submitting the same inbox run twice is harmless.
 * ("Drain", in Holdfast, is only the edge's graceful shutdown.)
 */
export const INBOUND_QUEUE_NAME = 'holdfast-inbound';
export const INBOX_RUN_JOB_NAME = 'inbox-run';
/**
 * What the job was called before it was renamed. Workers take every job on the
 * inbound queue by its data, whatever its name, so jobs queued under this name before an upgrade
 * still run; the job id format (`<session>.g<generation>`) did not change.
 * @deprecated recognised for one version after the rename, then removed
 */
export const LEGACY_INBOX_RUN_JOB_NAME = 'drain';

export interface InboxRunJobData {
  readonly sessionId: string;
  readonly generation: number;
}

/** Job ids may not contain ':' (BullMQ's key separator); session ids cannot contain '.'. */
export function inboxRunJobId(sessionId: string, generation: number): string {
  return `${sessionId}.g${generation}`;
}

/**
 * BullMQ key prefix for a Holdfast key prefix, so several deployments can share one Redis. On
 * a Redis Cluster it is a hash tag, so every key of a queue shares one slot (BullMQ's scripts
 * touch several); a server keeps the untagged prefix its queues already have. Inbound queue
 * `index` > 0 (see `inboundQueueName`) gets a hash tag of its own on a cluster, so the queues
 * land on different slots, hence on different shards.
 */
export function bullPrefix(keyPrefix: string, onCluster = false, index = 0): string {
  if (!onCluster) return `${keyPrefix}-bull`;
  return index === 0 ? `{${keyPrefix}-bull}` : `{${keyPrefix}-bull-${index}}`;
}

/**
 * Inbound queues: one by default. On a Redis Cluster one queue is one slot, so one shard takes
 * every job's writes; `HOLDFAST_INBOUND_QUEUES` = n spreads sessions over n queues (each with
 * its own hash tag). A session always goes to the same queue (its id's crc32 mod n), and order
 * within a session comes from its inbox anyway (one inbox run at a time), so spreading never
 * reorders. Queue 0 keeps the original name, so a deployment that had one queue keeps it.
 */
export const DEFAULT_INBOUND_QUEUES = 1;
/** More queues than this cost connections (a blocking one per queue per worker) for no spread. */
export const MAX_INBOUND_QUEUES = 256;

export function inboundQueueName(index: number): string {
  return index === 0 ? INBOUND_QUEUE_NAME : `${INBOUND_QUEUE_NAME}-${index}`;
}

/** The inbound queue of a session among `queues`: crc32 of its id mod n, as partitions are. */
export function inboundQueueOf(sessionId: string, queues: number): number {
  return partitionOf(sessionId, queues);
}
