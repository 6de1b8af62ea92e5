/**
 * Every Redis key and channel of a session, in one place. All of them carry the session id as
 * a hash tag (`{id}`), so one session's keys share a Redis Cluster slot and its scripts stay
 * atomic on a cluster. Session ids are validated before they reach here and cannot contain
 * `{`, `}` or `:`.
 */
export interface SessionKeys {
  /** Hash: epoch, head, run id, durability, times, retention, acks (see lua/lib.lua). */
  readonly meta: string;
  /** Stream: one entry per message, entry id `<offset>-0`. */
  readonly log: string;
  /** String: why the session ended; outlives the session so it is never silently revived. */
  readonly tomb: string;
  /** Hashes of recent message ids (idempotent appends), used in turns. */
  readonly idsA: string;
  readonly idsB: string;
  /** Sharded pub/sub channel announcing new entries and epoch changes. */
  readonly live: string;
  /** Stream of inbound (client to server) messages, entry id `<seq>-0`. */
  readonly inbox: string;
  /** Hash: inbound sequence, the open round and its progress, dedupe rotation (see inbox-enqueue-7.lua). */
  readonly inboxState: string;
  /** Hashes of recent inbound message ids, used in turns. */
  readonly inIdsA: string;
  readonly inIdsB: string;
}

export function sessionKeys(prefix: string, sessionId: string): SessionKeys {
  const base = `${prefix}:{${sessionId}}`;
  return {
    meta: `${base}:meta`,
    log: `${base}:log`,
    tomb: `${base}:tomb`,
    idsA: `${base}:ids:a`,
    idsB: `${base}:ids:b`,
    live: `${base}:live`,
    inbox: `${base}:in`,
    inboxState: `${base}:in:state`,
    inIdsA: `${base}:in:ids:a`,
    inIdsB: `${base}:in:ids:b`,
  };
}

/** Key prefixes end up in every key; keep them to characters with no meaning to Redis. */
export { KEY_PREFIX_PATTERN } from '@holdfast/protocol';

/**
 * Stream of inbound messages no attempt could handle, one per deployment (not per session, so
 * it is not hash-tagged: on a cluster it lives in its own slot). Written by workers.
 */
export function deadLetterKey(prefix: string): string {
  return `${prefix}:dead-letters`;
}

/** Every key of a session, in the order end-9.lua and complete-9.lua take them. */
export function allSessionKeys(keys: SessionKeys): string[] {
  return [
    keys.meta,
    keys.log,
    keys.tomb,
    keys.idsA,
    keys.idsB,
    keys.inbox,
    keys.inboxState,
    keys.inIdsA,
    keys.inIdsB,
  ];
}
