/**
 * A client's `send` (an inbound message for the session's worker): validated by the protocol,
 * stored in the session's inbox and its inbox run scheduled before the client is told `ok`; a
 * resent id is acknowledged again without a second copy. Apart from SessionConnection because
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
    if (accepted.generation > 0) await context.submitInboxRun(sessionId, accepted.generation);
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
