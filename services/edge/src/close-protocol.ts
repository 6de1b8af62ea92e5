/**
 * How a session connection says goodbye: which event and notice each ending sends (session
 * ended, replaced, a fault), what a failed call means for the connection, and the clean close of
 * the transport after the notice. Pure decisions plus one socket helper, so SessionConnection
 * only carries them out.
 */
import { ErrorCode, isHoldfastError, type NoticePayload } from '@holdfast/protocol';
import { classifyFencedAck } from '@holdfast/session-log';
import { TRANSPORT_CLOSE_GRACE_MS } from './edge-shutdown.js';
import type { LeaseLoss } from './lease-fencing.js';

/** A terminal notice: the event it is sent as, and its payload. */
export interface CloseNotice {
  readonly event: 'session_ended' | 'replaced' | 'fault';
  readonly notice: NoticePayload;
}

/**
 * Told of a delete by a failed call (ack, read, lease renewal) rather than by the live channel,
 * a connection waits this long at most for the channel's `ended` notice: it is published after
 * the notification of every earlier message, which may still be on its way.
 */
export const END_NOTICE_WAIT_MS = 1000;

/** Ending with `code`: a session that ended or is gone is `session_ended`, anything else a fault. */
/**
 * The session was deleted, learnt from a failed call: the channel's `ended` notice may still be
 * behind notifications of messages the producer was told were stored. Keep forwarding what
 * comes until the notice (which closes the connection), or close with `ended` after
 * END_NOTICE_WAIT_MS; a connection off the channel gets no notice, so it closes now.
 */
export function waitForEndNotice(
  subscribed: boolean,
  message: string,
  close: (ended: CloseNotice) => void,
): NodeJS.Timeout | undefined {
  const ended = endNotice(ErrorCode.SessionEnded, message);
  if (!subscribed) {
    close(ended);
    return undefined;
  }
  const timer = setTimeout(() => close(ended), END_NOTICE_WAIT_MS);
  timer.unref();
  return timer;
}

export function endNotice(code: ErrorCode, message: string): CloseNotice {
  if (code === ErrorCode.SessionEnded || code === ErrorCode.SessionNotFound) {
    return { event: 'session_ended', notice: { code: ErrorCode.SessionEnded, message } };
  }
  return { event: 'fault', notice: { code, message } };
}

/** A newer connection of the same consumer took over: a stop for the client. */
export const REPLACED: CloseNotice = {
  event: 'replaced',
  notice: { code: ErrorCode.Replaced, message: 'a newer connection of this consumer took over' },
};

export const TOKEN_EXPIRED: CloseNotice = endNotice(
  ErrorCode.TokenExpired,
  'the token expired; reconnect with a fresh one',
);

/**
 * The lease is no longer this connection's: a newer connection took over (`replaced`, a stop
 * for the client), or Redis lost the claim (`rolled_back`): nobody replaced this client, so it
 * gets a retryable fault and claims the lease again when it reconnects.
 */
export function leaseLossNotice(loss: LeaseLoss): CloseNotice {
  return loss === 'fenced'
    ? REPLACED
    : endNotice(
        ErrorCode.RedisUnavailable,
        "Redis lost this connection's lease (restored from older data); reconnect",
      );
}

/** What a connection does after a call failed for good (an ack write, a read). */
export type FailureOutcome =
  | { readonly kind: 'close'; readonly close: CloseNotice }
  /** The session was deleted: wait for the live channel's `ended` notice (END_NOTICE_WAIT_MS). */
  | { readonly kind: 'await_end_notice'; readonly message: string };

export function failureOutcome(error: unknown, leaseGeneration: number): FailureOutcome {
  if (!isHoldfastError(error)) {
    return {
      kind: 'close',
      close: endNotice(ErrorCode.RedisUnavailable, 'the edge failed to serve this session; reconnect'),
    };
  }
  // A fenced ack carries the consumer's current generation: the same rule as a lease renewal.
  if (error.code === ErrorCode.Replaced) {
    return { kind: 'close', close: leaseLossNotice(classifyFencedAck(leaseGeneration, error)) };
  }
  if (error.code === ErrorCode.SessionEnded && error.details?.reason === 'deleted') {
    return { kind: 'await_end_notice', message: error.message };
  }
  return { kind: 'close', close: endNotice(error.code, error.message) };
}

/**
 * A clean close: the Socket.IO disconnect packet follows the notice on the same transport
 * (the client sees 'io server disconnect', not a transport error), then the client closes
 * its WebSocket with a close frame; a client that does not is closed from here.
 */
export function closeTransport(socket: { disconnect(): unknown; readonly conn: { close(): unknown } }): void {
  socket.disconnect();
  const conn = socket.conn;
  setTimeout(() => conn.close(), TRANSPORT_CLOSE_GRACE_MS).unref();
}
