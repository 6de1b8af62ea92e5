export {
  ATTEMPT_ORDER_SINCE_VERSION,
  EXPLICIT_START_SINCE_VERSION,
  PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
} from './version.js';
export { ErrorCode, type ErrorAction, errorActions, isRetryable } from './error-codes.js';
export { HoldfastError, isHoldfastError } from './holdfast-error.js';
export { integerOptionProblem, validateIntegerOption, type IntegerBounds } from './integer-option.js';
export {
  assertConsumerId,
  assertMessageId,
  assertOffset,
  assertSessionId,
  isConsumerId,
  isInstanceId,
  isMessageId,
  isOffset,
  isSessionId,
  CONSUMER_ID_MAX_LENGTH,
  CONSUMER_ID_PATTERN,
  DEFAULT_CONSUMER_ID,
  KEY_PREFIX_PATTERN,
  MESSAGE_ID_MAX_LENGTH,
  MESSAGE_ID_PATTERN,
  SESSION_ID_MAX_LENGTH,
  SESSION_ID_PATTERN,
} from './identifiers.js';
export type {
  AckPayload,
  BatchPayload,
  CompletePayload,
  ClientToServerEvents,
  ConnectErrorData,
  ConnectionAttempt,
  HandshakeAuth,
  HelloPayload,
  LogPosition,
  NoticePayload,
  ResetPayload,
  ResetReason,
  SendPayload,
  SendReply,
  ServerToClientEvents,
  SizeLimits,
  StartFrom,
  TokenRefreshPayload,
  TokenRefreshReply,
} from './events.js';
export { validateAck } from './validators/ack-payload.js';
export { MAX_DATA_DEPTH, unsafeDataReason } from './validators/data-guard.js';
export { CLIENT_EVENTS, validateEventName, type ClientEventName } from './validators/event-name.js';
export { validateHandshakeAuth, type ValidHandshake } from './validators/handshake-auth.js';
export { validateSend, validateSendReply } from './validators/send-payload.js';
export { validateTokenRefresh } from './validators/token-refresh.js';
export {
  ENVELOPE_KEY,
  MAX_ERROR_MESSAGE_LENGTH,
  attemptAbortedEnvelope,
  errorEnvelope,
  isWorkerEnvelope,
  replyEnvelope,
  truncate,
  type AttemptAbortedEnvelope,
  type ErrorEnvelope,
  type ReplyEnvelope,
  type WorkerEnvelope,
} from './envelopes.js';
export {
  isClusterUrl,
  parseRedisTarget,
  redactRedisUrl,
  type ClusterNodeAddress,
  type RedisTarget,
} from './redis-target.js';
