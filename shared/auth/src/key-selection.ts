import type { KeyObject } from 'node:crypto';
import type { TokenAlgorithm } from './types.js';

export interface VerificationKey {
  algorithm: TokenAlgorithm;
  key: Uint8Array | KeyObject;
  keyId: string | undefined;
}

/**
 * The configured keys a token may be checked against. The header only narrows the choice:
 * its `alg` must equal the key's own algorithm (so `none`, and HS256 signed with a public
 * key's PEM, find nothing), and a `kid` naming a configured key selects that key alone.
 * A `kid` naming none falls back to the keys configured without an id.
 */
export function selectKeys(
  keys: readonly VerificationKey[],
  alg: string,
  kid: string | undefined,
): VerificationKey[] {
  const sameAlgorithm = keys.filter((key) => key.algorithm === alg);
  if (kid === undefined) return sameAlgorithm;
  const named = sameAlgorithm.filter((key) => key.keyId === kid);
  return named.length > 0 ? named : sameAlgorithm.filter((key) => key.keyId === undefined);
}
