import { ErrorCode, HoldfastError } from '@holdfast/protocol';

/**
 * Map a failure of the Redis client itself (connection closed, command timed out, server
 * error) to a typed, retryable error. A write that failed this way may or may not have been
 * applied: appends must be retried with the same message id.
 */
export function toHoldfastError(error: unknown): HoldfastError {
  if (error instanceof HoldfastError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/timed out/i.test(message)) {
    return new HoldfastError(ErrorCode.Timeout, `Redis did not answer in time: ${message}`, { cause: error });
  }
  return new HoldfastError(ErrorCode.RedisUnavailable, `Redis command failed: ${message}`, { cause: error });
}
