import {
  DEFAULT_CONSUMER_ID,
  ErrorCode,
  HoldfastError,
  SUPPORTED_PROTOCOL_VERSIONS,
  assertSessionId,
  isOffset,
  type LogPosition,
} from '@holdfast/protocol';

/** A handshake that passed validation (the token is verified separately). */
export interface ParsedHandshake {
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
 * Validate Socket.IO `auth` as sent by the client. Only `auth` is read: a token in the query
 * string would end up in proxy and server logs, so it is never looked at.
 */
export function parseHandshake(auth: unknown): ParsedHandshake {
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
  return { sessionId, token, version: v, position: parsePosition(position) };
}

function parsePosition(position: unknown): LogPosition | undefined {
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

/** The consumer a verified token names, or the default one. */
export function consumerOf(tokenConsumerId: string | undefined): string {
  return tokenConsumerId ?? DEFAULT_CONSUMER_ID;
}
