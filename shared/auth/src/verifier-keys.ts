import { hmacKey, isAsymmetricAlgorithm, publicKey } from './keys.js';
import type { VerificationKey } from './key-selection.js';
import { invalidOptions, isRecord, readKeyId, typeName } from './options.js';

function readList(value: unknown, option: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalidOptions(`${option} must be an array, got ${typeName(value)}`);
  return value;
}

export function readVerificationKeys(config: Record<string, unknown>): VerificationKey[] {
  const keys: VerificationKey[] = readList(config['hs256Secrets'], 'hs256Secrets').map((secret, i) => ({
    algorithm: 'HS256',
    key: hmacKey(secret, `hs256Secrets[${i}]`),
    keyId: undefined,
  }));
  readList(config['publicKeys'], 'publicKeys').forEach((entry, i) => {
    const option = `publicKeys[${i}]`;
    if (!isRecord(entry)) throw invalidOptions(`${option} must be an object, got ${typeName(entry)}`);
    const { algorithm } = entry;
    if (!isAsymmetricAlgorithm(algorithm)) {
      throw invalidOptions(`${option}.algorithm must be one of RS256, ES256, EdDSA`);
    }
    keys.push({
      algorithm,
      key: publicKey(entry['publicKey'], algorithm, `${option}.publicKey`),
      keyId: readKeyId(entry['keyId'], `${option}.keyId`),
    });
  });
  if (keys.length === 0) {
    throw invalidOptions('token verifier needs at least one key in hs256Secrets or publicKeys');
  }
  return keys;
}
