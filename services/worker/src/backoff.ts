/**
 * How long to wait before attempt `failedAttempt + 1` of a message: exponential from
 * `baseMs`, capped at `maxMs`, with "equal jitter" (between half and all of it) so messages
 * that failed together (a downstream outage) do not all retry at the same moment.
 */
export function retryDelayMs(
  failedAttempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, failedAttempt - 1));
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}

/** Waits `ms`; resolves true when the time ran out, false at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
