import type { Registry } from 'prom-client';
import type { IssuerConfig } from '@holdfast/auth';
import type {
  CompleteSessionOptions,
  Retention,
  SessionCompleted,
  SessionInfo,
  SessionLogOptions,
} from '@holdfast/session-log';

/**
 * What a back end sets. The session log's other options are the edges' and workers' business
 * (inbound dedupe and rate, lease timing) or tuning that stays at its default (group commit,
 * durability re-checks); a producer passing them would only drift from the fleet's settings.
 */
export type ProducerLogOptions = Pick<
  SessionLogOptions,
  | 'redis'
  | 'keyPrefix'
  | 'retention'
  | 'idleTtlMs'
  | 'tombstoneTtlMs'
  | 'completedRetentionMs'
  | 'dedupeWindowMs'
  | 'maxPayloadBytes'
  | 'maxBatchMessages'
  | 'commandTimeoutMs'
  | 'linkProbe'
  | 'replicationWait'
>;

export interface ProducerOptions extends ProducerLogOptions {
  /**
   * How client tokens are signed (HS256 secret, or a private key for RS256/ES256/EdDSA), with
   * the audience and issuer the edges expect. Without it `issueToken` fails with
   * `invalid_options` and `createSession` returns no token.
   */
  token?: IssuerConfig;
  /**
   * Where the producer's metrics (the group commit's batch sizes and flush times) are
   * registered: the host app's own registry, or a new one (see `Producer.metricsRegistry`).
   * @default a new prom-client Registry
   */
  metricsRegistry?: Registry;
}

export interface CreateSessionInput {
  /** The new session's id (1-64 of A-Z a-z 0-9 _ -). Generated (URL-safe, random) when absent. */
  sessionId?: string;
  /** This session's retention; unset fields take the producer's defaults. */
  retention?: Partial<Retention>;
  /** Delete the session after this long without an append, ack or connection; 0 disables. */
  idleTtlMs?: number;
  /** How long the session stays readable once completed. @default the producer's (24 hours) */
  completedRetentionMs?: number;
  /** The consumer the returned token is for. @default none (the edge uses `default`) */
  consumerId?: string;
  /** Lifetime of the returned token, 1 second to 30 days. @default 3600 */
  tokenTtlSeconds?: number;
}

export interface CreatedSession {
  readonly sessionId: string;
  readonly epoch: string;
  readonly createdAt: number;
  /** A client token for the session; present when the producer has a `token` config. */
  readonly token?: string;
  /** When `token` expires (epoch milliseconds). */
  readonly tokenExpiresAt?: number;
}

export interface IssueTokenInput {
  /** The consumer the token is for. @default none (the edge uses `default`) */
  consumerId?: string;
  /** 1 second to 30 days. @default 3600 */
  ttlSeconds?: number;
}

export interface SessionToken {
  readonly token: string;
  /** Epoch milliseconds. */
  readonly tokenExpiresAt: number;
}

export interface PublishOptions {
  /** The message id: a publish repeating an id seen within the dedupe window writes nothing. */
  id?: string;
  /** Becomes the message id when `id` is not given (same as the HTTP `Idempotency-Key`). */
  idempotencyKey?: string;
}

export interface PublishBatchOptions {
  /** Message `i` without its own id gets the id `${idempotencyKey}.${i}`. */
  idempotencyKey?: string;
}

export interface PublishResult {
  readonly epoch: string;
  readonly offset: number;
  /** True when the message id was seen within the dedupe window and nothing was written. */
  readonly duplicate: boolean;
}

export interface BatchPublishResult {
  readonly epoch: string;
  /** The offset of each message, in order. */
  readonly offsets: readonly number[];
  /** Per message: true when it was a repeat and nothing was written for it. */
  readonly duplicates: readonly boolean[];
}

export interface ReadInput {
  /** First offset to return (inclusive). @default 1 */
  from?: number;
  /** At most this many messages, 1 to 10,000. @default 100 */
  limit?: number;
}

export interface ReadPage {
  readonly epoch: string;
  readonly head: number;
  readonly firstAvailable: number;
  /** True when `from` was older than what retention kept: `messages` then start at `firstAvailable`. */
  readonly trimmed: boolean;
  /** Present once the session is completed: its last message offset. */
  readonly finalOffset?: number;
  readonly messages: ReadonlyArray<{ readonly offset: number; readonly data: unknown }>;
}

/** What a back end needs to drive sessions: the same operations and errors as the HTTP API. */
export interface Producer {
  createSession(input?: CreateSessionInput): Promise<CreatedSession>;
  publish(sessionId: string, data: unknown, options?: PublishOptions): Promise<PublishResult>;
  publishBatch(
    sessionId: string,
    messages: ReadonlyArray<{ data: unknown; id?: string }>,
    options?: PublishBatchOptions,
  ): Promise<BatchPublishResult>;
  /** A client token for an existing session (`session_not_found` / `session_ended` otherwise). */
  issueToken(sessionId: string, input?: IssueTokenInput): Promise<SessionToken>;
  info(sessionId: string): Promise<SessionInfo>;
  read(sessionId: string, input?: ReadInput): Promise<ReadPage>;
  /**
   * Complete the session: the normal end of a reply or conversation. Later publishes fail with
   * `session_completed`; every message up to `finalOffset` stays readable for the completed
   * retention, and clients receive all of them, then `complete`. Idempotent.
   */
  completeSession(sessionId: string, options?: CompleteSessionOptions): Promise<SessionCompleted>;
  /** Purge the session's log now; connected clients get `session_ended`. */
  endSession(sessionId: string): Promise<void>;
  /** Resolves once Redis is reachable. */
  ready(): Promise<void>;
  /** True while the Redis connection is up. */
  readonly connected: boolean;
  /** The producer's Prometheus metrics, for the host app to serve (`await registry.metrics()`). */
  readonly metricsRegistry: Registry;
  close(): Promise<void>;
}
