import { z } from 'zod';
import { ErrorCode } from '@holdfast/protocol';
import { ApiError, ApiErrorCode } from './api-errors.js';
import { defineRoute, type Route } from './route-definition.js';
import {
  completeSessionBodySchema,
  completeSessionResponseSchema,
  createSessionBodySchema,
  createSessionResponseSchema,
  healthResponseSchema,
  idempotencyHeadersSchema,
  issueTokenBodySchema,
  openApiResponseSchema,
  publishBodySchema,
  publishResponseSchema,
  readQuerySchema,
  readResponseSchema,
  readyResponseSchema,
  sessionInfoResponseSchema,
  sessionPathSchema,
  tokenResponseSchema,
} from './schemas.js';

const SESSIONS = 'sessions';
const OPS = 'operations';
/** Errors of every route that names an existing session. */
const SESSION_ERRORS = [
  ErrorCode.InvalidSessionId,
  ErrorCode.SessionNotFound,
  ErrorCode.SessionEnded,
  ErrorCode.RedisUnavailable,
  ErrorCode.Timeout,
] as const;

/** Every route of the API. The server registers exactly these; the OpenAPI document describes exactly these. */
export const routes: readonly Route[] = [
  defineRoute({
    method: 'POST',
    path: '/v1/sessions',
    operationId: 'createSession',
    summary: 'Create a session and a client token for it',
    tag: SESSIONS,
    auth: true,
    body: createSessionBodySchema,
    response: { status: 201, description: 'Created.', schema: createSessionResponseSchema },
    errors: [
      ErrorCode.InvalidSessionId,
      ErrorCode.InvalidConsumerId,
      ErrorCode.InvalidOptions,
      ErrorCode.SessionExists,
      ErrorCode.SessionEnded,
      ErrorCode.RedisUnavailable,
      ErrorCode.Timeout,
      ErrorCode.StorageFull,
      ErrorCode.ReplicationTimeout,
    ],
    async handler({ body }, { producer }) {
      const created = await producer.createSession(body);
      if (created.token === undefined || created.tokenExpiresAt === undefined) {
        throw new Error('the producer issued no token: the API must be configured with a token signer');
      }
      return {
        sessionId: created.sessionId,
        epoch: created.epoch,
        token: created.token,
        tokenExpiresAt: created.tokenExpiresAt,
      };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/sessions/{sessionId}/token',
    operationId: 'issueToken',
    summary: 'Issue a client token for an existing session',
    tag: SESSIONS,
    auth: true,
    params: sessionPathSchema,
    body: issueTokenBodySchema,
    response: { status: 200, description: 'A fresh token.', schema: tokenResponseSchema },
    errors: [...SESSION_ERRORS, ErrorCode.InvalidConsumerId, ErrorCode.InvalidOptions],
    async handler({ params, body }, { producer }) {
      return producer.issueToken(params.sessionId, body);
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/sessions/{sessionId}/messages',
    operationId: 'publish',
    summary: 'Publish one message or a batch',
    description:
      'Appends `{ data, id? }` or `{ messages: [{ data, id? }, …] }` to the session log; connected clients get them live. With an `Idempotency-Key`, a retry returns the original offsets and writes nothing.',
    tag: SESSIONS,
    auth: true,
    params: sessionPathSchema,
    headers: idempotencyHeadersSchema,
    body: publishBodySchema,
    response: {
      status: 200,
      description: 'Where the messages are in the log.',
      schema: publishResponseSchema,
    },
    errors: [
      ...SESSION_ERRORS,
      ErrorCode.InvalidMessageId,
      ErrorCode.InvalidPayload,
      ErrorCode.PayloadTooLarge,
      ErrorCode.BatchTooLarge,
      ErrorCode.StorageFull,
      ErrorCode.SessionCompleted,
      ErrorCode.ReplicationTimeout,
    ],
    async handler({ params, headers, body }, context) {
      const { producer } = context;
      const idempotencyKey = headers['idempotency-key'];
      if (body.messages !== undefined) {
        const batch = await producer.publishBatch(params.sessionId, body.messages, { idempotencyKey });
        context.published(batch.duplicates);
        return { epoch: batch.epoch, offsets: [...batch.offsets], duplicates: [...batch.duplicates] };
      }
      const result = await producer.publish(params.sessionId, body.data, { id: body.id, idempotencyKey });
      context.published([result.duplicate]);
      return { epoch: result.epoch, offsets: [result.offset], duplicates: [result.duplicate] };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/sessions/{sessionId}',
    operationId: 'getSession',
    summary: "A session's state: epoch, head, retention, acknowledged offsets",
    tag: SESSIONS,
    auth: true,
    params: sessionPathSchema,
    response: { status: 200, description: 'The session.', schema: sessionInfoResponseSchema },
    errors: SESSION_ERRORS,
    async handler({ params }, { producer }) {
      const info = await producer.info(params.sessionId);
      return {
        sessionId: info.sessionId,
        epoch: info.epoch,
        head: info.head,
        firstAvailable: info.firstAvailable,
        length: info.length,
        acks: { ...info.acks },
        connected: { ...info.connected },
        retention: { maxMessages: info.retention.maxMessages, maxAgeMs: info.retention.maxAgeMs },
        idleTtlMs: info.idleTtlMs,
        createdAt: info.createdAt,
        lastActiveAt: info.lastActiveAt,
        durable: info.durable,
        // Always present (null while open), so the body's shape does not depend on the state.
        completedAt: info.completedAt ?? null,
        finalOffset: info.finalOffset ?? null,
      };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/sessions/{sessionId}/messages',
    operationId: 'readMessages',
    summary: "Read a session's log from an offset",
    tag: SESSIONS,
    auth: true,
    params: sessionPathSchema,
    query: readQuerySchema,
    response: { status: 200, description: 'A page of the log.', schema: readResponseSchema },
    errors: [...SESSION_ERRORS, ErrorCode.InvalidOffset, ErrorCode.InvalidOptions],
    async handler({ params, query }, { producer }) {
      const page = await producer.read(params.sessionId, query);
      return { ...page, messages: [...page.messages] };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/sessions/{sessionId}/complete',
    operationId: 'completeSession',
    summary: 'Complete a session: no more messages, every client still receives all of them',
    description:
      'Writes the completion at the end of the log, atomically with publishes: a publish racing with it lands before it or fails with 409 `session_completed`. Clients receive every message up to `finalOffset`, then `complete`, then the connection closes; a client that reconnects later gets the rest, then `complete`. The session stays readable for its completed retention (default 24 h), then expires. Idempotent: completing again returns the same body.',
    tag: SESSIONS,
    auth: true,
    params: sessionPathSchema,
    body: completeSessionBodySchema,
    response: { status: 200, description: 'Completed.', schema: completeSessionResponseSchema },
    errors: [...SESSION_ERRORS, ErrorCode.InvalidOptions, ErrorCode.ReplicationTimeout],
    async handler({ params, body }, { producer }) {
      const completed = await producer.completeSession(params.sessionId, body);
      return {
        finalOffset: completed.finalOffset,
        epoch: completed.epoch,
        completedAt: completed.completedAt,
      };
    },
  }),
  defineRoute({
    method: 'DELETE',
    path: '/v1/sessions/{sessionId}',
    operationId: 'endSession',
    summary: 'Delete (purge) a session',
    description:
      'Deletes the log now and leaves a tombstone (7 days): connected clients get `session_ended` (after the messages their edge was already notified of), later calls get 410. To end a conversation normally, complete it instead.',
    tag: SESSIONS,
    auth: true,
    params: sessionPathSchema,
    response: { status: 204, description: 'Ended.' },
    errors: SESSION_ERRORS,
    async handler({ params }, { producer }) {
      await producer.endSession(params.sessionId);
      return undefined;
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/healthz',
    operationId: 'health',
    summary: 'Liveness: the process is up',
    tag: OPS,
    auth: false,
    response: { status: 200, description: 'Alive.', schema: healthResponseSchema },
    errors: [],
    async handler() {
      return { status: 'ok' as const };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/readyz',
    operationId: 'ready',
    summary: 'Readiness: Redis is reachable',
    tag: OPS,
    auth: false,
    response: { status: 200, description: 'Ready to serve.', schema: readyResponseSchema },
    errors: [ApiErrorCode.NotReady],
    async handler(_input, context) {
      if (!context.isReady()) throw new ApiError(ApiErrorCode.NotReady, 'the API cannot reach Redis');
      return { status: 'ready' as const };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/metrics',
    operationId: 'metrics',
    summary: 'Prometheus metrics (docs/operations.md lists them)',
    tag: OPS,
    auth: false,
    response: { status: 200, description: 'Prometheus text exposition.', schema: z.string(), text: true },
    errors: [],
    async handler(_input, context) {
      return context.metricsText();
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/openapi.json',
    operationId: 'openApi',
    summary: 'This OpenAPI 3.1 document',
    tag: OPS,
    auth: false,
    response: { status: 200, description: 'The document.', schema: openApiResponseSchema },
    errors: [],
    async handler(_input, context) {
      return context.openApiDocument();
    },
  }),
];
