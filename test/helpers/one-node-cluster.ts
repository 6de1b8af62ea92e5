import { freePort, RedisServer, waitFor } from '@holdfast/testing';

/**
 * A redis-server in cluster mode serving every slot on its own. A plain (non-cluster)
 * connection to it behaves as to a standalone Redis except that a command or script whose keys
 * span slots is refused with CROSSSLOT: what many-session script calls must respect on a
 * cluster, testable without a whole one.
 */
export async function startOneNodeCluster(): Promise<RedisServer> {
  const node = await RedisServer.start({
    extraArgs: ['--cluster-enabled', 'yes', '--cluster-port', String(await freePort())],
  });
  try {
    const admin = node.client();
    await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    await waitFor(async () => String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok'), {
      what: 'the one-node cluster to serve every slot',
    });
    return node;
  } catch (error) {
    await node.destroy();
    throw error;
  }
}
