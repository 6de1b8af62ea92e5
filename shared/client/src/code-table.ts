import { ErrorCode, errorActions } from '@holdfast/protocol';

/**
 * What the client does when a connection attempt or a connection ends with a code:
 * reconnect with backoff, get a fresh token and reconnect, or stop for good.
 */
export type ClientAction = 'retry' | 'refresh_token' | 'stop';

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(errorActions, code);
}

/**
 * The protocol's code table (docs/protocol.md, `errorActions`) applied to a connection: a
 * request the edge calls wrong (`fix_request`, e.g. a malformed handshake) would fail the
 * same way again, so the client stops. Codes the table does not know — the client's own
 * (lost connections, failed handlers) and any a newer edge may send — are retried with backoff.
 */
export function actionFor(code: string): ClientAction {
  if (!isErrorCode(code)) return 'retry';
  const action = errorActions[code];
  return action === 'fix_request' ? 'stop' : action;
}

/**
 * A `fault` notice that leaves the connection open: a request the edge calls wrong (e.g. a bad
 * ack), or an event dropped for the rate limit. Any other fault announces that the edge closes
 * the connection.
 */
export function faultKeepsConnection(code: string): boolean {
  return isErrorCode(code) && (errorActions[code] === 'fix_request' || code === 'rate_limited');
}

/** The session is over on the server: it accepts nothing any more, so queued sends fail for good. */
export function endsSession(reason: string): boolean {
  return (
    reason === ErrorCode.SessionEnded ||
    reason === ErrorCode.SessionNotFound ||
    reason === ErrorCode.SessionCompleted
  );
}

/** A close that is the expected end of a session, not an error worth an `error` event. */
export function isNormalEnd(reason: string): boolean {
  return (
    reason === ErrorCode.Replaced ||
    reason === ErrorCode.SessionEnded ||
    reason === ErrorCode.SessionCompleted
  );
}
