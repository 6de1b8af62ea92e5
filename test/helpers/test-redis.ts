import { Cluster, type Redis } from 'ioredis';
import { RedisCluster, RedisServer } from '@holdfast/testing';

/**
 * The Redis a contract test runs against, chosen for the whole run by HOLDFAST_TEST_REDIS:
 * unset (or `standalone`), one redis-server; `cluster`, a real local Redis Cluster of 3 masters
 * and 3 replicas. The same test bodies then check the session log on both
 * (`npm run test:cluster` runs the core ones on the cluster).
 */
export type Topology = 'standalone' | 'cluster';

export const TOPOLOGY: Topology = process.env.HOLDFAST_TEST_REDIS === 'cluster' ? 'cluster' : 'standalone';

export interface TestRedis {
  readonly topology: Topology;
  /** What the session log and the services are given (REDIS_URL). */
  readonly url: string;
  /** An admin client, disconnected by destroy(). On a cluster it follows slots and shards. */
  client(): Redis | Cluster;
  /** KEYS on every master (on a cluster a key lives on one of them). */
  keys(pattern: string): Promise<string[]>;
  destroy(): Promise<void>;
}

export async function startTestRedis(topology: Topology = TOPOLOGY): Promise<TestRedis> {
  if (topology === 'standalone') {
    const server = await RedisServer.start();
    return {
      topology,
      url: server.url,
      client: () => server.client(),
      keys: (pattern) => server.client().keys(pattern),
      destroy: () => server.destroy(),
    };
  }
  const cluster = await RedisCluster.start();
  const clients: Cluster[] = [];
  const client = (): Cluster => {
    const c = new Cluster(cluster.startupNodes, { shardedSubscribers: true, scaleReads: 'master' });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  };
  return {
    topology,
    url: `redis+cluster://${cluster.nodesEnv}`,
    client,
    async keys(pattern) {
      const admin = client();
      await admin.ping();
      const each = await Promise.all(admin.nodes('master').map((node) => node.keys(pattern)));
      return each.flat();
    },
    async destroy() {
      for (const c of clients) c.disconnect();
      await cluster.destroy();
    },
  };
}
