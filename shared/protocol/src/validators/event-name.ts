/**
 * Why it exists: the events a client may emit are part of the protocol; an edge refuses any
 * other name with `unknown_event` before spending anything on it.
 */
import { ErrorCode } from '../error-codes.js';
import type { ClientToServerEvents } from '../events.js';
import { HoldfastError } from '../holdfast-error.js';

export type ClientEventName = keyof ClientToServerEvents;

/** Every event a client may emit after its handshake. */
export const CLIENT_EVENTS: readonly ClientEventName[] = ['ack', 'token', 'send'];

const KNOWN: ReadonlySet<unknown> = new Set<unknown>(CLIENT_EVENTS);

/** Throws `unknown_event` (naming at most 64 characters of it) for any other event name. */
export function validateEventName(event: unknown): asserts event is ClientEventName {
  if (!KNOWN.has(event)) {
    throw new HoldfastError(
      ErrorCode.UnknownEvent,
      `unknown event ${JSON.stringify(String(event).slice(0, 64))}`,
    );
  }
}
