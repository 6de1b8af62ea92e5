import { randomBytes } from 'node:crypto';

/** 32 random bytes, base64url: an HS256 secret for the all-in-one dev mode. */
export function generateDevSecret(): string {
  return randomBytes(32).toString('base64url');
}
