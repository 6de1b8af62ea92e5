/**
 * What travels on a session's live channel (published by the append, end and epoch-check
 * scripts). Pub/sub is only a hint that something happened: readers check offsets and refill
 * gaps from the stream, which is the truth.
 */
export type LiveNotification =
  /** Entries `from`, `from + 1`, … were appended together in `epoch` (none: the epoch changed). */
  | {
      readonly kind: 'entries';
      readonly epoch: string;
      readonly from: number;
      readonly data: readonly unknown[];
      readonly bytes: number;
    }
  /** The session ended; connected clients get `session_ended`. */
  | { readonly kind: 'ended'; readonly reason: string }
  /**
   * The subscription was re-established after a disconnect: notifications may have been
   * missed, so every reader must re-read from where it is.
   */
  | { readonly kind: 'resync' };

interface EntriesWire {
  e: string;
  o: number;
  d: unknown[];
}

/** Decode a channel message; undefined for anything malformed (it is ignored, never trusted). */
export function decodeLiveNotification(message: string): LiveNotification | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const wire = parsed as Partial<EntriesWire> & { ended?: unknown };
  if (typeof wire.ended === 'string') return { kind: 'ended', reason: wire.ended };
  if (typeof wire.e === 'string' && Number.isSafeInteger(wire.o) && Array.isArray(wire.d)) {
    return { kind: 'entries', epoch: wire.e, from: wire.o as number, data: wire.d, bytes: message.length };
  }
  return undefined;
}
