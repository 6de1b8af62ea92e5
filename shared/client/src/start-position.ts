import {
  PROTOCOL_VERSION,
  type ConnectionAttempt,
  type HandshakeAuth,
  type LogPosition,
} from '@holdfast/protocol';

/**
 * The SDK's own mark for "no view yet, start from the oldest message": an epoch no log ever has
 * (real epochs are base64url, without `~`). It never leaves the client as a position: the
 * handshake says `start: 'oldest'` instead, and the edge answers with a `reset`
 * (`epoch_changed`, no old epoch) and delivers from the oldest retained message. (Clients of
 * protocol 1 and 2 sent this mark as their position; edges still answer that the same way.)
 */
export const START_EPOCH = '~start';

export function isStartPosition(position: LogPosition | undefined): boolean {
  return position?.epoch === START_EPOCH;
}

/**
 * The position the first connection resumes after:
 * - `'start'`: the start sentinel (rebuild from the oldest retained message);
 * - a number: that offset in the stored epoch; without a stored epoch the offset means nothing,
 *   so the client rebuilds from the start as for `'start'`;
 * - nothing: the stored position, or none (the edge then starts after the consumer's ack).
 */
export function initialPosition(
  from: 'start' | number | undefined,
  stored: LogPosition | undefined,
): LogPosition | undefined {
  if (from === 'start') return { epoch: START_EPOCH, offset: 0 };
  if (typeof from === 'number') return { epoch: stored?.epoch ?? START_EPOCH, offset: from };
  return stored;
}

/**
 * The handshake's `auth`: from the oldest message, after `position`, or after the stored ack;
 * `attempt` orders it among this client's attempts (connection-attempts.ts).
 */
export function handshakeAuth(
  sessionId: string,
  token: string,
  position: LogPosition | undefined,
  attempt: ConnectionAttempt,
): HandshakeAuth {
  const auth = {
    v: PROTOCOL_VERSION,
    sessionId,
    token,
    instance: attempt.instance,
    attempt: attempt.attempt,
  };
  if (isStartPosition(position)) return { ...auth, start: 'oldest' };
  if (position) return { ...auth, position: { epoch: position.epoch, offset: position.offset } };
  return auth;
}
