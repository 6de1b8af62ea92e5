import type { CompletePayload, ResetPayload } from '@holdfast/protocol';
import type { ClientMessage } from './arrival-cursor.js';
import type { HoldfastClientError } from './client-error.js';
import type { AttemptAbortedEvent, InboundErrorEvent, ReplyEvent } from './replies.js';

/**
 * - `connecting`: no connection has been open yet (first attempt, or retrying it);
 * - `open`: connected, messages flow;
 * - `resuming`: the connection was lost; reconnecting and resuming from the position;
 * - `closed`: for good (`close()`, a code that says stop, or `session_completed` after the
 *   `complete` event). Nothing more happens.
 */
export type SessionState = 'connecting' | 'open' | 'resuming' | 'closed';

export interface StateChange {
  readonly state: SessionState;
  /**
   * Why: the code that ended the connection (`connection_lost`, `server_draining`,
   * `listener_failed`, `replaced`, `session_ended`, `token_invalid`, …), `closed_by_app` after
   * `close()`, `retries_exhausted` when the retry strategy gave up; undefined for `open`.
   */
  readonly reason: string | undefined;
  readonly error?: HoldfastClientError;
}

/** What a `HoldfastSession` emits, by event name. */
export interface SessionEvents<T> {
  /** A message, each offset once and in order. The next one waits until this returns/resolves. */
  message: (message: ClientMessage<T>) => void | Promise<void>;
  /** The app's view cannot continue: rebuild it; messages continue at `resumeFrom` in `newEpoch`. */
  reset: (reset: ResetPayload) => void | Promise<void>;
  /**
   * The session completed and the app has handled every message up to `finalOffset` (the
   * position is saved). The state then becomes `closed` with reason `session_completed`.
   */
  complete: (complete: CompletePayload) => void;
  state: (change: StateChange) => void;
  error: (error: HoldfastClientError) => void;
  /**
   * A message whose data is a worker `reply` envelope; emitted after the `message` listeners,
   * awaited like them (the offset is acknowledged once both returned).
   */
  reply: (reply: ReplyEvent) => void | Promise<void>;
  /** A worker `attempt_aborted` envelope: discard what that attempt (and earlier ones) published. */
  attempt_aborted: (aborted: AttemptAbortedEvent) => void | Promise<void>;
  /** A worker `error` envelope: the message was given up on, no (further) reply comes. */
  inbound_error: (error: InboundErrorEvent) => void | Promise<void>;
}

/** The listeners an awaited emission may run: those the app handles one item at a time. */
export type OrderedEvent = 'message' | 'reset' | 'reply' | 'attempt_aborted' | 'inbound_error';
