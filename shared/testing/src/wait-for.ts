export interface WaitForOptions {
  /** Give up after this long. Default 10 s. */
  timeoutMs?: number;
  /** Pause between probes. Default 20 ms. */
  intervalMs?: number;
  /** Names the awaited condition in the timeout error, so a failing test says what never happened. */
  what?: string;
}

/**
 * Polls `probe` until it returns a truthy value and resolves with that value.
 *
 * Tests wait for conditions instead of sleeping a fixed time: a fixed sleep is either too short on a
 * loaded CI machine (flaky) or too long everywhere else (slow). A probe that throws counts as "not
 * yet" because many conditions (a port accepting connections, a key appearing) surface as errors
 * until they hold; the last such error is reported on timeout because it usually explains why.
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  opts: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 20;
  const what = opts.what ?? 'condition';
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let attempts = 0;

  for (;;) {
    attempts++;
    const remaining = deadline - Date.now();
    try {
      // A probe that never settles (a command sent to a paused server, say) must not outlive the
      // deadline, so each attempt is raced against the time left.
      const value = await withDeadline(Promise.resolve().then(probe), Math.max(remaining, 0));
      if (value) return value as NonNullable<T>;
    } catch (err) {
      if (err === PROBE_TIMED_OUT) {
        lastError = new Error('the last probe had not settled at the deadline');
        break;
      }
      // Kept even if later probes just return falsy: the error usually explains the timeout.
      lastError = err;
    }
    const left = deadline - Date.now();
    if (left <= 0) break;
    await delay(Math.min(intervalMs, left));
  }

  const cause = lastError === undefined ? '' : `; last probe error: ${describe(lastError)}`;
  throw new Error(
    `waitFor: timed out after ${timeoutMs} ms (${attempts} attempts) waiting for ${what}${cause}`,
    {
      cause: lastError,
    },
  );
}

const PROBE_TIMED_OUT = Symbol('probe timed out');

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(PROBE_TIMED_OUT), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
