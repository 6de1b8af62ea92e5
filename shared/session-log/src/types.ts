import type { Retention } from './options.js';

/** Where one message sits in its session's log. */
export interface AppendResult {
  readonly offset: number;
  readonly epoch: string;
  /** True when the message id was seen within the dedupe window and nothing was written. */
  readonly duplicate: boolean;
}

/** Options of `appendBatch`. */
export interface AppendBatchOptions {
  /**
   * Append only if the Redis process that runs the append is the one with this run id (from
   * `stepInbound`'s `serverRunId`); otherwise fail with a retryable `redis_unavailable` and
   * write nothing. A worker's reply is published after a step that checked, on that process's
   * data, that its run still owns the message; after a restart that lost data the check no
   * longer holds, and a reply of the lost timeline must not land. Empty or absent: no check
   * (on a Redis Cluster the run id is not known to the caller; see docs/deploy.md).
   */
  readonly onServer?: string;
}

export interface LogEntry {
  readonly offset: number;
  readonly data: unknown;
  /** Size of the data as stored (UTF-16 code units of its JSON text; close to bytes for ASCII). */
  readonly bytes: number;
}

export interface ReadResult {
  readonly epoch: string;
  /** Last offset written to the session. */
  readonly head: number;
  /** Oldest offset still retained (head + 1 when nothing is). */
  readonly firstAvailable: number;
  /**
   * True when the requested start was older than retention kept: entries then start at
   * `firstAvailable`, and the caller must treat the gap as a reset, not as continuity.
   */
  readonly trimmed: boolean;
  readonly entries: readonly LogEntry[];
  /**
   * Set once the session is completed: its last message offset (= head). A reader that has
   * delivered everything up to it has delivered the whole session.
   */
  readonly finalOffset?: number;
}

export interface CreateSessionOptions {
  /** This session's retention; unset fields take the log's defaults. */
  retention?: Partial<Retention>;
  /** This session's idle expiry; defaults to the log's `idleTtlMs`. 0 disables it. */
  idleTtlMs?: number;
  /**
   * How long this session stays readable once completed; defaults to the log's
   * `completedRetentionMs` (a `completeSession` call may still set its own).
   */
  completedRetentionMs?: number;
}

export interface CompleteSessionOptions {
  /** How long the session stays readable from now; defaults to the session's own, else the log's. */
  completedRetentionMs?: number;
}

/** A session's completion: the same answer every time it is asked for (idempotent). */
export interface SessionCompleted {
  /** Last message offset of the session; the completion entry sits right after it. */
  readonly finalOffset: number;
  readonly epoch: string;
  /** When the session was completed (Redis ms). */
  readonly completedAt: number;
}

export interface SessionCreated {
  readonly sessionId: string;
  readonly epoch: string;
  readonly createdAt: number;
}

export interface SessionInfo {
  readonly sessionId: string;
  readonly epoch: string;
  readonly head: number;
  readonly firstAvailable: number;
  /** Messages currently retained. */
  readonly length: number;
  /** Acknowledged offset per consumer id. */
  readonly acks: Readonly<Record<string, number>>;
  /**
   * Per consumer that has connected: whether a connection of it is open now (its edge renewed
   * its lease recently; a crashed edge's connection counts until its lease runs out).
   */
  readonly connected: Readonly<Record<string, boolean>>;
  readonly createdAt: number;
  /**
   * Last activity (Redis ms), as of the last idle-expiry refresh: appends and acks refresh it
   * at most once a second, so it may be up to a second old.
   */
  readonly lastActiveAt: number;
  readonly retention: Retention;
  readonly idleTtlMs: number;
  /** True when every write of this epoch was made by a Redis that cannot lose it on restart. */
  readonly durable: boolean;
  /** Set once the session is completed: when (Redis ms), and its last message offset. */
  readonly completedAt?: number;
  readonly finalOffset?: number;
}

export interface AckInput {
  readonly epoch: string;
  readonly offset: number;
  /** @default 'default' */
  readonly consumerId?: string;
  /**
   * The acking connection's lease generation (see `claimLease`): the ack is refused with
   * `replaced` once a newer connection of the consumer holds the lease.
   */
  readonly leaseGeneration?: number;
}

/** Why a session ended; travels to connected clients with `session_ended`. */
export type EndReason = 'deleted' | 'expired';
