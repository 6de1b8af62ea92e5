/**
 * Why it exists: a client's `send` carries data that is stored and handed to a worker, so its
 * shape, its id and the safety of its data are decided once, by the protocol. Size limits are
 * not checked here: they are the session log's options, checked when it stores the message.
 */
import { ErrorCode } from '../error-codes.js';
import type { SendPayload, SendReply } from '../events.js';
import { HoldfastError } from '../holdfast-error.js';
import { assertMessageId } from '../identifiers.js';
import { unsafeDataReason } from './data-guard.js';

/** Throws `invalid_payload` or `invalid_message_id` unless the payload is a safe `{ id, data }`. */
export function validateSend(payload: unknown): SendPayload {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new HoldfastError(ErrorCode.InvalidPayload, 'send takes { id, data }');
  }
  const { id, data } = payload as { id?: unknown; data?: unknown };
  assertMessageId(id);
  const unsafe = unsafeDataReason(data);
  if (unsafe) throw new HoldfastError(ErrorCode.InvalidPayload, unsafe);
  return { id, data };
}

/** Throws `invalid_payload` when a `send` came without the callback its reply goes to. */
export function validateSendReply(reply: unknown): asserts reply is (result: SendReply) => void {
  if (typeof reply !== 'function') {
    throw new HoldfastError(ErrorCode.InvalidPayload, 'send needs an acknowledgement callback');
  }
}
