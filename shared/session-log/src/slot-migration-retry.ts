import { ErrorCode, HoldfastError } from '@holdfast/protocol';

/**
 * Scripts on a Redis Cluster slot that is being moved (`redis-cli --cluster reshard`).
 *
 * While a slot migrates, a script whose keys are split between the two masters (some already
 * migrated), or not all present on the importing one (a session has keys that exist only
 * sometimes: the tombstone, the second dedupe hash), is refused with TRYAGAIN. Redis refuses it
 * before running it, so sending it again can neither apply it twice nor reorder it. ioredis
 * retries TRYAGAIN itself, but only `maxRedirections` times (16 × 100 ms); a slot with many
 * keys, or a reshard tool paused between MIGRATE and SETSLOT, takes longer. So the session log
 * keeps retrying, with backoff, for up to `slotMigrationRetryMs`, counting each retry in the
 * metrics, and then fails with a retryable error that says why: never silently, never forever.
 */

const FIRST_PAUSE_MS = 25;
const MAX_PAUSE_MS = 400;

/**
 * True for a refusal because the slot is migrating: TRYAGAIN itself, or ioredis giving up after
 * `maxRedirections`. ioredis sends a command refused with TRYAGAIN next to a random node, which
 * answers MOVED, so its final error usually names a MOVED ("Too many Cluster redirections. Last
 * error: … MOVED …"). Every redirection (MOVED, ASK, TRYAGAIN) is a refusal before running, so
 * this too is safe to send again.
 */
export function isSlotMigrating(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (/^TRYAGAIN\b/.test(error.message)) return true;
  // Only when the last error was itself a redirection: ioredis also counts closed connections
  // towards the limit, and a call whose connection closed may well have run.
  return /^Too many Cluster redirections\. Last error: (?:ReplyError: )?(?:MOVED|ASK|TRYAGAIN)\b/.test(
    error.message,
  );
}

/**
 * Run `attempt`, again after each TRYAGAIN refusal, until it succeeds, fails otherwise, or
 * `budgetMs` has passed since the first attempt. `onRetry` is told of each retry.
 */
export async function retryWhileSlotMigrates<T>(
  attempt: () => Promise<T>,
  budgetMs: number,
  onRetry?: () => void,
): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (let pause = FIRST_PAUSE_MS; ; pause = Math.min(pause * 2, MAX_PAUSE_MS)) {
    try {
      return await attempt();
    } catch (error) {
      if (!isSlotMigrating(error)) throw error;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new HoldfastError(
          ErrorCode.RedisUnavailable,
          `a Redis Cluster slot of this session is being migrated: Redis kept refusing the call ` +
            `(TRYAGAIN, redirections) for ${budgetMs} ms (slotMigrationRetryMs); retry later, ` +
            `appends with the same message id`,
          { cause: error },
        );
      }
      onRetry?.();
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)));
    }
  }
}
