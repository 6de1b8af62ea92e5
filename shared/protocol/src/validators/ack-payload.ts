/**
 * Why it exists: the shape of a client's `ack` is checked the same way wherever it is read;
 * whether the ack makes sense for a connection (its epoch, going backwards, never delivered) is
 * the edge's question, not the protocol's.
 */
import { ErrorCode } from '../error-codes.js';
import type { AckPayload } from '../events.js';
import { HoldfastError } from '../holdfast-error.js';
import { isOffset } from '../identifiers.js';

/** Throws `invalid_ack` unless the payload is `{ epoch: string, offset: non-negative integer }`. */
export function validateAck(payload: unknown): AckPayload {
  const { epoch, offset } = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<
    string,
    unknown
  >;
  if (typeof epoch !== 'string' || !isOffset(offset)) {
    throw new HoldfastError(
      ErrorCode.InvalidAck,
      'ack must be { epoch: string, offset: non-negative integer }',
    );
  }
  return { epoch, offset };
}
