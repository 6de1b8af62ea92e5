import type { JWTPayload } from 'jose';
import { assertConsumerId, assertSessionId, ErrorCode, HoldfastError } from '@holdfast/protocol';
import type { VerifiedToken } from './types.js';

function claimError(claim: string, error: unknown): HoldfastError {
  const reason = error instanceof Error ? error.message : String(error);
  return new HoldfastError(ErrorCode.TokenInvalid, `token claim "${claim}" is invalid: ${reason}`, {
    cause: error,
  });
}

function readSessionId(value: unknown): string {
  try {
    assertSessionId(value);
    return value;
  } catch (error) {
    throw claimError('sid', error);
  }
}

function readConsumerId(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  try {
    assertConsumerId(value);
    return value;
  } catch (error) {
    throw claimError('cid', error);
  }
}

/**
 * Holdfast's own claims, read only from a payload whose signature, audience, issuer and
 * times jose has already checked. The ids become parts of Redis keys, so a signed but
 * malformed id is still refused.
 */
export function readClaims(payload: JWTPayload): VerifiedToken {
  const sessionId = readSessionId(payload['sid']);
  const consumerId = readConsumerId(payload['cid']);
  // jose has already required exp and checked that it is a number; this narrows the type.
  if (typeof payload.exp !== 'number') {
    throw new HoldfastError(ErrorCode.TokenInvalid, 'token claim "exp" is missing or not a number');
  }
  return { sessionId, consumerId, expiresAt: Math.floor(payload.exp * 1000) };
}
