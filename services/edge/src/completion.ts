import { ErrorCode, type CompletePayload, type NoticePayload } from '@holdfast/protocol';

/** Protocol versions from which clients understand the `complete` event. */
const COMPLETE_EVENT_SINCE_VERSION = 2;

export interface CompletionSocket {
  emit(event: 'complete', payload: CompletePayload): unknown;
  emit(event: 'session_ended', payload: NoticePayload): unknown;
}

/**
 * How a connection ends once its session is completed and every message up to the final
 * offset was sent: tell the client (`complete`, or `session_ended` to a version 1 client, which
 * has no `complete`), then wait a bounded time for its ack of the final offset to arrive and be
 * stored (acks keep being taken meanwhile, as in a drain), so a client reconnecting later
 * starts after the end instead of being sent the tail again. The caller then closes cleanly.
 */
export class CompletionClose {
  private finalOffset: number | undefined;
  private acked = 0;
  private ackedFinal: (() => void) | undefined;

  constructor(
    private readonly socket: CompletionSocket,
    private readonly protocolVersion: number,
    private readonly limitMs: number,
  ) {}

  /** Every cumulative ack the connection took. */
  onAck(acked: number): void {
    this.acked = Math.max(this.acked, acked);
    if (this.finalOffset !== undefined && this.acked >= this.finalOffset) this.ackedFinal?.();
  }

  /** Resolves when it is time to close: the final ack was stored, or the limit passed. */
  async run(complete: CompletePayload, storeAcks: () => Promise<void>): Promise<void> {
    this.finalOffset = complete.finalOffset;
    if (this.protocolVersion >= COMPLETE_EVENT_SINCE_VERSION) {
      this.socket.emit('complete', complete);
    } else {
      this.socket.emit('session_ended', {
        code: ErrorCode.SessionEnded,
        message: `the session is completed: every message up to offset ${complete.finalOffset} was sent`,
      });
    }
    const deadline = Date.now() + this.limitMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = (ms: number): Promise<void> =>
      new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, ms))));
    try {
      if (this.acked < complete.finalOffset) {
        await Promise.race([
          new Promise<void>((resolve) => (this.ackedFinal = resolve)),
          timeout(this.limitMs),
        ]);
        clearTimeout(timer);
      }
      await Promise.race([storeAcks(), timeout(deadline - Date.now())]);
    } finally {
      clearTimeout(timer);
      this.ackedFinal = undefined;
    }
  }
}
