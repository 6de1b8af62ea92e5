export { createProducer } from './producer.js';
export { applyIdempotencyKey, assertIdempotencyKey, type PublishShape } from './idempotency.js';
export { newSessionId } from './session-id.js';
export type {
  BatchPublishResult,
  CreateSessionInput,
  CreatedSession,
  IssueTokenInput,
  Producer,
  ProducerOptions,
  PublishBatchOptions,
  PublishOptions,
  PublishResult,
  ReadInput,
  ReadPage,
  SessionToken,
} from './types.js';
