import { errors } from 'jose';
import { ErrorCode, HoldfastError } from '@holdfast/protocol';
import type { ClaimOptions } from './options.js';

function epochMs(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? Math.floor(value * 1000) : undefined;
}

function claimMessage(error: errors.JWTClaimValidationFailed, expected: ClaimOptions): string {
  const { claim, reason } = error;
  if (reason === 'missing') return `token has no "${claim}" claim`;
  if (claim === 'aud') return `token audience does not include ${JSON.stringify(expected.audience)}`;
  if (claim === 'iss') return `token issuer is not ${JSON.stringify(expected.issuer)}`;
  return `token is invalid: ${error.message}`;
}

/**
 * Translates what jose throws into the codes clients branch on. jose's messages name claims
 * and structures, never the token's content, so they are safe to pass on.
 */
export function fromJoseError(error: unknown, expected: ClaimOptions): HoldfastError {
  if (error instanceof errors.JWTExpired) {
    const expiredAt = epochMs(error.payload.exp);
    const when = expiredAt === undefined ? '' : ` at ${new Date(expiredAt).toISOString()}`;
    return new HoldfastError(ErrorCode.TokenExpired, `token expired${when}; get a fresh token`, {
      cause: error,
      details: { expiredAt },
    });
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf' && error.reason === 'check_failed') {
      const notBefore = epochMs(error.payload.nbf);
      const when = notBefore === undefined ? '' : ` until ${new Date(notBefore).toISOString()}`;
      return new HoldfastError(ErrorCode.TokenNotYetValid, `token is not valid${when}`, {
        cause: error,
        details: { notBefore },
      });
    }
    return new HoldfastError(ErrorCode.TokenInvalid, claimMessage(error, expected), { cause: error });
  }
  if (error instanceof errors.JOSEError) {
    return new HoldfastError(ErrorCode.TokenInvalid, `token is malformed: ${error.message}`, {
      cause: error,
    });
  }
  return new HoldfastError(ErrorCode.TokenInvalid, 'token could not be verified', { cause: error });
}
