/**
 * The contract between the worker and application code: one function per inbound message.
 * See docs/handlers.md for the guarantees around it.
 */

/** An inbound message as the client sent it. */
export interface InboundMessage {
  /** The client's id for the message; unique within the session (resends are deduplicated). */
  readonly id: string;
  /** The JSON value the client sent. */
  readonly data: unknown;
  /** The consumer (client identity within the session) that sent it. */
  readonly consumerId: string;
}

export interface HandlerContext {
  readonly sessionId: string;
  readonly message: InboundMessage;
  /**
   * 1 on the first start of this message; 2, 3, … after a failed attempt, a crash or a
   * shutdown of the worker that was running it. A later attempt may produce different output:
   * clients discard the output of earlier attempts (see the `attempt_aborted` envelope).
   */
  readonly attempt: number;
  /**
   * Aborted when the worker shuts down (after its grace period) or when this run lost the
   * message to another run (fenced). Stop soon after: publishing is refused from then on.
   */
  readonly signal: AbortSignal;
  /**
   * Append one reply to the session's outbound log, wrapped in a reply envelope. Resolves when
   * it is stored. Throws a `FencedError` (nothing written) when this run no longer owns the
   * message.
   */
  publish(data: unknown): Promise<void>;
  /** Append several replies at once: stored together, in order, delivered as one batch. */
  publishBatch(data: readonly unknown[]): Promise<void>;
}

/**
 * Handles one inbound message. Resolving means handled: the next message of the session
 * starts. Throwing means this attempt failed: it is retried with backoff, then dead-lettered.
 */
export type Handler = (ctx: HandlerContext) => Promise<void>;
