import type { LogPosition, ResetPayload } from '@holdfast/protocol';

/** The session's log as the edge found it when a connection started. */
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

/**
 * Where a connection starts delivering: right after the client's own position when it is
 * valid, else right after the consumer's stored ack. Anything that would make the client skip
 * or re-see different content under the same offset becomes an explicit reset: the client
 * rebuilds its view from `resumeFrom`. Pure, so every case is unit-tested.
 */
export function decideStart(
  log: LogState,
  position: LogPosition | undefined,
  storedAck: number,
): StartDecision {
  const reset = (reason: ResetPayload['reason'], oldEpoch: string | null): StartDecision => ({
    startOffset: log.firstAvailable,
    reset: {
      reason,
      oldEpoch,
      newEpoch: log.epoch,
      firstAvailable: log.firstAvailable,
      resumeFrom: log.firstAvailable,
    },
  });

  if (position) {
    if (position.epoch !== log.epoch) return reset('epoch_changed', position.epoch);
    if (position.offset > log.head) return reset('ahead_of_head', position.epoch);
    if (position.offset + 1 < log.firstAvailable) return reset('trimmed', position.epoch);
    return { startOffset: position.offset + 1, reset: undefined };
  }

  // Stored acks are cleared when the epoch changes and can never exceed the head.
  const start = Math.min(storedAck, log.head) + 1;
  if (start < log.firstAvailable) {
    // A consumer that never acked has no view to rebuild: it simply starts at the oldest
    // retained message. One that had progress must learn that it missed messages.
    return storedAck > 0
      ? reset('trimmed', log.epoch)
      : { startOffset: log.firstAvailable, reset: undefined };
  }
  return { startOffset: start, reset: undefined };
}
