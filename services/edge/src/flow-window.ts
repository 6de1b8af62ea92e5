import { ErrorCode, HoldfastError } from '@holdfast/protocol';

export interface WindowLimits {
  /** Most unacknowledged messages in flight. */
  readonly messages: number;
  /** Most unacknowledged bytes in flight; one message is always allowed, whatever its size. */
  readonly bytes: number;
}

interface SentBatch {
  readonly last: number;
  readonly bytes: number;
}

/**
 * Flow control of one connection: what was sent and not yet acknowledged. The edge sends only
 * while the window has room, and otherwise waits for acks, leaving the backlog in Redis; so
 * what one connection holds in memory is bounded by the window, whatever the client's lag.
 * The byte bound also bounds how long a heartbeat can queue behind data on a slow link.
 */
export class FlowWindow {
  private delivered: number;
  private acked: number;
  private bytesInFlight = 0;
  /** Made on the first send: an idle connection has nothing in flight. */
  private batches: SentBatch[] | undefined;

  constructor(
    private readonly limits: WindowLimits,
    /** The offset before the first one this connection will send. */
    start: number,
  ) {
    this.delivered = start;
    this.acked = start;
  }

  get lastDelivered(): number {
    return this.delivered;
  }

  get lastAcked(): number {
    return this.acked;
  }

  get messagesInFlight(): number {
    return this.delivered - this.acked;
  }

  get inFlightBytes(): number {
    return this.bytesInFlight;
  }

  /** Room for the next send: 0 messages means wait for acks. */
  room(): { messages: number; bytes: number } {
    if (this.messagesInFlight === 0)
      return { messages: this.limits.messages, bytes: Math.max(this.limits.bytes, 1) };
    return {
      messages: Math.max(0, this.limits.messages - this.messagesInFlight),
      bytes: Math.max(0, this.limits.bytes - this.bytesInFlight),
    };
  }

  /** Whether a batch of `count` messages and `bytes` may go now. */
  fits(count: number, bytes: number): boolean {
    if (this.messagesInFlight === 0) return count <= this.limits.messages;
    const room = this.room();
    return count <= room.messages && bytes <= room.bytes;
  }

  recordSent(last: number, bytes: number): void {
    this.delivered = last;
    this.bytesInFlight += bytes;
    (this.batches ??= []).push({ last, bytes });
  }

  /**
   * Apply a cumulative ack. Throws `invalid_ack` for an offset never delivered on this
   * connection; returns false (and changes nothing) for one at or before the last ack.
   */
  recordAck(offset: number): boolean {
    if (offset > this.delivered) {
      throw new HoldfastError(
        ErrorCode.InvalidAck,
        `ack ${offset} is beyond the last delivered offset ${this.delivered}`,
      );
    }
    if (offset <= this.acked) return false;
    this.acked = offset;
    // Bytes are released per batch, once its last message is acknowledged.
    const batches = this.batches ?? [];
    for (let batch = batches[0]; batch && batch.last <= offset; batch = batches[0]) {
      this.bytesInFlight -= batch.bytes;
      batches.shift();
    }
    return true;
  }

  /** Start over after a reset: nothing before `start` is in flight any more. */
  restart(start: number): void {
    this.delivered = start;
    this.acked = start;
    this.bytesInFlight = 0;
    if (this.batches) this.batches.length = 0;
  }
}
