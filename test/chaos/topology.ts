import { join } from 'node:path';
import { createTokenIssuer, type TokenIssuer } from '@holdfast/auth';
import { startCluster, type Cluster, type RedisCluster } from '@holdfast/testing';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { RedisControl } from './redis-control.js';

/** Heartbeats and drains shortened so every fault resolves in seconds (compose: 10 s/20 s/5 s/20 s). */
export const EDGE_ENV = {
  PING_INTERVAL_MS: '1000',
  PING_TIMEOUT_MS: '2000',
  LEASE_MS: '3000',
  DRAIN_SPREAD_MS: '500',
  DRAIN_TIMEOUT_MS: '5000',
} as const;
/** A stalled edge is one stopped for longer than a client needs to notice it (interval + timeout). */
export const EDGE_DEAD_AFTER_MS = Number(EDGE_ENV.PING_INTERVAL_MS) + Number(EDGE_ENV.PING_TIMEOUT_MS);

export const WORKER_ENV = {
  // A dead worker's inbox runs move within about LOCK + 2 × STALLED (compose defaults: 25 s).
  LOCK_DURATION_MS: '3000',
  STALLED_INTERVAL_MS: '1000',
  SHUTDOWN_TIMEOUT_MS: '3000',
  // The example agent streams 12 deltas over ~360 ms: a worker killed at random is mid-reply.
  EXAMPLE_AGENT_DELTAS: '12',
  EXAMPLE_AGENT_DELAY_MS: '30',
  // Crashes count as attempts: enough of them that a reply interrupted by every worker kill of
  // a long run is still answered rather than dead-lettered.
  MAX_ATTEMPTS: '20',
  RETRY_BASE_MS: '200',
  RETRY_MAX_MS: '2000',
  // Inbox runs lost with Redis data (the data-loss phases) are re-submitted within seconds, inside
  // the final drain's wait (orphaned-inbox-runs.ts; default a minute).
  INBOX_SWEEP_EVERY_MS: '3000',
} as const;

export const CLIENT_PROXIES = 4;

/** One service process's connection to Redis, through its own fault proxy. */
export interface RedisLink {
  /** The process it serves: `edge-1`, `worker-2`, `api-1`. */
  readonly name: string;
  readonly proxy: FaultProxy;
}

export interface Topology {
  readonly cluster: Cluster;
  /** Where the services' Redis is (their REDIS_URL without the link proxies): a server or a cluster. */
  readonly redisUrl: string;
  /** The one redis-server of the standalone topology; absent on a Redis Cluster. */
  readonly redis: RedisControl | undefined;
  /** The Redis Cluster of the redis-cluster topology (cluster-topology.ts); absent on one server. */
  readonly redisCluster: RedisCluster | undefined;
  /** Clients connect through these (each to one), which forward to HAProxy. */
  readonly clientProxies: readonly FaultProxy[];
  /**
   * Every service process reaches Redis through its own proxy (REDIS_URL points at it), so a
   * fault can hit one service's link. They outlive restarts of the process and of Redis.
   */
  readonly redisLinks: readonly RedisLink[];
  readonly issuer: TokenIssuer;
  readonly keyPrefix: string;
  /** BullMQ queues the inbox runs are spread over (HOLDFAST_INBOUND_QUEUES of edges and workers). */
  readonly inboundQueues: number;
  stop(): Promise<void>;
}

export async function startTopology(
  onLine?: (name: string, line: string) => void,
  { inboxSweep = true }: { inboxSweep?: boolean } = {},
): Promise<Topology> {
  const redisLinks: RedisLink[] = [];
  const closeLinks = (): Promise<unknown> => Promise.all(redisLinks.map((link) => link.proxy.close()));
  const cluster = await startCluster({
    detached: true,
    checkInterval: '300ms',
    env: { edge: EDGE_ENV, worker: inboxSweep ? WORKER_ENV : { ...WORKER_ENV, INBOX_SWEEP_EVERY_MS: '0' } },
    redisLink: async (name, redisPort) => {
      const proxy = await FaultProxy.start({ targetPort: redisPort });
      redisLinks.push({ name, proxy });
      return proxy.port;
    },
    ...(onLine ? { onLine } : {}),
  }).catch(async (error: unknown) => {
    await closeLinks();
    throw error;
  });
  redisLinks.sort((a, b) => a.name.localeCompare(b.name));
  const redis = new RedisControl(cluster.redis, join(cluster.dataDir, 'redis'));
  const { clientProxies, issuer, keyPrefix } = await clientSide(cluster);
  return {
    cluster,
    redisUrl: redis.url,
    redis,
    redisCluster: undefined,
    clientProxies,
    redisLinks,
    issuer,
    keyPrefix,
    inboundQueues: 1,
    async stop() {
      await Promise.all(clientProxies.map((proxy) => proxy.close()));
      await cluster.stop();
      await closeLinks();
      // A Redis restarted with other flags is a process the cluster does not know.
      if (redis.running) await redis.stop();
    },
  };
}

/** The client proxies in front of HAProxy, a token issuer the edges accept, the key prefix. */
export async function clientSide(
  cluster: Cluster,
): Promise<Pick<Topology, 'clientProxies' | 'issuer' | 'keyPrefix'>> {
  const haproxyPort = Number(new URL(cluster.haproxyUrl).port);
  const clientProxies = await Promise.all(
    Array.from({ length: CLIENT_PROXIES }, () => FaultProxy.start({ targetPort: haproxyPort })),
  );
  const edgeEnv = cluster.edges[0]?.options.env ?? {};
  const issuer = createTokenIssuer({
    algorithm: 'HS256',
    secret: (edgeEnv.TOKEN_HS256_SECRETS ?? '').split(',')[0] ?? '',
    audience: edgeEnv.TOKEN_AUDIENCE ?? 'holdfast',
  });
  return { clientProxies, issuer, keyPrefix: edgeEnv.HOLDFAST_KEY_PREFIX ?? 'hf' };
}
