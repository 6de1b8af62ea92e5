import type { ErrorCode } from './error-codes.js';

/**
 * The Socket.IO events between clients and edges (docs/protocol.md is the prose version).
 * Every payload is a plain JSON object, so a client in any language can speak it.
 */

/** A position in a session's log: the last offset the client has handed to its application. */
export interface LogPosition {
  readonly epoch: string;
  readonly offset: number;
}

/** Socket.IO `auth` of the handshake. Tokens in the query string are ignored. */
export interface HandshakeAuth {
  /** PROTOCOL_VERSION the client speaks. */
  readonly v: number;
  readonly sessionId: string;
  /** Signed session token binding the session id (and the consumer id, if any). */
  readonly token: string;
  /** Resume after this position; without it the edge starts after the consumer's stored ack. */
  readonly position?: LogPosition;
  /**
   * `'oldest'` (protocol 3): deliver the whole retained log, whatever the consumer acked; the
   * client has no view yet. Never together with `position`.
   */
  readonly start?: StartFrom;
  /**
   * Protocol 4, together with `attempt`: a random id of this client instance (one SDK session
   * object), 1-64 characters of `A-Z a-z 0-9 _ -`, the same for all its attempts.
   */
  readonly instance?: string;
  /** Protocol 4, together with `instance`: this attempt's number, higher for every new attempt. */
  readonly attempt?: number;
}

/**
 * Which attempt of which client instance a handshake is. The consumer's lease remembers the
 * newest attempt of each recent instance; a claim by an older attempt of the same instance is
 * refused (`superseded`) instead of fencing the newer one: a client that gave up on an attempt
 * at a stalled edge and was accepted elsewhere is never replaced by that attempt waking up.
 */
export interface ConnectionAttempt {
  readonly instance: string;
  /** A positive safe integer; each new attempt of the instance sends a higher one. */
  readonly attempt: number;
}

/** What a handshake may ask for instead of a position. */
export type StartFrom = 'oldest';

/** First event on every accepted connection, before any batch. */
export interface HelloPayload {
  readonly sessionId: string;
  readonly consumerId: string;
  readonly epoch: string;
  /** Last offset written to the session when the connection started. */
  readonly head: number;
  /** The first offset this connection delivers. */
  readonly startOffset: number;
  /**
   * Present when the session is completed: its last message's offset. Nothing is appended
   * after it; the edge delivers up to it, then sends `complete` and closes.
   */
  readonly finalOffset?: number;
  /** The consumer's acknowledged offset as stored. */
  readonly ackedOffset: number;
  /** Most unacknowledged messages and bytes the edge keeps in flight on this connection. */
  readonly window: { readonly messages: number; readonly bytes: number };
  /** When the connection's token expires (epoch ms): refresh it with `token` before then. */
  readonly tokenExpiresAt: number;
  /** The edge's size limits (v2 edges send them; absent from older edges). */
  readonly limits?: SizeLimits;
}

/**
 * Sizes an edge accepts. `maxPayloadBytes`: a `send`'s `data` as JSON (UTF-8); above it the
 * edge answers `payload_too_large`. `maxFrameBytes`: one Socket.IO frame; above it the edge
 * closes the transport without an answer (Engine.IO's `maxHttpBufferSize`).
 */
export interface SizeLimits {
  readonly maxPayloadBytes: number;
  readonly maxFrameBytes: number;
}

/** Consecutive messages: `data[i]` is at offset `from + i`. One frame per batch. */
export interface BatchPayload {
  readonly epoch: string;
  readonly from: number;
  readonly data: readonly unknown[];
}

export type ResetReason =
  /** The log's epoch changed (Redis may have lost writes): offsets of the old epoch are void. */
  | 'epoch_changed'
  /** The position is older than what retention kept. */
  | 'trimmed'
  /** The position is beyond the head of the log. */
  | 'ahead_of_head';

/**
 * The client's view cannot continue from its position: rebuild it. Delivery continues at
 * `resumeFrom` in `newEpoch`; nothing before it in that epoch will be delivered.
 */
export interface ResetPayload {
  readonly reason: ResetReason;
  readonly oldEpoch: string | null;
  readonly newEpoch: string;
  readonly firstAvailable: number;
  readonly resumeFrom: number;
}

/**
 * The session was completed (its normal end): every message up to and including `finalOffset`
 * of `epoch` was sent on this connection before this event. Nothing more will be appended.
 * The edge closes the connection after it; the client does not reconnect.
 */
export interface CompletePayload {
  readonly epoch: string;
  readonly finalOffset: number;
}

/** A terminal or advisory notice; `code` is from the code table. */
export interface NoticePayload {
  readonly code: ErrorCode;
  readonly message: string;
  /** Wait at least this long before reconnecting or retrying. */
  readonly retryAfterMs?: number;
}

export interface AckPayload {
  readonly epoch: string;
  /** Cumulative: everything up to and including this offset was handled. */
  readonly offset: number;
}

/** An inbound message: handed to the session's worker once, in the order sent. */
export interface SendPayload {
  /** The client's id for the message; a resend with the same id is acknowledged, not repeated. */
  readonly id: string;
  readonly data: unknown;
}

export type SendReply =
  | { readonly ok: true; readonly id: string; readonly seq: number; readonly duplicate: boolean }
  | {
      readonly ok: false;
      readonly code: ErrorCode;
      readonly message: string;
      readonly retryAfterMs?: number;
    };

export interface TokenRefreshPayload {
  readonly token: string;
}

export type TokenRefreshReply =
  | { readonly ok: true; readonly tokenExpiresAt: number }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

export interface ServerToClientEvents {
  hello: (payload: HelloPayload) => void;
  batch: (payload: BatchPayload) => void;
  reset: (payload: ResetPayload) => void;
  /** The session completed and everything up to its final offset was sent: stop, do not reconnect. */
  complete: (payload: CompletePayload) => void;
  /** The session was deleted or expired: stop, do not reconnect. The edge then closes the connection. */
  session_ended: (payload: NoticePayload) => void;
  /** A newer connection of this consumer took over: stop, do not reconnect. */
  replaced: (payload: NoticePayload) => void;
  /** The edge is shutting down: reconnect (anywhere) after `retryAfterMs`. */
  drain: (payload: NoticePayload) => void;
  /** A request of this connection failed; the connection stays open unless a close follows. */
  fault: (payload: NoticePayload) => void;
}

export interface ClientToServerEvents {
  ack: (payload: AckPayload) => void;
  token: (payload: TokenRefreshPayload, reply: (result: TokenRefreshReply) => void) => void;
  send: (payload: SendPayload, reply: (result: SendReply) => void) => void;
}

/** What a rejected handshake carries in `connect_error` (`err.message` is the code too). */
export interface ConnectErrorData {
  readonly code: ErrorCode;
  readonly message: string;
  readonly retryAfterMs?: number;
}
