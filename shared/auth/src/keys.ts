import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { MIN_HS256_SECRET_BYTES } from './constants.js';
import { invalidOptions, typeName } from './options.js';
import type { AsymmetricAlgorithm } from './types.js';

const ASYMMETRIC_ALGORITHMS: readonly AsymmetricAlgorithm[] = ['RS256', 'ES256', 'EdDSA'];

export function isAsymmetricAlgorithm(value: unknown): value is AsymmetricAlgorithm {
  return ASYMMETRIC_ALGORITHMS.includes(value as AsymmetricAlgorithm);
}

const encoder = new TextEncoder();

export function hmacKey(secret: unknown, option: string): Uint8Array {
  if (typeof secret !== 'string') {
    throw invalidOptions(
      `${option} must be a string of at least ${MIN_HS256_SECRET_BYTES} bytes, got ${typeName(secret)}`,
    );
  }
  const bytes = encoder.encode(secret);
  if (bytes.length < MIN_HS256_SECRET_BYTES) {
    throw invalidOptions(
      `${option} must be at least ${MIN_HS256_SECRET_BYTES} bytes, got ${bytes.length}; ` +
        'generateDevSecret() or `openssl rand -base64 32` makes one',
    );
  }
  return bytes;
}

// Checked here, not left to jose at first use, so a mismatched key fails at startup rather
// than on the first client.
function keyMatches(key: KeyObject, algorithm: AsymmetricAlgorithm): boolean {
  switch (algorithm) {
    case 'RS256':
      return key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048;
    case 'ES256':
      return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
    case 'EdDSA':
      return key.asymmetricKeyType === 'ed25519';
  }
}

const EXPECTED_KEY: Readonly<Record<AsymmetricAlgorithm, string>> = {
  RS256: 'an RSA key of at least 2048 bits',
  ES256: 'an EC P-256 key',
  EdDSA: 'an Ed25519 key',
};

function describeKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails;
  const size = details?.modulusLength ?? details?.namedCurve;
  return `${key.asymmetricKeyType ?? 'unknown'}${size === undefined ? '' : ` (${size})`}`;
}

function checkKey(key: KeyObject, algorithm: AsymmetricAlgorithm, option: string): KeyObject {
  if (!keyMatches(key, algorithm)) {
    throw invalidOptions(
      `${option} must be ${EXPECTED_KEY[algorithm]} for ${algorithm}, got ${describeKey(key)}`,
    );
  }
  return key;
}

export function privateKey(pem: unknown, algorithm: AsymmetricAlgorithm, option: string): KeyObject {
  if (typeof pem !== 'string' || pem.length === 0) {
    throw invalidOptions(`${option} must be a PKCS#8 PEM string, got ${typeName(pem)}`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    // The parser's message never contains key material, but the PEM itself must not be echoed.
    throw invalidOptions(`${option} is not a readable PEM private key`, error);
  }
  return checkKey(key, algorithm, option);
}

export function publicKey(pem: unknown, algorithm: AsymmetricAlgorithm, option: string): KeyObject {
  if (typeof pem !== 'string' || pem.length === 0) {
    throw invalidOptions(`${option} must be an SPKI PEM string, got ${typeName(pem)}`);
  }
  // createPublicKey would happily derive a public key from a private one; a private key in a
  // verifier's config means it was copied somewhere it should not be.
  if (pem.includes('PRIVATE KEY')) {
    throw invalidOptions(`${option} is a private key; give verifiers only the public key (SPKI PEM)`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    throw invalidOptions(`${option} is not a readable PEM public key`, error);
  }
  return checkKey(key, algorithm, option);
}
