export { connect } from './connect.js';
export type { HoldfastSession, SessionEvents, SessionState, StateChange } from './session.js';
export type { ClientMessage } from './arrival-cursor.js';
export { DEFAULT_ACK_EVERY_MESSAGES, DEFAULT_ACK_EVERY_MS, type ConnectOptions } from './options.js';
export {
  ClientErrorCode,
  HoldfastClientError,
  type HoldfastClientErrorCode,
  type HoldfastClientErrorOptions,
} from './client-error.js';
export { actionFor, type ClientAction } from './code-table.js';
export {
  defaultRetryStrategy,
  exponentialBackoff,
  type BackoffOptions,
  type RetryStrategy,
} from './retry-strategy.js';
export {
  memoryStore,
  type OutboxEntry,
  type PositionStore,
  type SyncPositionStore,
} from './position-store.js';
export type { SendOptions, SendResult } from './outbox.js';
export {
  createReplyAssembler,
  type AssembledReply,
  type AttemptAbortedEvent,
  type InboundErrorEvent,
  type ReplyAssembler,
  type ReplyAssemblerOptions,
  type ReplyEvent,
  type ReplySource,
} from './replies.js';
export { localStorageStore, type StorageLike } from './local-storage-store.js';
export type { SocketIoOptions } from './edge-connection.js';
export type { LogPosition, ResetPayload, ResetReason } from '@holdfast/protocol';
