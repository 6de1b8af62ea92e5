import { crc32 } from 'node:zlib';

/**
 * Every Redis key and channel of a session, in one place (key layout version 2, decided in
 * docs/architecture.md "Key layout for Redis Cluster and many sessions per script").
 *
 * A deployment has a fixed number of partitions P (`partitions`, default 256). A session lives
 * in partition `p = crc32(sessionId) mod P` for life: CRC-32 as zlib computes it (IEEE
 * polynomial, the one in Node `zlib.crc32`, Python `zlib.crc32`, Go `crc32.ChecksumIEEE`,
 * Java `java.util.zip.CRC32`) over the id's UTF-8 bytes. Only servers compute it; clients
 * never need it. Every key and the live channel of a session carry its partition's hash tag
 * `{pNNN}` (at least three digits): one partition is one Redis Cluster slot, so one script call
 * may append to, or renew the leases of, many sessions of a partition.
 *
 * Session ids are validated before they reach here and cannot contain `{`, `}` or `:`, so
 * `<prefix>:{p042}:s:<id>:meta` names exactly one session and never an old-layout key
 * (`<prefix>:{<id>}:meta`, which ends right after its tag).
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

/** The version of the layout above; stored in Redis with P (key-layout-check.ts). */
export const KEY_LAYOUT_VERSION = 2;
/** @default 256: at least 4× the most shards a deployment will run, few enough to batch well. */
export const DEFAULT_PARTITIONS = 256;
/** A Redis Cluster has 16,384 slots; more partitions could not be more slots. */
export const MAX_PARTITIONS = 16_384;

/** The partition of a session: crc32(UTF-8 id) mod P (see above). */
export function partitionOf(sessionId: string, partitions: number): number {
  return crc32(sessionId) % partitions;
}

/** The hash tag of a partition, braces included: `{p042}`, `{p1234}`. */
export function partitionTag(partition: number): string {
  return `{p${String(partition).padStart(3, '0')}}`;
}

export function sessionKeys(
  prefix: string,
  sessionId: string,
  partitions: number = DEFAULT_PARTITIONS,
): SessionKeys {
  const partition = partitionOf(sessionId, partitions);
  const tagged = `${prefix}:${partitionTag(partition)}`;
  const base = `${tagged}:s:${sessionId}`;
  return {
    meta: `${base}:meta`,
    log: `${base}:log`,
    tomb: `${base}:tomb`,
    idsA: `${base}:ids:a`,
    idsB: `${base}:ids:b`,
    live: `${tagged}:live:${sessionId}`,
    inbox: `${base}:in`,
    inboxState: `${base}:in:state`,
    inIdsA: `${base}:in:ids:a`,
    inIdsB: `${base}:in:ids:b`,
  };
}

/** What SCAN matches to find every session's meta hash of a prefix (scanSessions). */
export function metaKeyPattern(prefix: string): string {
  return `${prefix}:{p*}:s:*:meta`;
}

/** The session id of a key `metaKeyPattern` matched, or undefined for anything else. */
export function sessionIdOfMetaKey(prefix: string, key: string): string | undefined {
  const match = /^\{p\d+\}:s:([^:{}]+):meta$/.exec(key.slice(prefix.length + 1));
  return key.startsWith(`${prefix}:`) ? match?.[1] : undefined;
}

/**
 * Meta hashes of the previous layout (version 1: `<prefix>:{<id>}:meta`, one slot per session).
 * SCAN with `oldLayoutMetaPattern` also matches version-2 keys; `isOldLayoutMetaKey` tells them apart.
 */
export function oldLayoutMetaPattern(prefix: string): string {
  return `${prefix}:{*}:meta`;
}

export function isOldLayoutMetaKey(prefix: string, key: string): boolean {
  return key.startsWith(`${prefix}:`) && /^\{[^:{}]+\}:meta$/.test(key.slice(prefix.length + 1));
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

/**
 * The deployment's key layout, stored once (`{"version":2,"partitions":P}`) and compared by
 * every process at start (key-layout-check.ts). Not hash-tagged, like the dead letters.
 */
export function layoutKey(prefix: string): string {
  return `${prefix}:layout`;
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
