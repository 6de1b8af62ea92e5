import type { Cluster } from 'ioredis';
import type { ProbedConnection } from './redis-link-probe.js';

/**
 * A Redis Cluster seen by the link probe (redis-link-probe.ts) as one link: a PING goes to every
 * master the client knows, and answers when all have. One silent master makes the link miss,
 * as one silent server does; a master that refuses the connection (killed, failing over)
 * fails the PING at once, which the probe leaves to ioredis (it refreshes the slot map and
 * follows the promoted replica). A dead link reconnects the whole cluster client.
 */
export function everyMaster(cluster: Cluster): ProbedConnection {
  return {
    get status() {
      return cluster.status;
    },
    async ping() {
      const masters = cluster.nodes('master');
      if (masters.length === 0) throw new Error('the cluster client knows no master');
      await Promise.all(masters.map((node) => node.ping()));
      return 'PONG';
    },
    disconnect: (reconnect?: boolean) => cluster.disconnect(reconnect),
    on: (event: 'ready', listener: () => void) => cluster.on(event, listener),
  };
}
