import { describe, expect, it } from 'vitest';
import { defaultRetryStrategy, exponentialBackoff } from '@holdfast/client';
import { expiresSoon, refreshDelay } from '../../shared/client/src/token-refresh.js';

describe('exponentialBackoff', () => {
  it('waits a random time below min(cap, base * 2^(attempt-1)) (full jitter)', () => {
    const highest = exponentialBackoff({ baseMs: 250, capMs: 30_000, random: () => 0.999999 });
    expect([1, 2, 3, 4, 5, 6, 7, 8, 100, 10_000].map((attempt) => highest(attempt))).toEqual([
      249, 499, 999, 1999, 3999, 7999, 15_999, 29_999, 29_999, 29_999,
    ]);
    const lowest = exponentialBackoff({ random: () => 0 });
    expect(lowest(1)).toBe(0);
    expect(lowest(50)).toBe(0);
  });

  it('spreads the default over the whole window and never stops', () => {
    const waits = Array.from({ length: 2000 }, () => defaultRetryStrategy(3) ?? -1);
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...waits)).toBeLessThan(1000);
    expect(new Set(waits).size).toBeGreaterThan(500);
    expect(defaultRetryStrategy(1_000_000)).not.toBeNull();
  });
});

describe('token refresh timing', () => {
  it('refreshes marginMs before expiry, but never before half the remaining lifetime', () => {
    const hour = 3_600_000;
    expect(refreshDelay(hour, 0, 60_000)).toBe(hour - 60_000);
    expect(refreshDelay(3000, 0, 2000)).toBe(1500); // a token shorter than twice the margin: halfway
    expect(refreshDelay(3000, 0, 60_000)).toBe(1500);
    expect(refreshDelay(1000, 2000, 500)).toBe(0); // already expired: at once
    expect(refreshDelay(Number.MAX_SAFE_INTEGER, 0, 0)).toBe(2 ** 31 - 1); // setTimeout's limit
  });

  it('replaces a token before connecting when it expires within the margin', () => {
    expect(expiresSoon(undefined, 0, 60_000)).toBe(false);
    expect(expiresSoon(100_000, 0, 60_000)).toBe(false);
    expect(expiresSoon(60_000, 0, 60_000)).toBe(true);
  });
});
