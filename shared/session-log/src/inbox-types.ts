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
  /** The drain job (by generation) that handles the session's inbox; submit it idempotently. */
  readonly generation: number;
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
  /** Nothing left: the drain is over. */
  | { readonly kind: 'idle' }
  /** Another generation or run owns the inbox: stop at once. */
  | { readonly kind: 'stale' }
  /** The session ended or never existed. */
  | { readonly kind: 'ended'; readonly error: HoldfastError };
