import { ClientErrorCode, HoldfastClientError } from './client-error.js';
import { actionFor, isErrorCode } from './code-table.js';
import { describeError } from './describe-error.js';

/** How many `getToken()` failures in a row end the session (`token_unavailable`), by default. */
export const DEFAULT_MAX_TOKEN_FAILURES = 8;

/**
 * Turns a `getToken()` failure into what the session does about it. `getToken` says "stop" by
 * throwing an error whose `code` is a stop code of the code table (`session_not_found`,
 * `session_ended`, `session_completed`, `token_invalid`, …: a `HoldfastClientError`, a
 * `HoldfastError`, or any error with that `code`): the session closes with that code at once.
 * Anything else is retried with the retry strategy until `maxFailures` failures in a row, then
 * the session closes with `token_unavailable`: a token service that never answers must not keep
 * a client `connecting` for ever.
 */
export function tokenFailure(error: unknown, failures: number, maxFailures: number): HoldfastClientError {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && isErrorCode(code) && actionFor(code) === 'stop') {
    return new HoldfastClientError(code, `getToken() said stop: ${describeError(error)}`, {
      action: 'stop',
      cause: error,
    });
  }
  const last = failures >= maxFailures;
  const message = last
    ? `getToken() failed ${failures} times in a row (maxTokenFailures); giving up: ${describeError(error)}`
    : `getToken() failed: ${describeError(error)}`;
  return new HoldfastClientError(ClientErrorCode.TokenUnavailable, message, {
    action: last ? 'stop' : 'retry',
    cause: error,
  });
}
