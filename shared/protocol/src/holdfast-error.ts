import { type ErrorCode, isRetryable } from './error-codes.js';

/**
 * The one error type Holdfast libraries throw for anything a caller may handle. `code` is
 * stable and machine-readable; `message` is for humans and says what to change.
 */
export class HoldfastError extends Error {
  override readonly name = 'HoldfastError';
  readonly code: ErrorCode;
  /** True when the same call may succeed later (see `errorActions`). */
  readonly retryable: boolean;
  /** Extra machine-readable facts about the failure (e.g. `{ firstAvailable }`). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = isRetryable(code);
    this.details = options?.details;
  }
}

export function isHoldfastError(error: unknown, code?: ErrorCode): error is HoldfastError {
  return error instanceof HoldfastError && (code === undefined || error.code === code);
}
