/**
 * A client's `send` (an inbound message for the session's worker): validated by the protocol,
 * stored in the session's inbox and its inbox run scheduled before the client is told `ok`; a
 * resent id is acknowledged again without a second copy. The `ok` is only given in the epoch
 * the connection has told its client, so a Redis data loss that takes the message always
 * reaches the client as a reset after it, never before it. Apart from SessionConnection because
 * it touches neither delivery nor the connection's lifetime.
 */
import {
  ErrorCode,
  HoldfastError,
  isHoldfastError,
  validateSend,
  validateSendReply,
  type SendReply,
} from '@holdfast/protocol';
import type { Inbox } from '@holdfast/session-log';

/** What every connection of the edge shares: one object per edge. */
export interface InboundSendContext {
  readonly log: Pick<Inbox, 'enqueueInbound'>;
  /** Schedule the inbox run that will hand an accepted inbound message to a worker. */
  readonly submitInboxRun: (sessionId: string, generation: number) => Promise<void>;
}

/** The connection the send came on (the connection itself: no object or closure per send path). */
export interface InboundSender {
  readonly sessionId: string;
  readonly consumerId: string;
  /** The epoch this connection last told its client (hello, deliveries, resets). */
  readonly toldEpoch: string | undefined;
  /** A send without a callback cannot be answered: it gets a fault instead. */
  fault(code: ErrorCode, message: string): void;
}

export async function acceptSend(
  context: InboundSendContext,
  sender: InboundSender,
  payload: unknown,
  reply: unknown,
): Promise<void> {
  try {
    validateSendReply(reply);
  } catch (error) {
    const e = error as HoldfastError;
    sender.fault(e.code, e.message);
    return;
  }
  try {
    const { id, data } = validateSend(payload);
    const { sessionId } = sender;
    const accepted = await context.log.enqueueInbound(sessionId, {
      id,
      data,
      consumerId: sender.consumerId,
    });
    // Submitted even for a resend: the inbox run named by the generation may not exist yet if an
    // edge died between storing the message and submitting its inbox run.
    if (accepted.round > 0) await context.submitInboxRun(sessionId, accepted.round);
    // The submission can wait out a Redis restart (BullMQ queues commands while offline), and
    // meanwhile this connection may have told its client that the epoch the message was stored
    // in is gone: Redis lost data, possibly this message. An `ok` now would come after that
    // reset and promise a message that may not exist; the client resends instead, and the
    // resend is stored again or found (a duplicate) in the timeline the client now follows.
    // A message lost after its `ok` ends the epoch the client is in, so a reset follows the ok.
    if (sender.toldEpoch !== undefined && sender.toldEpoch !== accepted.epoch) {
      throw new HoldfastError(
        ErrorCode.RedisUnavailable,
        "the session's epoch changed while the message was being stored; resend it (it is kept once)",
      );
    }
    reply({ ok: true, id, seq: accepted.seq, duplicate: accepted.duplicate });
  } catch (error) {
    const e = isHoldfastError(error)
      ? error
      : new HoldfastError(ErrorCode.RedisUnavailable, 'the message could not be stored; resend it');
    const retryAfterMs = e.details?.retryAfterMs;
    const refusal: SendReply = {
      ok: false,
      code: e.code,
      message: e.message,
      ...(typeof retryAfterMs === 'number' ? { retryAfterMs } : {}),
    };
    reply(refusal);
  }
}
