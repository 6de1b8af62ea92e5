import type { HoldfastError } from '@holdfast/protocol';

/** An inbound message as a client sent it. */
export interface InboundInput {
  /** The client's id for the message: a resend with the same id is not enqueued twice. */
  readonly id: string;
  readonly data: unknown;
  /** @default 'default' */
  readonly consumerId?: string;
}

export interface InboundAccepted {
  /** The message's place in the session's inbound order (1, 2, 3, …). */
  readonly seq: number;
  /** True when the id had been accepted before: nothing was written. */
  readonly duplicate: boolean;
  /**
   * The inbox round whose job handles the message (see inbox.ts); submit that job idempotently.
   * 0 only for a resend whose round is already over.
   */
  readonly round: number;
  /**
   * The same number under its old name, kept while callers move to `round`.
   * @deprecated use `round`; a round is not a lease generation.
   */
  readonly generation: number;
  /**
   * The session's epoch when the message was stored (after the epoch rule, applied first). A
   * Redis data loss that took the message also ends this epoch, so whoever acknowledges the
   * message must not do so to a client already told of a later one (edge inbound-send.ts).
   */
  readonly epoch: string;
}

/** A step of the run handling an inbound message (see `Inbox.stepInbound`). */
export interface InboundStep {
  /** The inbox round the run belongs to. */
  readonly round: number;
  readonly seq: number;
  /** The run's own token, which took the message in `nextInbound`. */
  readonly runToken: string;
  readonly kind: 'publish' | 'done';
  /**
   * The epoch this attempt's earlier output (replies, markers) was appended in, if it wrote
   * any. The step is then refused with `rewoundTo` when the session's epoch is another now:
   * Redis lost data since, possibly that output, so the message must not be settled on it.
   */
  readonly attemptEpoch?: string | undefined;
}

/** The answer to `Inbox.stepInbound`. */
export interface InboundStepResult {
  /** False when the run is stale and must stop without publishing, or when `rewoundTo` is set. */
  readonly owned: boolean;
  /**
   * Set when the step was refused because the session's epoch is no longer `attemptEpoch`
   * (this is the epoch now): the run still owns the message, but its attempt's output may be
   * gone with Redis data, so it must run the message again as a new attempt, not settle it.
   */
  readonly rewoundTo?: string | undefined;
  /**
   * The run id of the Redis process that answered the step ('' on a Redis Cluster, where the
   * caller cannot know it). Pass it to `appendBatch` as `onServer`, so the append is refused if
   * a different process (a restart that lost data, a failover) would run it: the step's answer
   * was about the data of the one that answered.
   */
  readonly serverRunId: string;
}

export type InboundNext =
  | {
      readonly kind: 'message';
      readonly seq: number;
      readonly id: string;
      readonly data: unknown;
      readonly consumerId: string;
      /** 1 for the first start of this message, 2 after one failed or interrupted start, … */
      readonly attempt: number;
      /** True when the previous attempt had started publishing a reply. */
      readonly previousAttemptPublished: boolean;
    }
  /** Nothing left: the inbox round is over. */
  | { readonly kind: 'idle' }
  /** Another round or run owns the inbox: stop at once. */
  | { readonly kind: 'stale' }
  /** The session ended or never existed. */
  | { readonly kind: 'ended'; readonly error: HoldfastError };
