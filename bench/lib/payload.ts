/** Every benchmark message is this many bytes of text (ASCII), for every peer. */
export const MESSAGE_BYTES = 100;

const PAD = '.'.repeat(MESSAGE_BYTES);

/**
 * A message: its per-session sequence number and the time it was meant to be sent (monotonic
 * µs), padded to 100 bytes. The intended time, not the actual one, is what open-loop latency
 * is measured from, so a producer that falls behind shows as latency, not as a slower rate.
 */
export function makePayload(seq: number, intendedMicros: number): string {
  const head = `${seq}:${intendedMicros}:`;
  return head + PAD.slice(head.length);
}

export function parsePayload(payload: string): { seq: number; intendedMicros: number } {
  const first = payload.indexOf(':');
  const second = payload.indexOf(':', first + 1);
  return {
    seq: Number(payload.slice(0, first)),
    intendedMicros: Number(payload.slice(first + 1, second)),
  };
}
