/**
 * Takes a client's acks on one connection: the payload is checked by the protocol's validator,
 * then against the connection (its epoch, a reset that crossed the ack on the wire, going
 * backwards, an offset never delivered) before anything is stored. Apart from SessionConnection
 * because these checks are what the bad-input suite holds the edge to.
 */
import { isHoldfastError, validateAck, ErrorCode, type ResetPayload } from '@holdfast/protocol';
import type { DeliveryCursor } from './delivery-cursor.js';

export interface AckIntakeDeps {
  /** The ack advanced the connection: store it. */
  storeAck(epoch: string, offset: number): void;
  fault(code: ErrorCode, message: string): void;
}

export class AckIntake {
  /**
   * Epochs this connection told its client to leave (a reset). An ack of one of them was sent
   * before the client saw the reset, crossing it on the wire: stale, not a client error.
   */
  private leftEpochs: Set<string> | undefined;

  constructor(private readonly deps: AckIntakeDeps) {}

  /** A reset is being sent: acks of the epoch it leaves may still be on their way. */
  noteReset(reset: ResetPayload): void {
    if (reset.oldEpoch !== null && reset.oldEpoch !== reset.newEpoch)
      (this.leftEpochs ??= new Set()).add(reset.oldEpoch);
  }

  take(payload: unknown, cursor: DeliveryCursor): void {
    let ack;
    try {
      ack = validateAck(payload);
    } catch (error) {
      this.faultFor(error);
      return;
    }
    const { epoch, offset } = ack;
    // Taken even while the lease is unconfirmed (Redis slow or restarting): the client sends
    // each ack once, so one dropped here would leave the flow window full of messages it has
    // handled, and nothing more would be delivered on this connection once the lease is back.
    // The stored write is still fenced by the lease generation in Redis (ack-n.lua): a
    // replaced connection's ack is refused there and ends it, as a lease check would.
    if (epoch !== cursor.position.epoch) {
      if (this.leftEpochs?.has(epoch)) return; // crossed the reset on the wire: nothing to store
      this.deps.fault(
        ErrorCode.InvalidAck,
        `ack is for epoch ${epoch}, the connection is in ${cursor.position.epoch}`,
      );
      return;
    }
    try {
      if (offset < cursor.position.acked) {
        this.deps.fault(ErrorCode.InvalidAck, `ack ${offset} goes backwards from ${cursor.position.acked}`);
        return;
      }
      if (cursor.onAck(offset)) this.deps.storeAck(epoch, offset);
    } catch (error) {
      this.faultFor(error);
    }
  }

  private faultFor(error: unknown): void {
    if (isHoldfastError(error)) this.deps.fault(error.code, error.message);
    else throw error;
  }
}
