import { ErrorCode, isClusterUrl, isHoldfastError, redactRedisUrl } from '@holdfast/protocol';
import { CliError } from './cli-error.js';
import { ExitCode } from './exit-codes.js';

/** Error codes (shared and API-only) by the exit code they end the CLI with; the rest: refused. */
const EXIT_BY_CODE: Readonly<Record<string, ExitCode>> = {
  [ErrorCode.SessionNotFound]: ExitCode.NotFound,
  [ErrorCode.SessionEnded]: ExitCode.NotFound,
  [ErrorCode.RedisUnavailable]: ExitCode.Unreachable,
  [ErrorCode.Timeout]: ExitCode.Unreachable,
  not_ready: ExitCode.Unreachable,
  unauthorized: ExitCode.Unauthorized,
  // A malformed id or option typed on the command line is a usage error, wherever it is caught.
  [ErrorCode.InvalidSessionId]: ExitCode.Usage,
  [ErrorCode.InvalidConsumerId]: ExitCode.Usage,
  [ErrorCode.InvalidOffset]: ExitCode.Usage,
};

/** The exit code of a Holdfast error code, from the session log or from an API error body. */
export function exitCodeOf(code: string): ExitCode {
  return EXIT_BY_CODE[code] ?? ExitCode.Refused;
}

/** Any failure as one line and an exit code: Holdfast errors by code, anything else unexpected. */
export function describeFailure(error: unknown): CliError {
  if (error instanceof CliError) return error;
  if (isHoldfastError(error)) return new CliError(exitCodeOf(error.code), `${error.code}: ${error.message}`);
  const message = error instanceof Error ? error.message : String(error);
  return new CliError(ExitCode.Failure, `unexpected failure: ${message.split('\n')[0] ?? message}`);
}

/** A URL fit for an error message: credentials (a Redis password) never reach a terminal or log. */
export function redactUrl(text: string): string {
  if (isClusterUrl(text)) return redactRedisUrl(text);
  try {
    const url = new URL(text);
    if (url.username || url.password) {
      url.username = url.username ? '***' : '';
      url.password = url.password ? '***' : '';
    }
    return url.toString().replace(/\/$/, '');
  } catch {
    return '(invalid URL)';
  }
}
