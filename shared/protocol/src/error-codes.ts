/**
 * Every error code Holdfast emits, on the wire (edge, API) and from libraries (session log,
 * producer). A code is stable: clients branch on it, never on the message text.
 *
 * Each code carries the action a client must take, so retry logic lives in one table
 * (docs/protocol.md renders the same table for other-language clients).
 */
export const ErrorCode = {
  // Bad input: the request is wrong and retrying it unchanged fails again.
  InvalidSessionId: 'invalid_session_id',
  InvalidMessageId: 'invalid_message_id',
  InvalidConsumerId: 'invalid_consumer_id',
  InvalidPayload: 'invalid_payload',
  PayloadTooLarge: 'payload_too_large',
  BatchTooLarge: 'batch_too_large',
  InvalidOffset: 'invalid_offset',
  InvalidOptions: 'invalid_options',
  // Session state.
  SessionNotFound: 'session_not_found',
  SessionEnded: 'session_ended',
  SessionExists: 'session_exists',
  EpochMismatch: 'epoch_mismatch',
  AckBeyondHead: 'ack_beyond_head',
  // Infrastructure: transient, retry with backoff. An append that failed this way may or may
  // not have been written; retry it with the same message id so it is applied at most once.
  RedisUnavailable: 'redis_unavailable',
  Timeout: 'timeout',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** What a caller should do about an error. */
export type ErrorAction =
  /** Fix the request; retrying it unchanged fails the same way. */
  | 'fix_request'
  /** Retry later with exponential backoff and jitter. */
  | 'retry'
  /** The session is gone or never existed: stop. */
  | 'stop';

export const errorActions: Readonly<Record<ErrorCode, ErrorAction>> = {
  invalid_session_id: 'fix_request',
  invalid_message_id: 'fix_request',
  invalid_consumer_id: 'fix_request',
  invalid_payload: 'fix_request',
  payload_too_large: 'fix_request',
  batch_too_large: 'fix_request',
  invalid_offset: 'fix_request',
  invalid_options: 'fix_request',
  session_not_found: 'stop',
  session_ended: 'stop',
  session_exists: 'fix_request',
  epoch_mismatch: 'fix_request',
  ack_beyond_head: 'fix_request',
  redis_unavailable: 'retry',
  timeout: 'retry',
};

export function isRetryable(code: ErrorCode): boolean {
  return errorActions[code] === 'retry';
}
