import { performance } from 'node:perf_hooks';

/**
 * A token bucket: `ratePerSecond` sustained, bursts up to `burst`. Used per connection so one
 * flooding client costs the edge a counter, not the latency of everyone else.
 */
export class RateLimiter {
  private tokens: number;
  private updatedAt = performance.now();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  /** Take one token: 0 when allowed, else how many ms until one is available. */
  take(): number {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) * this.ratePerSecond) / 1000);
    this.updatedAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSecond);
  }
}
