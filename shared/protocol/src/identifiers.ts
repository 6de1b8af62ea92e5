import { ErrorCode } from './error-codes.js';
import { HoldfastError } from './holdfast-error.js';

/**
 * Identifier formats. They are strict on purpose: ids become parts of Redis keys and hash
 * fields, so characters with meaning there (`{` `}` for cluster hash tags, `:` as the key
 * separator, `*` for patterns, whitespace, control characters) are never accepted.
 */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]+$/;
export const CONSUMER_ID_PATTERN = /^[A-Za-z0-9_-]+$/;
/** Message ids may also contain dots, so derived ids like `job-42.a2.i17` read naturally. */
export const MESSAGE_ID_PATTERN = /^[A-Za-z0-9_.-]+$/;

export const SESSION_ID_MAX_LENGTH = 64;
export const CONSUMER_ID_MAX_LENGTH = 64;
export const MESSAGE_ID_MAX_LENGTH = 128;
/** The consumer an ack or resume position belongs to when the client names none. */
export const DEFAULT_CONSUMER_ID = 'default';

function describe(value: unknown): string {
  if (typeof value !== 'string') return `a ${value === null ? 'null' : typeof value}`;
  return value.length > 40 ? `"${value.slice(0, 40)}…" (${value.length} characters)` : JSON.stringify(value);
}

function check(value: unknown, pattern: RegExp, maxLength: number): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= maxLength && pattern.test(value);
}

/** 1-64 characters of `A-Z a-z 0-9 _ -` (SESSION_ID_PATTERN, SESSION_ID_MAX_LENGTH). */
export function isSessionId(value: unknown): value is string {
  return check(value, SESSION_ID_PATTERN, SESSION_ID_MAX_LENGTH);
}

/** 1-64 characters of `A-Z a-z 0-9 _ -` (CONSUMER_ID_PATTERN, CONSUMER_ID_MAX_LENGTH). */
export function isConsumerId(value: unknown): value is string {
  return check(value, CONSUMER_ID_PATTERN, CONSUMER_ID_MAX_LENGTH);
}

/**
 * A client instance id (protocol 4 handshakes): 1-64 characters of `A-Z a-z 0-9 _ -`, like a
 * consumer id. The lease script stores it in a space-separated hash value.
 */
export function isInstanceId(value: unknown): value is string {
  return check(value, CONSUMER_ID_PATTERN, CONSUMER_ID_MAX_LENGTH);
}

/** 1-128 characters of `A-Z a-z 0-9 _ . -` (MESSAGE_ID_PATTERN, MESSAGE_ID_MAX_LENGTH). */
export function isMessageId(value: unknown): value is string {
  return check(value, MESSAGE_ID_PATTERN, MESSAGE_ID_MAX_LENGTH);
}

export function assertSessionId(value: unknown): asserts value is string {
  if (!isSessionId(value)) {
    throw new HoldfastError(
      ErrorCode.InvalidSessionId,
      `session id must be 1-${SESSION_ID_MAX_LENGTH} characters of A-Z a-z 0-9 _ -, got ${describe(value)}`,
    );
  }
}

export function assertConsumerId(value: unknown): asserts value is string {
  if (!isConsumerId(value)) {
    throw new HoldfastError(
      ErrorCode.InvalidConsumerId,
      `consumer id must be 1-${CONSUMER_ID_MAX_LENGTH} characters of A-Z a-z 0-9 _ -, got ${describe(value)}`,
    );
  }
}

export function assertMessageId(value: unknown): asserts value is string {
  if (!isMessageId(value)) {
    throw new HoldfastError(
      ErrorCode.InvalidMessageId,
      `message id must be 1-${MESSAGE_ID_MAX_LENGTH} characters of A-Z a-z 0-9 _ . -, got ${describe(value)}`,
    );
  }
}

/** Offsets are positive safe integers; 0 means "before the first message". */
export function isOffset(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

export function assertOffset(value: unknown, what = 'offset'): asserts value is number {
  if (!isOffset(value)) {
    throw new HoldfastError(
      ErrorCode.InvalidOffset,
      `${what} must be a non-negative safe integer, got ${typeof value === 'number' ? String(value) : describe(value)}`,
    );
  }
}

/** Prefixes of Redis keys: characters with no meaning to Redis (no `{`, `}`, `:`, `*`, spaces). */
export const KEY_PREFIX_PATTERN = /^[A-Za-z0-9_.-]{1,32}$/;
