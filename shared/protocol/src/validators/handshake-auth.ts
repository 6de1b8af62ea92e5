/**
 * Why it exists: the handshake's `auth` (the client's hello) is the first thing an edge reads
 * from a stranger; its shape and the protocol versions spoken are the protocol's business, so
 * the rules live here, beside the event types, and the edge only calls them.
 */
import { ErrorCode } from '../error-codes.js';
import type { LogPosition } from '../events.js';
import { HoldfastError } from '../holdfast-error.js';
import { assertSessionId, isOffset } from '../identifiers.js';
import { SUPPORTED_PROTOCOL_VERSIONS } from '../version.js';

/** A handshake that passed validation (the token is verified separately, by @holdfast/auth). */
export interface ValidHandshake {
  readonly sessionId: string;
  readonly token: string;
  /** The protocol version the client speaks (1 has no `complete` event). */
  readonly version: number;
  readonly position: LogPosition | undefined;
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
    fail(ErrorCode.InvalidHandshake, 'handshake auth must be an object { v, sessionId, token, position? }');
  }
  const { v, sessionId, token, position } = auth as Record<string, unknown>;
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
  return { sessionId, token, version: v, position: validatePosition(position) };
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
