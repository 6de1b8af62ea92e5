import { ErrorCode, type HoldfastError } from '@holdfast/protocol';

/**
 * What a lease answer means for the connection holding generation `held` (the fencing protocol
 * is explained in consumer-leases-redis.ts):
 * - `held`: the lease is still this connection's;
 * - `fenced`: a newer connection of the consumer took over (a higher generation): stop for good;
 * - `rolled_back`: the generation went back below this connection's own: Redis lost the claim
 *   (restored older data, or failed over); nobody took over, reconnecting claims a fresh one;
 * - `session_gone`: the session ended, expired, or was lost.
 */
export type LeaseStatus = 'held' | 'fenced' | 'rolled_back' | 'session_gone';

/**
 * Classify the consumer's current generation, as `renewLease` answers it (undefined: the
 * session is gone), against the generation `held` by this connection.
 */
export function classifyLease(held: number, current: number | undefined): LeaseStatus {
  if (current === undefined) return 'session_gone';
  if (current === held) return 'held';
  // Generations only grow: a lower one than ours means Redis lost writes, not a takeover.
  return current < held ? 'rolled_back' : 'fenced';
}

/**
 * Classify a `replaced` error of an ack (a fenced ack carries the consumer's current generation
 * in its details): the same rule as a renewal, but never `held` or `session_gone`. A reply
 * without a readable generation counts as `fenced`.
 */
export function classifyFencedAck(held: number, error: HoldfastError): 'fenced' | 'rolled_back' {
  const current = error.code === ErrorCode.Replaced ? error.details?.generation : undefined;
  return typeof current === 'number' && current < held ? 'rolled_back' : 'fenced';
}
