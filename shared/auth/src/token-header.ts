import { decodeProtectedHeader } from 'jose';
import { ErrorCode, HoldfastError } from '@holdfast/protocol';
import { MAX_TOKEN_LENGTH } from './constants.js';

export interface TokenHeader {
  token: string;
  alg: string;
  kid: string | undefined;
}

function invalid(message: string, cause?: unknown): HoldfastError {
  return new HoldfastError(ErrorCode.TokenInvalid, message, { cause });
}

/** Header values are attacker-chosen; only short, plain ones are quoted back in messages. */
export function quoteHeaderValue(value: string): string {
  return /^[A-Za-z0-9_.-]{1,40}$/.test(value) ? JSON.stringify(value) : '(unprintable)';
}

/**
 * Reads the unauthenticated header of a presented token. Nothing in it is trusted: it only
 * picks which configured keys to try.
 */
export function readTokenHeader(token: unknown): TokenHeader {
  if (typeof token !== 'string' || token.length === 0) {
    throw new HoldfastError(ErrorCode.TokenMissing, 'no token: present the session token the API issued');
  }
  if (token.length > MAX_TOKEN_LENGTH) {
    throw invalid(`token is ${token.length} characters; at most ${MAX_TOKEN_LENGTH} are accepted`);
  }
  if (token.split('.').length !== 3) {
    throw invalid('token is not a signed JWT (three base64url parts separated by dots)');
  }
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch (error) {
    throw invalid('token header is not base64url-encoded JSON', error);
  }
  const { alg, kid } = header;
  if (typeof alg !== 'string' || alg.length === 0) throw invalid('token header has no "alg"');
  if (kid !== undefined && typeof kid !== 'string') throw invalid('token header "kid" is not a string');
  return { token, alg, kid };
}
