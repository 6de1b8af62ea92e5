/**
 * Why it exists: the handshake's `auth` (the client's hello) is the first thing an edge reads
 * from a stranger; its shape and the protocol versions spoken are the protocol's business, so
 * the rules live here, beside the event types, and the edge only calls them.
 */
import { ErrorCode } from '../error-codes.js';
import type { ConnectionAttempt, LogPosition, StartFrom } from '../events.js';
import { HoldfastError } from '../holdfast-error.js';
import { assertSessionId, isInstanceId, isOffset } from '../identifiers.js';
import {
  ATTEMPT_ORDER_SINCE_VERSION,
  EXPLICIT_START_SINCE_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '../version.js';

/** A handshake that passed validation (the token is verified separately, by @holdfast/auth). */
export interface ValidHandshake {
  readonly sessionId: string;
  readonly token: string;
  /** The protocol version the client speaks (1 has no `complete` event). */
  readonly version: number;
  /** Where the client asks to start: after its own position, from the oldest message, or (undefined) after its stored ack. */
  readonly position: LogPosition | StartFrom | undefined;
  /** Which attempt of which client instance this is (protocol 4); undefined: unordered, as before. */
  readonly attempt: ConnectionAttempt | undefined;
}

function fail(code: ErrorCode, message: string): never {
  throw new HoldfastError(code, message);
}

/**
 * Validate Socket.IO `auth` as sent by the client; throws a HoldfastError (`invalid_handshake`,
 * `unsupported_protocol`, `invalid_session_id`, `token_missing`, `token_invalid`,
 * `invalid_offset`). Only `auth` is read: a token in the query string would end up in proxy and
 * server logs, so it is never looked at.
 */
export function validateHandshakeAuth(auth: unknown): ValidHandshake {
  if (typeof auth !== 'object' || auth === null || Array.isArray(auth)) {
    fail(
      ErrorCode.InvalidHandshake,
      "handshake auth must be an object { v, sessionId, token, position? } or { v, sessionId, token, start: 'oldest' }",
    );
  }
  const { v, sessionId, token, position, start, instance, attempt } = auth as Record<string, unknown>;
  if (typeof v !== 'number' || !SUPPORTED_PROTOCOL_VERSIONS.includes(v)) {
    fail(
      ErrorCode.UnsupportedProtocol,
      `protocol version ${JSON.stringify(v) ?? 'undefined'} is not supported; this edge speaks ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`,
    );
  }
  assertSessionId(sessionId);
  if (token === undefined || token === null || token === '') {
    fail(ErrorCode.TokenMissing, 'handshake auth has no token');
  }
  if (typeof token !== 'string') fail(ErrorCode.TokenInvalid, 'token must be a string');
  const from = validateStart(start, v);
  if (from !== undefined && position !== undefined && position !== null) {
    fail(ErrorCode.InvalidHandshake, 'handshake auth has both start and position; send one of them');
  }
  return {
    sessionId,
    token,
    version: v,
    position: from ?? validatePosition(position),
    attempt: validateAttempt(instance, attempt, v),
  };
}

/** `instance` and `attempt` come together or not at all; absent, the claim is unordered (v1-v3). */
function validateAttempt(
  instance: unknown,
  attempt: unknown,
  version: number,
): ConnectionAttempt | undefined {
  const absent = (value: unknown): boolean => value === undefined || value === null;
  if (absent(instance) && absent(attempt)) return undefined;
  if (version < ATTEMPT_ORDER_SINCE_VERSION) {
    fail(
      ErrorCode.InvalidHandshake,
      `instance and attempt need protocol version ${ATTEMPT_ORDER_SINCE_VERSION}; this handshake says ${version}`,
    );
  }
  if (!isInstanceId(instance)) {
    fail(
      ErrorCode.InvalidHandshake,
      `instance must be 1-64 characters of A-Z a-z 0-9 _ - (a random id per client instance), got ${JSON.stringify(instance) ?? 'undefined'}`,
    );
  }
  if (typeof attempt !== 'number' || !Number.isSafeInteger(attempt) || attempt < 1) {
    fail(
      ErrorCode.InvalidHandshake,
      `attempt must be a positive safe integer, higher for each new connection attempt, got ${JSON.stringify(attempt) ?? 'undefined'}`,
    );
  }
  return { instance, attempt };
}

function validateStart(start: unknown, version: number): StartFrom | undefined {
  if (start === undefined || start === null) return undefined;
  if (version < EXPLICIT_START_SINCE_VERSION) {
    fail(
      ErrorCode.InvalidHandshake,
      `start needs protocol version ${EXPLICIT_START_SINCE_VERSION}; this handshake says ${version}`,
    );
  }
  if (start !== 'oldest') {
    fail(ErrorCode.InvalidHandshake, `start must be 'oldest', got ${JSON.stringify(start) ?? 'undefined'}`);
  }
  return start;
}

function validatePosition(position: unknown): LogPosition | undefined {
  if (position === undefined || position === null) return undefined;
  if (typeof position !== 'object' || Array.isArray(position)) {
    fail(ErrorCode.InvalidOffset, 'position must be an object { epoch, offset }');
  }
  const { epoch, offset } = position as Record<string, unknown>;
  if (typeof epoch !== 'string' || epoch.length === 0 || epoch.length > 64) {
    fail(
      ErrorCode.InvalidOffset,
      'position.epoch must be the epoch string from a previous hello, batch or reset',
    );
  }
  if (!isOffset(offset)) {
    fail(
      ErrorCode.InvalidOffset,
      `position.offset must be a non-negative safe integer, got ${JSON.stringify(offset) ?? 'undefined'}`,
    );
  }
  return { epoch, offset };
}
