import type { HoldfastClientError } from './client-error.js';

/**
 * How long to wait before reconnection attempt `attempt` (1 for the first retry after a
 * connection was lost or refused), in milliseconds; `null` stops the session for good.
 * The session waits at least the `retryAfterMs` the edge asked for, whatever this returns.
 */
export type RetryStrategy = (attempt: number, lastError?: HoldfastClientError) => number | null;

export interface BackoffOptions {
  /** Ceiling of the first wait. @default 250 */
  baseMs?: number;
  /** Largest ceiling, however many attempts failed. @default 30_000 */
  capMs?: number;
  /** Source of randomness in [0, 1). @default Math.random */
  random?: () => number;
}

/**
 * Exponential backoff with full jitter: attempt n waits a uniformly random time in
 * [0, min(capMs, baseMs · 2^(n-1))). Full jitter spreads clients that lost the same edge at the
 * same moment over the whole window, so they do not all reconnect at once. Never stops.
 */
export function exponentialBackoff(options: BackoffOptions = {}): RetryStrategy {
  const { baseMs = 250, capMs = 30_000, random = Math.random } = options;
  return (attempt) => Math.floor(random() * Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1)));
}

/** The default: `exponentialBackoff()` (base 250 ms, cap 30 s, full jitter). */
export const defaultRetryStrategy: RetryStrategy = exponentialBackoff();

/**
 * The wait before the next attempt after `cause`, or null to stop for good: the strategy's
 * answer, never shorter than the `retryAfterMs` the edge asked for. A strategy that throws is a
 * bug in the app; it stops the session (`onThrow` is told) rather than retrying blindly.
 */
export function nextRetryWait(
  strategy: RetryStrategy,
  attempt: number,
  cause: HoldfastClientError,
  onThrow: (error: unknown) => void,
): number | null {
  let delay: number | null;
  try {
    delay = strategy(attempt, cause);
  } catch (error) {
    onThrow(error);
    return null;
  }
  if (delay === null) return null;
  return Math.max(Number.isFinite(delay) ? delay : 0, cause.retryAfterMs ?? 0, 0);
}
