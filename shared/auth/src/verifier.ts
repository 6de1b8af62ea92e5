import { webcrypto, type KeyObject } from 'node:crypto';
import { errors, jwtVerify, type JWTPayload } from 'jose';
import { ErrorCode, HoldfastError } from '@holdfast/protocol';
import { readClaims } from './claims.js';
import { DEFAULT_CLOCK_TOLERANCE_SECONDS, MAX_CLOCK_TOLERANCE_SECONDS } from './constants.js';
import { fromJoseError } from './jose-errors.js';
import { selectKeys, type VerificationKey } from './key-selection.js';
import { invalidOptions, isRecord, readClaimOptions, typeName } from './options.js';
import { quoteHeaderValue, readTokenHeader, type TokenHeader } from './token-header.js';
import type { ExpectedClaims, TokenVerifier, VerifiedToken, VerifierConfig } from './types.js';
import { readVerificationKeys } from './verifier-keys.js';

function readClockTolerance(value: unknown): number {
  if (value === undefined) return DEFAULT_CLOCK_TOLERANCE_SECONDS;
  if (typeof value !== 'number' || !(value >= 0 && value <= MAX_CLOCK_TOLERANCE_SECONDS)) {
    throw invalidOptions(
      `clockToleranceSeconds must be a number from 0 to ${MAX_CLOCK_TOLERANCE_SECONDS}, got ${typeof value === 'number' ? String(value) : typeName(value)}`,
    );
  }
  return value;
}

function noKeyFor(header: TokenHeader, keys: readonly VerificationKey[]): HoldfastError {
  const accepted = [...new Set(keys.map((key) => key.algorithm))];
  let message: string;
  if (header.alg.toLowerCase() === 'none') {
    message = 'unsigned tokens (alg "none") are not accepted';
  } else if (!accepted.some((algorithm) => algorithm === header.alg)) {
    message = `token algorithm ${quoteHeaderValue(header.alg)} is not accepted (accepted: ${accepted.join(', ')})`;
  } else {
    message = `token key id ${quoteHeaderValue(header.kid ?? '')} matches no configured ${header.alg} key`;
  }
  return new HoldfastError(ErrorCode.TokenInvalid, message);
}

export function createTokenVerifier(config: VerifierConfig): TokenVerifier {
  if (!isRecord(config))
    throw invalidOptions(`token verifier config must be an object, got ${typeName(config)}`);
  const claimOptions = readClaimOptions(config);
  const clockTolerance = readClockTolerance(config['clockToleranceSeconds']);
  const keys = readVerificationKeys(config);
  // jose imports a raw HS256 secret into a CryptoKey on every verify: 30 of the 69 ms of token
  // checks in an edge profile of a 200-client resume storm. Each secret is imported once instead.
  const prepared = new Map<VerificationKey, Promise<webcrypto.CryptoKey>>();
  const keyFor = (candidate: VerificationKey): Promise<webcrypto.CryptoKey> | KeyObject => {
    if (!(candidate.key instanceof Uint8Array)) return candidate.key;
    let key = prepared.get(candidate);
    if (!key) {
      key = webcrypto.subtle.importKey('raw', candidate.key, { name: 'HMAC', hash: 'SHA-256' }, false, [
        'verify',
      ]);
      prepared.set(candidate, key);
    }
    return key;
  };

  async function verifySignature(header: TokenHeader): Promise<JWTPayload> {
    const candidates = selectKeys(keys, header.alg, header.kid);
    if (candidates.length === 0) throw noKeyFor(header, keys);
    for (const candidate of candidates) {
      try {
        const { payload } = await jwtVerify(header.token, await keyFor(candidate), {
          // One algorithm per key: the pin that makes algorithm confusion impossible.
          algorithms: [candidate.algorithm],
          audience: claimOptions.audience,
          issuer: claimOptions.issuer,
          clockTolerance,
          requiredClaims: ['exp'],
        });
        return payload;
      } catch (error) {
        // Only a signature mismatch means another candidate may fit. Claim errors come after
        // the signature checked out, so they are final.
        if (error instanceof errors.JWSSignatureVerificationFailed) continue;
        throw fromJoseError(error, claimOptions);
      }
    }
    throw new HoldfastError(ErrorCode.TokenInvalid, 'token signature does not match any configured key');
  }

  return {
    async verify(token: unknown, expected?: ExpectedClaims): Promise<VerifiedToken> {
      const header = readTokenHeader(token);
      const verified = readClaims(await verifySignature(header));
      if (expected?.sessionId !== undefined && expected.sessionId !== verified.sessionId) {
        throw new HoldfastError(
          ErrorCode.TokenWrongSession,
          `token is for session "${verified.sessionId}", not the one requested`,
        );
      }
      return verified;
    },
  };
}
