import type { ConnectionOptions } from 'bullmq';
import { createRedisLink, isClusterTarget } from '@holdfast/session-log';

/**
 * BullMQ's connection to a deployment's Redis. A server keeps what it always had (BullMQ opens
 * its own connections from the URL). A Redis Cluster needs a Cluster client, and every key of
 * a queue in one slot, since BullMQ's scripts touch many of them: the queue prefix is then a
 * hash tag (`{hf-bull}`), so the queues live on one shard (see docs/deploy.md, Redis Cluster).
 */
export interface BullConnection {
  readonly connection: ConnectionOptions;
  readonly onCluster: boolean;
  /** Close what this opened (BullMQ does not close a client it was given). */
  close(): Promise<void>;
}

export function bullConnection(redisUrl: string): BullConnection {
  if (!isClusterTarget(redisUrl)) {
    return { connection: { url: redisUrl }, onCluster: false, close: () => Promise.resolve() };
  }
  const cluster = createRedisLink(redisUrl, 'blocking', { connectionName: 'holdfast-bull' });
  cluster.on('error', () => undefined);
  return {
    connection: cluster,
    onCluster: true,
    close: async () => {
      await cluster.quit().catch(() => cluster.disconnect());
    },
  };
}

/** True when BullMQ was given a Cluster client (its prefix must then be a hash tag). */
export function isClusterConnection(connection: ConnectionOptions): boolean {
  return (connection as { isCluster?: boolean }).isCluster === true;
}
