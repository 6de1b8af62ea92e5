import type { LeaseHolder } from './lease-holders.js';

/** A session's state as the API's GET /v1/sessions/{id} (and the session log's `info`) report it. */
export interface SessionState {
  readonly sessionId: string;
  readonly epoch: string;
  readonly head: number;
  readonly firstAvailable: number;
  readonly length: number;
  readonly acks: Readonly<Record<string, number>>;
  readonly connected: Readonly<Record<string, boolean>>;
  readonly retention: { readonly maxMessages: number; readonly maxAgeMs: number };
  readonly idleTtlMs: number;
  readonly createdAt: number;
  readonly lastActiveAt: number;
  readonly durable: boolean;
  readonly completedAt?: number | null;
  readonly finalOffset?: number | null;
}

export interface ConsumerView {
  readonly consumerId: string;
  /** 0 when it never acknowledged anything in this epoch. */
  readonly ackedOffset: number;
  /** Messages written after its acknowledged offset. */
  readonly lag: number;
  readonly connected: boolean;
  /** Null when no connection of it ever took the lease (or the lease was not read). */
  readonly leaseHolder: (LeaseHolder & { readonly edge: null }) | null;
}

export type Lifecycle = 'open' | 'completed';

export const lifecycleOf = (state: SessionState): Lifecycle =>
  state.completedAt === undefined || state.completedAt === null ? 'open' : 'completed';

/**
 * Every consumer the session knows of (acked, connected, or holding a lease), with its lag.
 * The edge of a holder is null: edges record nowhere which connections they serve.
 */
export function consumersOf(
  state: SessionState,
  holders: Readonly<Record<string, LeaseHolder>> = {},
): ConsumerView[] {
  const ids = new Set([...Object.keys(state.acks), ...Object.keys(state.connected), ...Object.keys(holders)]);
  return [...ids].sort().map((consumerId) => {
    const ackedOffset = state.acks[consumerId] ?? 0;
    const holder = holders[consumerId];
    return {
      consumerId,
      ackedOffset,
      lag: Math.max(0, state.head - ackedOffset),
      connected: state.connected[consumerId] === true,
      leaseHolder: holder ? { ...holder, edge: null } : null,
    };
  });
}
