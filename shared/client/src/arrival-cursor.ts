import { isOffset, type HelloPayload, type LogPosition, type ResetPayload } from '@holdfast/protocol';

/** One message as the app receives it. */
export interface ClientMessage<T = unknown> {
  readonly epoch: string;
  readonly offset: number;
  readonly data: T;
}

export type Arrival<T> =
  | { readonly ok: true; readonly messages: ClientMessage<T>[]; readonly duplicates: number }
  | { readonly ok: false; readonly violation: string };

/**
 * What one connection has delivered, checked against the delivery contract: batches in the
 * connection's epoch, consecutive, no gaps. Offsets already seen are dropped here (the edge may
 * resend what the app handled while the connection was being set up). It also tracks the
 * edge's flow window, so the client only sends acks the edge accepts: above the last ack and
 * not beyond what this connection delivered. Pure: no I/O, no timers.
 */
export class ArrivalCursor {
  private epoch: string | undefined;
  /** The next offset the app needs; undefined until the connection's start is known. */
  private next: number | undefined;
  /** Last offset the edge sent on this connection; acks may not go beyond it. */
  private delivered = 0;
  /** Last offset acknowledged on this connection (the window's start after hello or reset). */
  private acked = 0;
  /** Where the flow window started (hello or reset): nothing at or below it is acknowledged here. */
  private windowStart = 0;
  private ackUnconfirmed = false;

  /**
   * `known` is the position the app has handled. In the hello's epoch, delivery must continue
   * right after it; in another epoch (or the start sentinel) a reset must come first.
   */
  onHello(hello: HelloPayload, known: LogPosition | undefined): void {
    this.epoch = hello.epoch;
    this.delivered = hello.startOffset - 1;
    this.acked = hello.startOffset - 1;
    this.windowStart = hello.startOffset - 1;
    if (!known) this.next = hello.startOffset;
    else this.next = known.epoch === hello.epoch ? known.offset + 1 : undefined;
  }

  /** The last offset the app has or will have once the queue drains; undefined while a reset is due. */
  get arrived(): LogPosition | undefined {
    return this.epoch !== undefined && this.next !== undefined
      ? { epoch: this.epoch, offset: this.next - 1 }
      : undefined;
  }

  onReset(reset: ResetPayload): void {
    this.epoch = reset.newEpoch;
    this.next = reset.resumeFrom;
    this.delivered = reset.resumeFrom - 1;
    this.acked = reset.resumeFrom - 1;
    this.windowStart = reset.resumeFrom - 1;
    this.ackUnconfirmed = false;
  }

  accept<T>(batch: unknown): Arrival<T> {
    const { epoch, from, data } = (typeof batch === 'object' && batch !== null ? batch : {}) as Record<
      string,
      unknown
    >;
    if (typeof epoch !== 'string' || !isOffset(from) || from < 1 || !Array.isArray(data)) {
      return { ok: false, violation: 'a batch is not { epoch, from, data: [...] }' };
    }
    if (this.epoch === undefined || this.next === undefined || epoch !== this.epoch) {
      return {
        ok: false,
        violation: `a batch of epoch ${epoch} arrived, expected ${this.next === undefined ? 'a reset first' : `epoch ${this.epoch}`}`,
      };
    }
    if (from > this.next) {
      return { ok: false, violation: `a gap: the batch starts at ${from}, expected ${this.next}` };
    }
    const last = from + data.length - 1;
    const skip = Math.min(this.next - from, data.length);
    const messages = data
      .slice(skip)
      .map((item: unknown, i) => ({ epoch, offset: from + skip + i, data: item as T }));
    this.next = Math.max(this.next, last + 1);
    this.delivered = Math.max(this.delivered, last);
    return { ok: true, messages, duplicates: skip };
  }

  /**
   * The cumulative ack to send now for the app's handled position, or undefined when there is
   * nothing new this connection may acknowledge.
   */
  ackFor(handled: LogPosition | undefined): LogPosition | undefined {
    if (!handled || handled.epoch !== this.epoch) return undefined;
    const offset = Math.min(handled.offset, this.delivered);
    const due = offset > this.acked || (this.ackUnconfirmed && offset > this.windowStart);
    return due ? { epoch: handled.epoch, offset } : undefined;
  }

  markAcked(offset: number): void {
    this.acked = Math.max(this.acked, offset);
    this.ackUnconfirmed = false;
  }

  /**
   * The edge may have dropped the last ack (rate limit): send the latest again, even if it is
   * the same. A cumulative ack equal to the edge's is accepted and changes nothing.
   */
  unconfirmAck(): void {
    this.ackUnconfirmed = true;
  }
}
