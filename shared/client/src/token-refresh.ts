/**
 * When to refresh a live connection's token: `marginMs` before it expires, but not before half
 * of its remaining lifetime has passed — so a token that lives less than twice the margin is
 * refreshed halfway instead of at once, and a fresh token is never refreshed in a tight loop.
 */
export function refreshDelay(expiresAt: number, now: number, marginMs: number): number {
  const remaining = expiresAt - now;
  if (remaining <= 0) return 0;
  // setTimeout fires at once for delays beyond 2^31-1 ms (~24.8 days).
  return Math.min(Math.max(remaining - marginMs, remaining / 2), 2 ** 31 - 1);
}

/** True when a token expiring at `expiresAt` should be replaced before it is used to connect. */
export function expiresSoon(expiresAt: number | undefined, now: number, marginMs: number): boolean {
  return expiresAt !== undefined && expiresAt - now <= marginMs;
}
