import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import type { ServerOptions } from 'socket.io';
import { bullConnection, InboundQueue } from '@holdfast/inbound-queue';
import {
  createRedisLink,
  everyMaster,
  isClusterLink,
  type ProbedConnection,
  type RedisLink,
} from '@holdfast/session-log';
import type { EdgeConfig } from './config.js';

/**
 * The edge's Redis connections besides the session log's and the live subscriber's: the
 * Socket.IO adapter's pair (cross-edge notices: `replaced`, drain fan-out) and the inbound
 * queue's. On a single server the adapter is the classic Redis adapter, as it always was; on a
 * Redis Cluster it is the sharded adapter (SPUBLISH/SSUBSCRIBE, Redis 7), whose channels live
 * on one shard each instead of being broadcast to every node.
 */
export interface EdgeRedisLinks {
  readonly adapter: NonNullable<ServerOptions['adapter']>;
  readonly adapterClients: readonly RedisLink[];
  /** What the side-link probes watch for the adapter pair (every master on a cluster). */
  readonly probed: readonly ProbedConnection[];
  readonly inbound: InboundQueue;
  /** Close the inbound queue and what was opened for it. */
  closeInbound(): Promise<void>;
}

export function openEdgeRedisLinks(config: EdgeConfig): EdgeRedisLinks {
  const bull = bullConnection(config.redisUrl);
  const inbound = new InboundQueue(bull.connection, config.keyPrefix, config.inboundQueues);
  const closeInbound = async (): Promise<void> => {
    await inbound.close();
    await bull.close();
  };
  const key = `${config.keyPrefix}:socket.io`;
  const pub = createRedisLink(config.redisUrl, 'command', { connectionName: 'holdfast-edge-adapter-pub' });
  if (isClusterLink(pub)) {
    const sub = createRedisLink(config.redisUrl, 'subscriber', {
      connectionName: 'holdfast-edge-adapter-sub',
    });
    for (const client of [pub, sub]) client.on('error', () => undefined);
    return {
      adapter: createShardedAdapter(pub, sub, { channelPrefix: key }),
      adapterClients: [pub, sub],
      probed: [everyMaster(pub)],
      inbound,
      closeInbound,
    };
  }
  const sub = pub.duplicate({ connectionName: 'holdfast-edge-adapter-sub' });
  for (const client of [pub, sub]) client.on('error', () => undefined);
  return {
    adapter: createAdapter(pub, sub, { key }),
    adapterClients: [pub, sub],
    probed: [pub, sub],
    inbound,
    closeInbound,
  };
}
