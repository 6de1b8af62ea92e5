import { PROTOCOL_VERSION, type HandshakeAuth, type LogPosition } from '@holdfast/protocol';

/**
 * An epoch no log ever has (real epochs are base64url, without `~`). A handshake position in it
 * makes the edge answer with a `reset` (`epoch_changed`) and deliver from the oldest retained
 * message: that is how the client starts from the beginning with today's protocol.
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

/** The handshake's `auth`: resume after `position` (the start sentinel included), or after the ack. */
export function handshakeAuth(
  sessionId: string,
  token: string,
  position: LogPosition | undefined,
): HandshakeAuth {
  return {
    v: PROTOCOL_VERSION,
    sessionId,
    token,
    ...(position ? { position: { epoch: position.epoch, offset: position.offset } } : {}),
  };
}
