import { isOffset, type CompletePayload, type LogPosition } from '@holdfast/protocol';

/**
 * Why a `complete` breaks the contract ("every message up to and including finalOffset of
 * epoch was sent on this connection before this event"), or undefined when it keeps it.
 * `arrived`: the last offset this connection delivered (or the app had handled before it);
 * `handled`: what the app has handled. A violation means reconnecting from the handled
 * position, not ending: the edge's promise cannot be trusted, the app's data can.
 */
export function completeViolation(
  payload: unknown,
  arrived: LogPosition | undefined,
  handled: LogPosition | undefined,
): string | undefined {
  const { epoch, finalOffset } = (typeof payload === 'object' && payload !== null ? payload : {}) as Partial<
    Record<keyof CompletePayload, unknown>
  >;
  if (typeof epoch !== 'string' || !isOffset(finalOffset)) return 'a malformed complete';
  if (!arrived || arrived.epoch !== epoch) {
    return `complete of epoch ${epoch} while delivering ${arrived ? `epoch ${arrived.epoch}` : 'no epoch yet'}`;
  }
  if (handled && handled.epoch === epoch && finalOffset < handled.offset) {
    return `complete at ${finalOffset}, below the handled offset ${handled.offset}`;
  }
  if (finalOffset !== arrived.offset) {
    return `complete at ${finalOffset} after offsets up to ${arrived.offset} arrived`;
  }
  return undefined;
}
