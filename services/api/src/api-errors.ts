import { isHoldfastError, type ErrorCode } from '@holdfast/protocol';

/**
 * Codes only the HTTP API emits, for failures that have no meaning outside HTTP. Every other
 * error carries the shared `ErrorCode` the session log, the producer library and the edge use.
 */
export const ApiErrorCode = {
  /** No `Authorization: Bearer <key>` header, or a key that is not configured. */
  Unauthorized: 'unauthorized',
  /** The body is not valid JSON (or is empty while declared as JSON). */
  InvalidJson: 'invalid_json',
  /** The body is larger than API_MAX_BODY_BYTES. */
  BodyTooLarge: 'body_too_large',
  /** The body is not `application/json`. */
  UnsupportedMediaType: 'unsupported_media_type',
  /** No such route. */
  NotFound: 'not_found',
  /** The request does not have the documented shape (missing or unknown fields, wrong types). */
  InvalidRequest: 'invalid_request',
  /** The API cannot reach Redis right now (readiness probe). */
  NotReady: 'not_ready',
  /** A bug: the request failed in a way the API does not know how to explain. */
  InternalError: 'internal_error',
} as const;

export type ApiErrorCode = (typeof ApiErrorCode)[keyof typeof ApiErrorCode];

export type AnyErrorCode = ErrorCode | ApiErrorCode;

/** The body of every error response. */
export interface ErrorBody {
  code: AnyErrorCode;
  message: string;
  /** Machine-readable facts about the failure, e.g. `{ bytes, limit }` for `payload_too_large`. */
  details?: Record<string, unknown>;
}

/** HTTP status of each shared code. A total table, so a new code cannot go unmapped. */
const SHARED_STATUS: Readonly<Record<ErrorCode, number>> = {
  invalid_session_id: 400,
  invalid_message_id: 400,
  invalid_consumer_id: 400,
  invalid_payload: 400,
  payload_too_large: 413,
  batch_too_large: 413,
  invalid_offset: 400,
  invalid_options: 400,
  session_not_found: 404,
  session_ended: 410,
  session_exists: 409,
  session_completed: 409,
  epoch_mismatch: 409,
  ack_beyond_head: 409,
  replaced: 409,
  superseded: 409,
  token_missing: 401,
  token_invalid: 401,
  token_expired: 401,
  token_not_yet_valid: 401,
  token_wrong_session: 403,
  unsupported_protocol: 400,
  invalid_handshake: 400,
  origin_not_allowed: 403,
  invalid_ack: 400,
  server_draining: 503,
  rate_limited: 429,
  unknown_event: 400,
  handshake_timeout: 408,
  too_many_connections: 429,
  redis_unavailable: 503,
  timeout: 503,
  storage_full: 503,
  replication_timeout: 503,
};

const API_STATUS: Readonly<Record<ApiErrorCode, number>> = {
  unauthorized: 401,
  invalid_json: 400,
  body_too_large: 413,
  unsupported_media_type: 415,
  not_found: 404,
  invalid_request: 400,
  not_ready: 503,
  internal_error: 500,
};

/** Codes after which the same request may succeed later: answered with `Retry-After`. */
const RETRY_AFTER_SECONDS: Partial<Record<AnyErrorCode, number>> = {
  redis_unavailable: 1,
  timeout: 1,
  storage_full: 1,
  replication_timeout: 1,
  server_draining: 1,
  rate_limited: 1,
  not_ready: 1,
};

export function statusOf(code: AnyErrorCode): number {
  return (
    (SHARED_STATUS as Record<string, number>)[code] ?? (API_STATUS as Record<string, number>)[code] ?? 500
  );
}

export function retryAfterSeconds(code: AnyErrorCode): number | undefined {
  return RETRY_AFTER_SECONDS[code];
}

/** An error answered with `{ code, message }` and the code's HTTP status. */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly code: AnyErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** Fastify's own errors that a client caused, by Fastify error code. */
const FASTIFY_ERRORS: Readonly<Record<string, ApiErrorCode>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: ApiErrorCode.InvalidJson,
  FST_ERR_CTP_EMPTY_JSON_BODY: ApiErrorCode.InvalidJson,
  FST_ERR_CTP_BODY_TOO_LARGE: ApiErrorCode.BodyTooLarge,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ApiErrorCode.UnsupportedMediaType,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ApiErrorCode.InvalidRequest,
};

/**
 * What any thrown value becomes on the wire. `isBug` is true for failures the client did not
 * cause; they are logged, and their text (which may describe internals) is not sent.
 */
export function toErrorBody(error: unknown): { status: number; body: ErrorBody; isBug: boolean } {
  if (error instanceof ApiError || isHoldfastError(error)) {
    const body: ErrorBody = { code: error.code, message: error.message };
    if (error.details !== undefined) body.details = { ...error.details };
    return { status: statusOf(error.code), body, isBug: false };
  }
  const fastify = error as { code?: unknown; statusCode?: unknown; message?: unknown };
  const known = typeof fastify.code === 'string' ? FASTIFY_ERRORS[fastify.code] : undefined;
  const message = typeof fastify.message === 'string' ? fastify.message : 'bad request';
  if (known) return { status: statusOf(known), body: { code: known, message }, isBug: false };
  // Any other client error Fastify detected (e.g. a malformed URL) keeps its 4xx status.
  if (typeof fastify.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    return {
      status: fastify.statusCode,
      body: { code: ApiErrorCode.InvalidRequest, message },
      isBug: false,
    };
  }
  return {
    status: 500,
    body: { code: ApiErrorCode.InternalError, message: 'internal error; the API logged the details' },
    isBug: true,
  };
}
