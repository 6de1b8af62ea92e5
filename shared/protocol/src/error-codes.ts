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
  /**
   * The session was completed (its normal end): it stays readable for its completed retention,
   * but appends are refused. Not a transient error: do not retry the append.
   */
  SessionCompleted: 'session_completed',
  EpochMismatch: 'epoch_mismatch',
  AckBeyondHead: 'ack_beyond_head',
  /** A newer connection of the same consumer took over: stop this one, do not reconnect. */
  Replaced: 'replaced',
  /**
   * Handshake only: a newer attempt of the same client instance already claimed the lease, so
   * this older one is refused rather than fencing it. Its client has normally moved on; one
   * that still waits on it reconnects (with a new attempt number).
   */
  Superseded: 'superseded',
  // Authentication. `token_expired` and `token_not_yet_valid` mean: get a fresh token and
  // retry; the others mean the credentials are wrong and retrying cannot help.
  TokenMissing: 'token_missing',
  TokenInvalid: 'token_invalid',
  TokenExpired: 'token_expired',
  TokenNotYetValid: 'token_not_yet_valid',
  TokenWrongSession: 'token_wrong_session',
  // Connection handling at the edge.
  /** The handshake's protocol version is not spoken by this edge. */
  UnsupportedProtocol: 'unsupported_protocol',
  /** The handshake payload is malformed (missing fields, wrong types). */
  InvalidHandshake: 'invalid_handshake',
  /** The WebSocket upgrade came from an Origin not on the allow-list. */
  OriginNotAllowed: 'origin_not_allowed',
  /** An ack was malformed, beyond what was delivered, or went backwards. */
  InvalidAck: 'invalid_ack',
  /** This edge is shutting down: connect to another one (after `retryAfterMs`). */
  ServerDraining: 'server_draining',
  /** Too many requests: wait `retryAfterMs`, then retry. */
  RateLimited: 'rate_limited',
  /** An event this protocol version does not define. */
  UnknownEvent: 'unknown_event',
  /** The connection did not complete its handshake in time (slowloris, never joined). */
  HandshakeTimeout: 'handshake_timeout',
  /** This client address or session already holds as many connections as an edge allows. */
  TooManyConnections: 'too_many_connections',
  // Infrastructure: transient, retry with backoff. An append that failed this way may or may
  // not have been written; retry it with the same message id so it is applied at most once.
  RedisUnavailable: 'redis_unavailable',
  Timeout: 'timeout',
  /**
   * Redis is at `maxmemory` (policy `noeviction`): it refuses writes and keeps everything it
   * stored. Retry later; appends with the same message id.
   */
  StorageFull: 'storage_full',
  /**
   * The write was applied on the master but fewer replicas than the deployment's replication
   * wait asks for confirmed it in time (`WAIT`). It is possibly in the log: retry with the same
   * message id (idempotency key), which writes it at most once.
   */
  ReplicationTimeout: 'replication_timeout',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** What a caller should do about an error. */
export type ErrorAction =
  /** Get a fresh token (e.g. `getToken()`), then retry. */
  | 'refresh_token'
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
  session_completed: 'stop',
  epoch_mismatch: 'fix_request',
  ack_beyond_head: 'fix_request',
  replaced: 'stop',
  superseded: 'retry',
  token_missing: 'stop',
  token_invalid: 'stop',
  token_expired: 'refresh_token',
  token_not_yet_valid: 'refresh_token',
  token_wrong_session: 'stop',
  unsupported_protocol: 'stop',
  invalid_handshake: 'stop',
  origin_not_allowed: 'stop',
  invalid_ack: 'fix_request',
  server_draining: 'retry',
  rate_limited: 'retry',
  unknown_event: 'fix_request',
  handshake_timeout: 'retry',
  too_many_connections: 'retry',
  redis_unavailable: 'retry',
  timeout: 'retry',
  storage_full: 'retry',
  replication_timeout: 'retry',
};

export function isRetryable(code: ErrorCode): boolean {
  return errorActions[code] === 'retry';
}
