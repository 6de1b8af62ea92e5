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

/** BullMQ key prefix for a Holdfast key prefix, so several deployments can share one Redis. */
export function bullPrefix(keyPrefix: string): string {
  return `${keyPrefix}-bull`;
}
