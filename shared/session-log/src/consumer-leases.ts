import type { ConnectionAttempt } from '@holdfast/protocol';

/** What claiming a consumer's lease returns. */
export interface LeaseClaim {
  /** The new connection's fencing token: it fences every connection with a lower one. */
  readonly generation: number;
  /** The connection that held the lease before, so its edge can be told to close it. */
  readonly previousHolder: string | undefined;
}

/**
 * Consumer leases: which connection of a consumer may deliver and ack, fenced by a generation
 * that only grows. The contract; consumer-leases-redis.ts implements it and explains the
 * fencing protocol end to end, and lease-status.ts reads its answers. Edges use it.
 */
/** The lease one connection holds: the generation its claim returned. */
export interface HeldLease {
  readonly sessionId: string;
  readonly consumerId: string;
  readonly generation: number;
}

export interface ConsumerLeases {
  /**
   * A new connection of a consumer takes the consumer's lease. The returned generation fences
   * every older connection: their acks fail with `replaced`. `previousHolder` names the
   * connection that held it, so its edge can be told to close it, unless that connection
   * released the lease (it closed cleanly: nothing to tell). Counts as activity.
   * `leaseMs`: the consumer counts as connected this long unless the lease is renewed.
   * `attempt`: which attempt of which client instance the connection is; a claim by an older
   * attempt than one its instance already claimed with fails with `superseded` and changes
   * nothing (without it, the claim fences whatever holds the lease, as for older clients).
   */
  claimLease(
    sessionId: string,
    consumerId: string,
    holder: string,
    leaseMs?: number,
    attempt?: ConnectionAttempt,
  ): Promise<LeaseClaim>;

  /**
   * Renew a connection's lease: returns the generation of the consumer's newest connection
   * (the lease is still held when it is the connection's own; `classifyLease` says what any
   * other answer means), or undefined when the session is gone. While held, the consumer
   * counts as connected for another `leaseMs`.
   */
  renewLease(
    sessionId: string,
    consumerId: string,
    generation: number,
    leaseMs: number,
  ): Promise<number | undefined>;

  /**
   * Renew many connections' leases at once (an edge's periodic renewal): one answer per lease,
   * in order, each read as `renewLease`'s. Far fewer Redis calls than one renewal each; the
   * fencing is the same. Rejects as a whole when Redis cannot be asked.
   */
  renewLeases(leases: readonly HeldLease[], leaseMs: number): Promise<Array<number | undefined>>;

  /** A connection closed cleanly: its consumer no longer counts as connected (unless replaced). */
  releaseLease(sessionId: string, consumerId: string, generation: number): Promise<void>;
}
