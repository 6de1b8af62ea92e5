import { ErrorCode, HoldfastError, MESSAGE_ID_MAX_LENGTH, assertMessageId } from '@holdfast/protocol';
import type { MessageInput } from '@holdfast/session-log';

/**
 * How a request was shaped: one message, or a batch. The same idempotency key derives
 * different message ids for the two, so a retry must keep the shape of the original.
 */
export type PublishShape = 'single' | 'batch';

/**
 * Gives messages the ids that make a publish idempotent, from one caller-chosen key (the
 * HTTP `Idempotency-Key` header, or the producer's `idempotencyKey` option): a single message
 * gets the key itself as its id; message `i` of a batch gets `${key}.${i}`. A message that
 * brings its own id keeps it. Without a key, messages are returned unchanged.
 *
 * The session log remembers message ids for its dedupe window (5 minutes by default), so a
 * retry with the same key and the same messages writes nothing and returns the original
 * offsets. This one function is used by both the HTTP API and the producer library, so the
 * two derive identical ids.
 */
export function applyIdempotencyKey(
  messages: readonly MessageInput[],
  key: string | undefined,
  shape: PublishShape,
): MessageInput[] {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new HoldfastError(ErrorCode.InvalidPayload, 'a publish needs a non-empty array of messages');
  }
  if (key === undefined) return messages.map((m) => ({ data: m.data, id: m.id }));
  assertIdempotencyKey(key, shape, messages.length);
  if (shape === 'single') {
    if (messages.length !== 1) {
      throw new HoldfastError(
        ErrorCode.InvalidPayload,
        `a single publish carries exactly one message, got ${messages.length}`,
      );
    }
    return messages.map((m) => ({ data: m.data, id: m.id ?? key }));
  }
  return messages.map((m, i) => ({ data: m.data, id: m.id ?? `${key}.${i}` }));
}

/**
 * An idempotency key must be a valid message id, short enough that `${key}.${i}` still is one
 * for the largest index of a batch of `length` messages.
 */
export function assertIdempotencyKey(key: unknown, shape: PublishShape, length = 1): asserts key is string {
  const suffix = shape === 'batch' ? 1 + String(Math.max(length - 1, 0)).length : 0;
  const maxLength = MESSAGE_ID_MAX_LENGTH - suffix;
  try {
    assertMessageId(key);
  } catch {
    throw new HoldfastError(
      ErrorCode.InvalidMessageId,
      `idempotency key must be 1-${maxLength} characters of A-Z a-z 0-9 _ . -`,
    );
  }
  if (key.length > maxLength) {
    throw new HoldfastError(
      ErrorCode.InvalidMessageId,
      `idempotency key is ${key.length} characters; a batch of ${length} derives ids "<key>.<index>", so the key may have at most ${maxLength}`,
    );
  }
}
