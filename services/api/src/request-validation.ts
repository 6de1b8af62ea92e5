import type { z } from 'zod';
import { ErrorCode } from '@holdfast/protocol';
import { ApiError, ApiErrorCode, type AnyErrorCode } from './api-errors.js';

/**
 * The code a validation failure is answered with, by the name of the field that failed. The
 * names are the same in every route, and the codes are the ones the producer library throws
 * for the same mistake, so a client handles both alike. Failures of no listed field (a missing
 * body, an unknown field, a wrong type at the top) are `invalid_request`.
 */
const FIELD_CODES: Readonly<Record<string, ErrorCode>> = {
  sessionId: ErrorCode.InvalidSessionId,
  consumerId: ErrorCode.InvalidConsumerId,
  id: ErrorCode.InvalidMessageId,
  'idempotency-key': ErrorCode.InvalidMessageId,
  data: ErrorCode.InvalidPayload,
  from: ErrorCode.InvalidOffset,
  limit: ErrorCode.InvalidOptions,
  retention: ErrorCode.InvalidOptions,
  maxMessages: ErrorCode.InvalidOptions,
  maxAgeMs: ErrorCode.InvalidOptions,
  idleTtlMs: ErrorCode.InvalidOptions,
  tokenTtlSeconds: ErrorCode.InvalidOptions,
  ttlSeconds: ErrorCode.InvalidOptions,
};

/** The innermost named field of the path that has a code of its own. */
function codeOf(path: readonly PropertyKey[]): AnyErrorCode {
  for (let i = path.length - 1; i >= 0; i--) {
    const key = path[i];
    const code = typeof key === 'string' ? FIELD_CODES[key] : undefined;
    if (code) return code;
  }
  return ApiErrorCode.InvalidRequest;
}

function describeIssue(part: string, issue: z.core.$ZodIssue): string {
  const where = [part, ...issue.path.map(String)].join('.');
  const missing = issue.code === 'invalid_type' && issue.expected === 'nonoptional';
  return `${where}: ${missing ? 'is required' : issue.message}`;
}

/**
 * Validate one part of a request (`params`, `query`, `headers`, `body`) and return what the
 * schema parsed it to. Throws an ApiError whose code comes from the first failing field and
 * whose message lists the failures.
 */
export function parseRequestPart<S extends z.ZodType>(
  part: string,
  schema: S | undefined,
  value: unknown,
): z.output<S> | undefined {
  if (schema === undefined) return undefined;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const [first] = result.error.issues;
  const messages = result.error.issues.slice(0, 5).map((issue) => describeIssue(part, issue));
  throw new ApiError(first ? codeOf(first.path) : ApiErrorCode.InvalidRequest, messages.join('; '));
}
