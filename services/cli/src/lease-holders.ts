import type { RedisLink, SessionKeys } from '@holdfast/session-log';

/** The connection holding a consumer's lease: the one its edge delivers to and takes acks from. */
export interface LeaseHolder {
  /** The holding connection's Socket.IO id. */
  readonly connection: string;
  /** Its lease generation: each new connection of the consumer takes the next one. */
  readonly generation: number;
}

/**
 * Lease holders per consumer of a session. The session log's `info` (and the API's GET
 * session) report presence but not the holder, so this reads the `holder:<consumer>` and
 * `lease:<consumer>` fields of the meta hash (schema in shared/session-log/src/lua/lib.lua).
 * A read-only HGETALL: it takes part in no script's atomicity. Which edge holds the connection
 * is recorded nowhere (see docs/operations.md).
 */
export async function readLeaseHolders(
  redis: RedisLink,
  keys: Pick<SessionKeys, 'meta'>,
): Promise<Record<string, LeaseHolder>> {
  const meta = await redis.hgetall(keys.meta);
  const holders: Record<string, LeaseHolder> = {};
  for (const [field, value] of Object.entries(meta)) {
    if (!field.startsWith('holder:')) continue;
    const consumer = field.slice('holder:'.length);
    holders[consumer] = { connection: value, generation: Number(meta[`lease:${consumer}`] ?? 0) };
  }
  return holders;
}
