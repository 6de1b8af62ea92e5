import { ErrorCode, HoldfastError, assertMessageId } from '@holdfast/protocol';

/** A message ready for the append script: its id ('' when none) and its data as JSON text. */
export interface EncodedMessage {
  readonly id: string;
  readonly json: string;
  readonly bytes: number;
}

/** One message to append: any JSON value, and optionally an id that makes the append idempotent. */
export interface MessageInput {
  data: unknown;
  id?: string | undefined;
}

/**
 * Validate and serialise one message. Throws `invalid_payload` for values JSON cannot carry
 * and `payload_too_large` past the limit; nothing is written for a batch with one bad message.
 */
export function encodeMessage(message: MessageInput, maxPayloadBytes: number): EncodedMessage {
  if (message.id !== undefined) assertMessageId(message.id);
  let json: string | undefined;
  try {
    json = JSON.stringify(message.data);
  } catch (error) {
    throw new HoldfastError(
      ErrorCode.InvalidPayload,
      `message data is not serialisable as JSON: ${String(error)}`,
      {
        cause: error,
      },
    );
  }
  if (json === undefined) {
    throw new HoldfastError(
      ErrorCode.InvalidPayload,
      'message data must be a JSON value, got undefined or a function',
    );
  }
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > maxPayloadBytes) {
    throw new HoldfastError(
      ErrorCode.PayloadTooLarge,
      `message is ${bytes} bytes as JSON; the limit is ${maxPayloadBytes} (maxPayloadBytes)`,
      { details: { bytes, limit: maxPayloadBytes } },
    );
  }
  return { id: message.id ?? '', json, bytes };
}
