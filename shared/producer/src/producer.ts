import { createTokenIssuer, type TokenIssuer } from '@holdfast/auth';
import { ErrorCode, HoldfastError, assertSessionId } from '@holdfast/protocol';
import { Registry } from 'prom-client';
import { SessionLog } from '@holdfast/session-log';
import { applyIdempotencyKey } from './idempotency.js';
import { newSessionId } from './session-id.js';
import type {
  BatchPublishResult,
  CreatedSession,
  IssueTokenInput,
  Producer,
  ProducerOptions,
  PublishResult,
  ReadPage,
  SessionToken,
} from './types.js';

/**
 * A producer for back ends that write to Redis directly: a thin layer over the session log
 * (appends are group-committed there) that adds generated session ids, idempotency keys and
 * client tokens. The HTTP API is built on it, so both behave alike and fail with the same
 * `HoldfastError` codes.
 */
export function createProducer(options: ProducerOptions): Producer {
  const { token, metricsRegistry = new Registry(), ...logOptions } = options;
  // Built first: a bad key fails here, before any Redis connection is opened.
  const issuer = token === undefined ? undefined : createTokenIssuer(token);
  const log = new SessionLog({ ...logOptions, metricsRegistry });

  const requireIssuer = (what: string): TokenIssuer => {
    if (issuer) return issuer;
    throw new HoldfastError(
      ErrorCode.InvalidOptions,
      `${what} needs a token signer: pass createProducer({ token: { algorithm, secret | privateKey } })`,
    );
  };

  const issue = async (sessionId: string, input: IssueTokenInput): Promise<SessionToken> => {
    const issued = await requireIssuer('issuing a token').issue({
      sessionId,
      ...(input.consumerId === undefined ? {} : { consumerId: input.consumerId }),
      ...(input.ttlSeconds === undefined ? {} : { ttlSeconds: input.ttlSeconds }),
    });
    return { token: issued.token, tokenExpiresAt: issued.expiresAt };
  };

  return {
    async createSession(input = {}) {
      const sessionId = input.sessionId ?? newSessionId();
      assertSessionId(sessionId);
      const wantsToken = input.consumerId !== undefined || input.tokenTtlSeconds !== undefined;
      // The token is signed before the session is created, so a bad consumer id or lifetime
      // fails the whole call instead of leaving a session behind.
      const token =
        issuer || wantsToken
          ? await issue(sessionId, { consumerId: input.consumerId, ttlSeconds: input.tokenTtlSeconds })
          : undefined;
      const created = await log.createSession(sessionId, {
        ...(input.retention === undefined ? {} : { retention: input.retention }),
        ...(input.idleTtlMs === undefined ? {} : { idleTtlMs: input.idleTtlMs }),
        ...(input.completedRetentionMs === undefined
          ? {}
          : { completedRetentionMs: input.completedRetentionMs }),
      });
      const result: CreatedSession = { ...created };
      return token ? { ...result, token: token.token, tokenExpiresAt: token.tokenExpiresAt } : result;
    },

    async publish(sessionId, data, publishOptions = {}): Promise<PublishResult> {
      const [message] = applyIdempotencyKey(
        [{ data, id: publishOptions.id }],
        publishOptions.idempotencyKey,
        'single',
      );
      // log.append, not a batch of one: the single-message path the benchmarks measure.
      const { epoch, offset, duplicate } = await log.append(
        sessionId,
        data,
        message?.id === undefined ? {} : { id: message.id },
      );
      return { epoch, offset, duplicate };
    },

    async publishBatch(sessionId, messages, batchOptions = {}): Promise<BatchPublishResult> {
      const withIds = applyIdempotencyKey(messages, batchOptions.idempotencyKey, 'batch');
      const results = await log.appendBatch(sessionId, withIds);
      return {
        epoch: results[0]?.epoch ?? '',
        offsets: results.map((r) => r.offset),
        duplicates: results.map((r) => r.duplicate),
      };
    },

    async issueToken(sessionId, input = {}) {
      requireIssuer('issueToken');
      // Throws session_not_found / session_ended: tokens are only handed out for live sessions.
      await log.info(sessionId);
      return issue(sessionId, input);
    },

    info: (sessionId) => log.info(sessionId),

    async read(sessionId, input = {}): Promise<ReadPage> {
      const page = await log.read(sessionId, {
        from: input.from ?? 1,
        ...(input.limit === undefined ? {} : { limit: input.limit }),
      });
      return {
        epoch: page.epoch,
        head: page.head,
        firstAvailable: page.firstAvailable,
        trimmed: page.trimmed,
        ...(page.finalOffset === undefined ? {} : { finalOffset: page.finalOffset }),
        messages: page.entries.map(({ offset, data }) => ({ offset, data })),
      };
    },

    completeSession: (sessionId, options) => log.completeSession(sessionId, options),
    endSession: (sessionId) => log.endSession(sessionId),
    ready: () => log.ready(),
    get connected() {
      return log.connected;
    },
    metricsRegistry,
    close: () => log.close(),
  };
}
