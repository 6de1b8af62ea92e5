/**
 * Inbound messages wait in each session's inbox (see the session log's inbox scripts); a
 * *drain* job handles them one at a time, in order. BullMQ's open-source edition has no job
 * groups, so per-session order comes from the inbox, and BullMQ does what it is good at:
 * durable scheduling, spreading sessions over workers and concurrency slots, re-running a
 * drain whose worker died (stalled jobs), and retrying with backoff.
 *
 * One drain per session runs at a time: the inbox names the scheduled drain by a generation
 * number, and the job id is derived from it, so submitting the same drain twice is harmless.
 */
export const INBOUND_QUEUE_NAME = 'holdfast-inbound';
export const DRAIN_JOB_NAME = 'drain';

export interface DrainJobData {
  readonly sessionId: string;
  readonly generation: number;
}

/** Job ids may not contain ':' (BullMQ's key separator); session ids cannot contain '.'. */
export function drainJobId(sessionId: string, generation: number): string {
  return `${sessionId}.g${generation}`;
}

/** BullMQ key prefix for a Holdfast key prefix, so several deployments can share one Redis. */
export function bullPrefix(keyPrefix: string): string {
  return `${keyPrefix}-bull`;
}
