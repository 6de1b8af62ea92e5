/**
 * What a worker writes to a session's outbound log while handling an inbound message. Every
 * entry carries `$holdfast` so a client can tell worker output from what other producers
 * publish, and `messageId` (the client's id of the inbound message) so it can attribute it.
 * Clients (the SDK) use these to discard the output of an aborted attempt.
 */

export const ENVELOPE_KEY = '$holdfast';

/** Something the handler published while handling `messageId`, in attempt `attempt`. */
export interface ReplyEnvelope<T = unknown> {
  readonly $holdfast: 'reply';
  readonly messageId: string;
  readonly attempt: number;
  readonly data: T;
}

/**
 * Attempt `attempt` of `messageId` was interrupted after it had published: discard its
 * replies (and those of any earlier attempt); the next attempt's replies follow.
 */
export interface AttemptAbortedEnvelope {
  readonly $holdfast: 'attempt_aborted';
  readonly messageId: string;
  readonly attempt: number;
}

/** `messageId` could not be handled: no (further) reply will come for it. */
export interface ErrorEnvelope {
  readonly $holdfast: 'error';
  readonly messageId: string;
  readonly code: 'handler_failed';
  /** The last attempt's error message, truncated to `MAX_ERROR_MESSAGE_LENGTH` characters. */
  readonly message: string;
  /** How many attempts were started. */
  readonly attempts: number;
}

export type WorkerEnvelope = ReplyEnvelope | AttemptAbortedEnvelope | ErrorEnvelope;

export const MAX_ERROR_MESSAGE_LENGTH = 1000;

export function replyEnvelope<T>(messageId: string, attempt: number, data: T): ReplyEnvelope<T> {
  return { $holdfast: 'reply', messageId, attempt, data };
}

export function attemptAbortedEnvelope(messageId: string, attempt: number): AttemptAbortedEnvelope {
  return { $holdfast: 'attempt_aborted', messageId, attempt };
}

export function errorEnvelope(messageId: string, message: string, attempts: number): ErrorEnvelope {
  return {
    $holdfast: 'error',
    messageId,
    code: 'handler_failed',
    message: truncate(message, MAX_ERROR_MESSAGE_LENGTH),
    attempts,
  };
}

/** `text` cut to at most `max` characters, ending in `…` when cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** Narrows a log entry's data to a worker envelope (a client's first check on each entry). */
export function isWorkerEnvelope(value: unknown): value is WorkerEnvelope {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  if (typeof v.messageId !== 'string') return false;
  switch (v[ENVELOPE_KEY]) {
    case 'reply':
      return typeof v.attempt === 'number' && 'data' in v;
    case 'attempt_aborted':
      return typeof v.attempt === 'number';
    case 'error':
      return typeof v.code === 'string' && typeof v.message === 'string' && typeof v.attempts === 'number';
    default:
      return false;
  }
}
