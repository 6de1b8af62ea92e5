export { createProducer } from './producer.js';
export type {
  BatchPublishResult,
  CreateSessionInput,
  CreatedSession,
  IssueTokenInput,
  Producer,
  ProducerLogOptions,
  ProducerOptions,
  PublishBatchOptions,
  PublishOptions,
  PublishResult,
  ReadInput,
  ReadPage,
  SessionToken,
} from './types.js';
