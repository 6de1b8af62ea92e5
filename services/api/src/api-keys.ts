import { createHash, timingSafeEqual } from 'node:crypto';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Checks `Authorization: Bearer <key>` against the configured keys. Keys are compared as
 * SHA-256 digests with `timingSafeEqual`, so neither the length nor the content of a key
 * leaks through response times, and every configured key is compared on every request,
 * so neither does which one matched. Several keys are valid at once, which is how a key
 * is rotated: add the new one, move clients over, remove the old one.
 */
export class ApiKeys {
  private readonly digests: readonly Buffer[];

  constructor(keys: readonly string[]) {
    if (keys.length === 0) throw new Error('at least one API key is required');
    this.digests = keys.map(digest);
  }

  /** True when the header carries one of the configured keys. */
  authorize(header: string | undefined): boolean {
    const match = header === undefined ? null : /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    const presented = digest(match?.[1] ?? '');
    let valid = false;
    for (const known of this.digests) valid = timingSafeEqual(presented, known) || valid;
    return valid && match !== null;
  }
}
