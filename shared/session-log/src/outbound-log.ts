import type { SessionKeys } from './keys.js';
import type { MessageInput } from './payload.js';
import type { FirstRead, InfoAndRead } from './start-batches.js';
import type {
  AckInput,
  AppendBatchOptions,
  AppendResult,
  CompleteSessionOptions,
  CreateSessionOptions,
  EndReason,
  ReadResult,
  SessionCompleted,
  SessionCreated,
  SessionInfo,
} from './types.js';

/**
 * The outbound log: every session's messages to its clients, with contiguous offsets in
 * epochs, retention, consumer acks, completion and the end of a session. The contract;
 * outbound-log-redis.ts is the implementation. Producers write it, edges read and ack it.
 */
export interface OutboundLog {
  /** A session's keys (its live channel among them), after checking the id. */
  keys(sessionId: string): SessionKeys;

  /** Create a session. Fails with `session_exists`, or `session_ended` while a tombstone lives. */
  createSession(sessionId: string, options?: CreateSessionOptions): Promise<SessionCreated>;

  /** Append one message; see `appendBatch`. */
  append(sessionId: string, data: unknown, options?: { id?: string }): Promise<AppendResult>;

  /**
   * Append messages to a session, in order, all or none, forwarded to live readers together.
   * Messages with an id seen in the dedupe window are not written again: their original offset
   * comes back with `duplicate: true`. Concurrent calls are group-committed.
   */
  appendBatch(
    sessionId: string,
    messages: readonly MessageInput[],
    options?: AppendBatchOptions,
  ): Promise<AppendResult[]>;

  /**
   * Read from offset `from` (inclusive), at most `limit` entries and about `maxBytes` of data
   * (always at least one entry when any is available).
   */
  read(sessionId: string, options: { from: number; limit?: number; maxBytes?: number }): Promise<ReadResult>;

  /**
   * Store a consumer's acknowledged offset. Monotonic: an older ack leaves it unchanged and
   * returns the stored value. Fails with `ack_beyond_head` or `epoch_mismatch`, and with
   * `replaced` when `leaseGeneration` is fenced (see consumer-leases-redis.ts).
   */
  ack(sessionId: string, input: AckInput): Promise<{ ackedOffset: number }>;

  /**
   * Write the acks still gathering for a batched call (acks wait a few milliseconds to share a
   * call) now, resolving once they are answered: called before the connection closes, so none
   * is written after its QUIT.
   */
  flushLingeringAcks(): Promise<void>;

  info(sessionId: string): Promise<SessionInfo>;

  /**
   * The session's info and, when `read` is given, a read from `read.from` made in the same
   * atomic step (so of the epoch and head the info reports). Calls arriving together are
   * batched into one script call (start-batches.ts): what a connection starting asks.
   */
  infoAndRead(sessionId: string, read?: FirstRead): Promise<InfoAndRead>;

  /** Mark the session active (a client connected), refreshing its idle expiry. */
  touch(sessionId: string): Promise<void>;

  /**
   * Trim the session's messages older than its max age now, without appending (appends do it
   * themselves). Returns the first retained offset, or undefined when the session is gone.
   */
  enforceRetention(sessionId: string): Promise<number | undefined>;

  /**
   * Every live session id, a page at a time (SCAN: no blocking, each id at least once; call
   * again with the returned cursor until it is '0'). On a cluster, run it against each master.
   */
  scanSessions(cursor?: string, count?: number): Promise<{ cursor: string; sessionIds: string[] }>;

  /**
   * Complete a session: no more appends (they fail with `session_completed`), everything up to
   * the returned final offset stays readable for the completed retention. Atomic with appends
   * and idempotent (a second call returns the first call's answer).
   */
  completeSession(sessionId: string, options?: CompleteSessionOptions): Promise<SessionCompleted>;

  /** End a session: delete its keys, leave a tombstone, tell live readers. */
  endSession(sessionId: string, reason?: EndReason): Promise<void>;
}
