import { RedisCluster, startCluster } from '@holdfast/testing';
import { EDGE_ENV, WORKER_ENV, clientSide, type Topology } from './topology.js';

/** As docker-compose.redis-cluster.yml: six queues, on all three masters. */
const INBOUND_QUEUES = 6;

/**
 * Failover within seconds, as in the cluster tests: a master unreachable this long is failed
 * over. Long enough that a master busy under the chaos load (2 shared cores) is not taken for dead.
 */
const NODE_TIMEOUT_MS = 1_500;

/**
 * The chaos topology on a Redis Cluster (`--topology redis-cluster`): a real local cluster of
 * 3 masters + 3 replicas (RedisCluster), and the compose services (3 edges, 2 workers, the API,
 * HAProxy, via startCluster) with REDIS_URL=redis+cluster://… naming every node. startCluster
 * still starts the compose file's own redis-server, which nothing here connects to (it cannot
 * be told not to); it sits idle and stops with the rest. There are no Redis link proxies: the
 * Cluster client connects to the addresses the nodes announce, so a proxy in between would only
 * see the first connection.
 */
export async function startClusterTopology(
  onLine?: (name: string, line: string) => void,
  { inboxSweep = true }: { inboxSweep?: boolean } = {},
): Promise<Topology> {
  const redisCluster = await RedisCluster.start({ nodeTimeoutMs: NODE_TIMEOUT_MS });
  const redisUrl = `redis+cluster://${redisCluster.nodesEnv}`;
  const onRedis = { REDIS_URL: redisUrl };
  // Inbox runs over several BullMQ queues (their hash tags fall on every master), as the
  // compose cluster override runs them: edges and workers must agree on the count.
  const queues = { HOLDFAST_INBOUND_QUEUES: String(INBOUND_QUEUES) };
  const cluster = await startCluster({
    detached: true,
    checkInterval: '300ms',
    env: {
      edge: { ...EDGE_ENV, ...onRedis, ...queues },
      worker: {
        ...WORKER_ENV,
        ...(inboxSweep ? {} : { INBOX_SWEEP_EVERY_MS: '0' }),
        ...onRedis,
        ...queues,
      },
      api: onRedis,
    },
    ...(onLine ? { onLine } : {}),
  }).catch(async (error: unknown) => {
    await redisCluster.destroy();
    throw error;
  });
  const { clientProxies, issuer, keyPrefix } = await clientSide(cluster).catch(async (error: unknown) => {
    await cluster.stop();
    await redisCluster.destroy();
    throw error;
  });
  return {
    cluster,
    redisUrl,
    redis: undefined,
    redisCluster,
    clientProxies,
    inboundQueues: INBOUND_QUEUES,
    redisLinks: [],
    issuer,
    keyPrefix,
    async stop() {
      await Promise.all(clientProxies.map((proxy) => proxy.close()));
      await cluster.stop();
      await redisCluster.destroy();
    },
  };
}
