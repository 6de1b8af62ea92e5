import type { KeyObject } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import { assertConsumerId, assertSessionId } from '@holdfast/protocol';
import { DEFAULT_TOKEN_TTL_SECONDS, MAX_TOKEN_TTL_SECONDS } from './constants.js';
import { hmacKey, isAsymmetricAlgorithm, privateKey } from './keys.js';
import { invalidOptions, isRecord, readClaimOptions, readKeyId, typeName } from './options.js';
import type { IssueInput, IssuedToken, IssuerConfig, TokenAlgorithm, TokenIssuer } from './types.js';

interface SigningKey {
  algorithm: TokenAlgorithm;
  key: Uint8Array | KeyObject;
  keyId: string | undefined;
}

function readSigningKey(config: Record<string, unknown>): SigningKey {
  const { algorithm } = config;
  if (algorithm === 'HS256') {
    return { algorithm, key: hmacKey(config['secret'], 'secret'), keyId: undefined };
  }
  if (isAsymmetricAlgorithm(algorithm)) {
    return {
      algorithm,
      key: privateKey(config['privateKey'], algorithm, 'privateKey'),
      keyId: readKeyId(config['keyId'], 'keyId'),
    };
  }
  throw invalidOptions(
    `algorithm must be one of HS256, RS256, ES256, EdDSA, got ${typeof algorithm === 'string' ? JSON.stringify(algorithm) : typeName(algorithm)}`,
  );
}

function readTtlSeconds(value: unknown): number {
  if (value === undefined) return DEFAULT_TOKEN_TTL_SECONDS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_TOKEN_TTL_SECONDS) {
    throw invalidOptions(
      `ttlSeconds must be an integer from 1 to ${MAX_TOKEN_TTL_SECONDS} (30 days), got ${typeof value === 'number' ? String(value) : typeName(value)}`,
    );
  }
  return value;
}

function readNotBefore(value: unknown, exp: number): number | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw invalidOptions(`notBefore must be a valid Date, got ${typeName(value)}`);
  }
  const nbf = Math.floor(value.getTime() / 1000);
  if (nbf >= exp) {
    throw invalidOptions('notBefore must be before the token expires (now + ttlSeconds)');
  }
  return nbf;
}

export function createTokenIssuer(config: IssuerConfig): TokenIssuer {
  if (!isRecord(config))
    throw invalidOptions(`token issuer config must be an object, got ${typeName(config)}`);
  const { audience, issuer } = readClaimOptions(config);
  const signer = readSigningKey(config);

  return {
    async issue(input: IssueInput): Promise<IssuedToken> {
      if (!isRecord(input)) throw invalidOptions(`issue() takes { sessionId, ... }, got ${typeName(input)}`);
      const { sessionId, consumerId } = input;
      assertSessionId(sessionId);
      if (consumerId !== undefined) assertConsumerId(consumerId);
      const iat = Math.floor(Date.now() / 1000);
      const exp = iat + readTtlSeconds(input.ttlSeconds);
      const nbf = readNotBefore(input.notBefore, exp);

      const claims: JWTPayload = { sid: sessionId, aud: audience, iat, exp };
      if (consumerId !== undefined) claims['cid'] = consumerId;
      if (nbf !== undefined) claims.nbf = nbf;
      if (issuer !== undefined) claims.iss = issuer;

      const token = await new SignJWT(claims)
        .setProtectedHeader({
          alg: signer.algorithm,
          typ: 'JWT',
          ...(signer.keyId === undefined ? {} : { kid: signer.keyId }),
        })
        .sign(signer.key);
      return { token, expiresAt: exp * 1000 };
    },
  };
}
