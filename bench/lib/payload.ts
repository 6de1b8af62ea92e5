/** Every benchmark message is this many bytes of text (ASCII), for every peer. */
export const MESSAGE_BYTES = 100;

/** The largest message any benchmark sends (token streams draw sizes up to this). */
const MAX_BYTES = 4096;
const PAD = '.'.repeat(MAX_BYTES);

/**
 * A message: its per-session sequence number and the time it was meant to be sent (monotonic
 * µs), padded to `bytes` (100 by default; never shorter than its head). The intended time, not the actual one, is what open-loop latency
 * is measured from, so a producer that falls behind shows as latency, not as a slower rate.
 */
export function makePayload(seq: number, intendedMicros: number, bytes = MESSAGE_BYTES): string {
  // Whole µs: the edge's stage trace finds intended times with a digits-only pattern, and the
  // token-stream schedule computes fractional ones.
  const head = `${seq}:${Math.round(intendedMicros)}:`;
  return head + PAD.slice(0, Math.max(0, Math.min(bytes, MAX_BYTES) - head.length));
}

export function parsePayload(payload: string): { seq: number; intendedMicros: number } {
  const first = payload.indexOf(':');
  const second = payload.indexOf(':', first + 1);
  return {
    seq: Number(payload.slice(0, first)),
    intendedMicros: Number(payload.slice(first + 1, second)),
  };
}
