import { performance } from 'node:perf_hooks';

/**
 * Tokens accrue at `ratePerSecond` up to `capacity`; sending n bytes spends n tokens.
 *
 * The capacity is the largest burst the bucket allows after an idle spell, so a small capacity (a
 * fraction of a second's worth) gives a smooth throttle and a large one lets whole messages through at
 * once. Refilling from the elapsed time, rather than counting timer ticks, keeps the long-run rate exact
 * even when timers fire late.
 */
export class TokenBucket {
  readonly ratePerSecond: number;
  readonly capacity: number;
  readonly #now: () => number;
  #tokens: number;
  #refilledAt: number;

  constructor(ratePerSecond: number, capacity: number, now: () => number = () => performance.now()) {
    if (!Number.isFinite(ratePerSecond) || ratePerSecond <= 0) {
      throw new RangeError(`TokenBucket: rate must be a positive number, got ${ratePerSecond}`);
    }
    if (!Number.isFinite(capacity) || capacity < 1) {
      throw new RangeError(`TokenBucket: capacity must be at least 1, got ${capacity}`);
    }
    this.ratePerSecond = ratePerSecond;
    this.capacity = capacity;
    this.#now = now;
    this.#tokens = capacity;
    this.#refilledAt = now();
  }

  available(): number {
    this.#refill();
    return this.#tokens;
  }

  /** Spends `n` tokens; callers check `available()` first, because the bucket never lends. */
  take(n: number): void {
    this.#refill();
    if (n > this.#tokens) {
      throw new RangeError(`TokenBucket: cannot take ${n} tokens, only ${this.#tokens} available`);
    }
    this.#tokens -= n;
  }

  /** Milliseconds until `n` tokens are available (0 if they already are); `n` is capped at the capacity. */
  msUntil(n: number): number {
    this.#refill();
    const missing = Math.min(n, this.capacity) - this.#tokens;
    return missing <= 0 ? 0 : (missing / this.ratePerSecond) * 1000;
  }

  #refill(): void {
    const now = this.#now();
    const elapsedSeconds = (now - this.#refilledAt) / 1000;
    this.#refilledAt = now;
    this.#tokens = Math.min(this.capacity, this.#tokens + elapsedSeconds * this.ratePerSecond);
  }
}
