import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { parseRedisTarget } from '@holdfast/protocol';

/**
 * The one place Holdfast opens a Redis connection: a `Redis` for a single server, a `Cluster`
 * for a `redis+cluster://` URL (see @holdfast/protocol's redis-target.ts), with the options the
 * connection's role needs. Services and tools call this instead of `new Redis(...)`, so a
 * cluster works everywhere a server does, and the standalone path stays what it was.
 */

/** A connection to a deployment's Redis: one server or a cluster. */
export type RedisLink = Redis | Cluster;

/**
 * The connection scripts run on. A Cluster has no single socket (`stream`): code that corks
 * the socket of a server (group-commit.ts) finds none on a cluster and writes as usual.
 */
export type CommandLink = Redis | (Cluster & { readonly stream?: undefined });

/** Where Redis is: a URL (standalone or cluster) or ioredis options for one server. */
export type RedisConnectionTarget = string | RedisOptions;

/**
 * What a connection is for:
 * - `command`: scripts and plain commands, answered in order;
 * - `subscriber`: sharded pub/sub (SSUBSCRIBE); on a cluster one connection per master, each
 *   channel on the shard that owns its slot;
 * - `blocking`: BullMQ's connections (blocking reads; BullMQ wants no per-request retry limit).
 */
export type RedisRole = 'command' | 'subscriber' | 'blocking';

const ROLE_DEFAULTS: Record<RedisRole, RedisOptions> = {
  command: {},
  subscriber: { maxRetriesPerRequest: null },
  blocking: { maxRetriesPerRequest: null },
};

/**
 * Options of the Cluster object itself; the per-node ones go in `redisOptions`. Redirections
 * (MOVED, ASK) are followed and the slot map refreshed by ioredis; writes and scripts go to
 * masters only.
 */
const CLUSTER_DEFAULTS: ClusterOptions = {
  scaleReads: 'master',
  maxRedirections: 16,
  retryDelayOnFailover: 100,
  retryDelayOnClusterDown: 100,
  retryDelayOnTryAgain: 100,
  slotsRefreshTimeout: 2_000,
};

/** How often a subscriber re-reads the slot map: one CLUSTER SLOTS call to one node. */
const SUBSCRIBER_SLOTS_REFRESH_MS = 2_000;

/**
 * Node options that must not reach a cluster's node connections. ioredis opens those lazily
 * and sends the first command while connecting: with no offline queue that command fails
 * ("Stream isn't writeable"), so the first script to each master would. The cluster's scripts
 * read the identity of the node running them (lua/lib.lua, hf_identity), so queueing and
 * resending cannot carry a stale one; commandTimeout still bounds every command.
 */
function nodeOptionsOf(options: RedisOptions): RedisOptions {
  const { enableOfflineQueue: _queue, autoResendUnfulfilledCommands: _resend, ...rest } = options;
  return rest;
}

/** Open a connection for `role`; `options` (connection name, timeouts) win over the role's defaults. */
export function createRedisLink(
  target: RedisConnectionTarget,
  role: RedisRole,
  options: RedisOptions = {},
): RedisLink {
  const merged: RedisOptions = { ...ROLE_DEFAULTS[role], ...options };
  if (typeof target !== 'string') return new Redis({ ...target, ...merged });
  const parsed = parseRedisTarget(target);
  if (parsed.kind === 'standalone') return new Redis(parsed.url, merged);
  const nodeOptions = nodeOptionsOf(merged);
  return new Cluster(
    parsed.nodes.map((node) => ({ host: node.host, port: node.port })),
    {
      ...CLUSTER_DEFAULTS,
      shardedSubscribers: role === 'subscriber',
      // A subscriber sends nothing that Redis could answer with MOVED, so it would never learn
      // of a slot move: a backstop poll of the slot map bounds how long a moved channel stays
      // subscribed nowhere, should the server's sunsubscribe be missed (live-subscriptions.ts).
      ...(role === 'subscriber' ? { slotsRefreshInterval: SUBSCRIBER_SLOTS_REFRESH_MS } : {}),
      // Blocking connections (BullMQ) must queue while the cluster connects, like a server's.
      enableOfflineQueue: role === 'blocking' ? true : (options.enableOfflineQueue ?? true),
      redisOptions: {
        ...nodeOptions,
        ...(parsed.username !== undefined ? { username: parsed.username } : {}),
        ...(parsed.password !== undefined ? { password: parsed.password } : {}),
        ...(parsed.tls ? { tls: {} } : {}),
      },
    },
  );
}

/** True when the link is a Redis Cluster client. */
export function isClusterLink(link: RedisLink): link is Cluster {
  return (link as Partial<Cluster>).isCluster === true;
}

/** True when `target` names a Redis Cluster. */
export function isClusterTarget(target: RedisConnectionTarget): boolean {
  return typeof target === 'string' && parseRedisTarget(target).kind === 'cluster';
}
