/**
 * The resume start point, in one place: where a connection starts delivering (decideStart) and
 * where it goes on when a read mid-stream finds that the log moved under it (decideAfterRead).
 * Both answer the same question — can the client simply continue, or must it rebuild its view
 * from the first retained offset — and both build their resets here. Pure, so every case is
 * unit-tested.
 */
import type {
  HelloPayload,
  LogPosition,
  ResetPayload,
  ResetReason,
  SizeLimits,
  StartFrom,
} from '@holdfast/protocol';

/** The session's log as the edge found it (when a connection started, or in a read). */
export interface LogState {
  readonly epoch: string;
  readonly head: number;
  readonly firstAvailable: number;
}

export interface StartDecision {
  /** First offset to deliver. */
  readonly startOffset: number;
  /** Sent before any batch when the client's view cannot simply continue. */
  readonly reset: ResetPayload | undefined;
}

/** Rebuild from the first retained offset of the log's current epoch. */
function resetTo(log: LogState, reason: ResetReason, oldEpoch: string | null): ResetPayload {
  return {
    reason,
    oldEpoch,
    newEpoch: log.epoch,
    firstAvailable: log.firstAvailable,
    resumeFrom: log.firstAvailable,
  };
}

function restart(log: LogState, reason: ResetReason, oldEpoch: string | null): StartDecision {
  return { startOffset: log.firstAvailable, reset: resetTo(log, reason, oldEpoch) };
}

/**
 * Where a connection starts delivering: right after the client's own position when it is
 * valid, else right after the consumer's stored ack. Anything that would make the client skip
 * or re-see different content under the same offset becomes an explicit reset: the client
 * rebuilds its view from `resumeFrom`.
 *
 * A client that asks for the oldest message (`start: 'oldest'`) has no view yet; it gets the
 * same reset an unknown epoch gets, with no old epoch, so it learns where the retained log
 * begins exactly as a client of protocol 1 or 2 did with its `~start` position.
 */
export function decideStart(
  log: LogState,
  position: LogPosition | StartFrom | undefined,
  storedAck: number,
): StartDecision {
  if (position === 'oldest') return restart(log, 'epoch_changed', null);
  if (position) {
    if (position.epoch !== log.epoch) return restart(log, 'epoch_changed', position.epoch);
    if (position.offset > log.head) return restart(log, 'ahead_of_head', position.epoch);
    if (position.offset + 1 < log.firstAvailable) return restart(log, 'trimmed', position.epoch);
    return { startOffset: position.offset + 1, reset: undefined };
  }

  // Stored acks are cleared when the epoch changes and can never exceed the head.
  const start = Math.min(storedAck, log.head) + 1;
  if (start < log.firstAvailable) {
    // A consumer that never acked has no view to rebuild: it simply starts at the oldest
    // retained message. One that had progress must learn that it missed messages.
    return storedAck > 0
      ? restart(log, 'trimmed', log.epoch)
      : { startOffset: log.firstAvailable, reset: undefined };
  }
  return { startOffset: start, reset: undefined };
}

/**
 * Mid-stream, after a read from the connection's next offset in `at.epoch`: the reset to send before going on, or
 * undefined when delivery simply continues. The read reports a new epoch (Redis may have lost
 * writes) or that the offset read from was trimmed away; either way delivery goes on at the first
 * retained offset of the read's epoch (the reset's `resumeFrom`).
 *
 * Unlike decideStart, there is no `ahead_of_head` case here: delivered offsets existed when
 * they were read, and within one epoch the head does not go back.
 */
export function decideAfterRead(
  at: { readonly epoch: string },
  read: LogState & { readonly trimmed: boolean },
): ResetPayload | undefined {
  if (read.epoch !== at.epoch) return resetTo(read, 'epoch_changed', at.epoch);
  if (read.trimmed) return resetTo(read, 'trimmed', at.epoch);
  return undefined;
}

/** The `hello` that tells a client where its connection starts, and the limits it works within. */
export function helloFor(
  client: { readonly sessionId: string; readonly consumerId: string; readonly tokenExpiresAt: number },
  info: LogState & { readonly acks: Readonly<Record<string, number>>; readonly finalOffset?: number },
  decision: StartDecision,
  edge: { readonly window: HelloPayload['window']; readonly limits: SizeLimits },
): HelloPayload {
  const { sessionId, consumerId } = client;
  return {
    sessionId,
    consumerId,
    epoch: info.epoch,
    head: info.head,
    startOffset: decision.startOffset,
    ackedOffset: info.acks[consumerId] ?? 0,
    window: edge.window,
    tokenExpiresAt: client.tokenExpiresAt,
    limits: edge.limits,
    ...(info.finalOffset === undefined ? {} : { finalOffset: info.finalOffset }),
  };
}
