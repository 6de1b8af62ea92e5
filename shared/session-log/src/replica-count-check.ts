import type { Redis } from 'ioredis';
import { ErrorCode, HoldfastError } from '@holdfast/protocol';
import { isClusterLink, type CommandLink } from './redis-clients.js';
import type { ReplicationWait } from './replication-wait.js';

/**
 * Refuse to start when a replication wait asks for more replicas than a master has: every
 * write on that master would wait its full timeout and then fail, so the service would look
 * up but take no writes. Checked once at start against the replicas connected now (INFO
 * replication `connected_slaves`) of the one server or of every master of a cluster; a replica
 * lost later makes writes fail with `replication_timeout` instead, which is the point.
 */
export async function checkReplicaCount(redis: CommandLink, wait: ReplicationWait): Promise<void> {
  const masters: Redis[] = isClusterLink(redis) ? redis.nodes('master') : [redis];
  const counts = await Promise.all(masters.map((node) => connectedReplicas(node)));
  counts.forEach((count, i) => {
    if (count >= wait.replicas) return;
    const node = masters[i] as Redis;
    throw new HoldfastError(
      ErrorCode.InvalidOptions,
      `replication wait asks ${wait.replicas} replica(s) to confirm every write, but the master at ${node.options.host ?? '?'}:${node.options.port ?? '?'} has ${count} connected: add replicas, or lower the count in HOLDFAST_REPLICATION_WAIT (replicationWait), or set it to off`,
    );
  });
}

async function connectedReplicas(node: Redis): Promise<number> {
  const info = await node.info('replication');
  const match = /^connected_slaves:(\d+)/m.exec(info);
  return Number(match?.[1] ?? 0);
}
