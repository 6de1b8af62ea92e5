import { ErrorCode, HoldfastError } from '@holdfast/protocol';

/**
 * Map a failure of the Redis client itself (connection closed, command timed out, server
 * error) to a typed, retryable error. A write that failed this way may or may not have been
 * applied: appends must be retried with the same message id.
 */
export function toHoldfastError(error: unknown): HoldfastError {
  if (error instanceof HoldfastError) return error;
  const message = error instanceof Error ? error.message : String(error);
  // Under `maxmemory-policy noeviction` Redis refuses writes with an OOM error and keeps all it
  // has: nothing stored is lost, and the write was not applied.
  if (/\bOOM\b/.test(message)) {
    return new HoldfastError(ErrorCode.StorageFull, `Redis is full (maxmemory); retry later: ${message}`, {
      cause: error,
    });
  }
  if (/timed out/i.test(message)) {
    return new HoldfastError(ErrorCode.Timeout, `Redis did not answer in time: ${message}`, { cause: error });
  }
  return new HoldfastError(ErrorCode.RedisUnavailable, `Redis command failed: ${message}`, { cause: error });
}
