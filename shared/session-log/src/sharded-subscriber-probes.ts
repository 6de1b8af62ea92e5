import type { Cluster } from 'ioredis';
import { RedisLinkProbe, type LinkProbeOptions, type ProbedConnection } from './redis-link-probe.js';

/**
 * ioredis's own sharded subscriber connections of a Cluster opened with `shardedSubscribers`,
 * by node key ("host:port"), one per master. ioredis does not expose them: in ioredis 5.11.1
 * (lib/cluster/index.ts, ClusterSubscriberGroup.ts, ShardedSubscriber.ts) the Cluster keeps a
 * private `shardedSubscribers` ClusterSubscriberGroup, whose own `shardedSubscribers` Map holds
 * a ShardedSubscriber per master; `getInstance()` is its connection (null once stopped) and
 * `getNodeKey()` its master. Everything is checked before use, so another ioredis version
 * yields `undefined` (nothing probed beyond the command links, as before) rather than a crash;
 * test/integration/cluster/subscriber-probe.test.ts fails if an upgrade moves them.
 */
export function shardedSubscriberConnections(cluster: Cluster): Map<string, ProbedConnection> | undefined {
  const group: unknown = Reflect.get(cluster, 'shardedSubscribers');
  if (typeof group !== 'object' || group === null) return undefined;
  const subscribers: unknown = Reflect.get(group, 'shardedSubscribers');
  if (!(subscribers instanceof Map)) return undefined;
  const connections = new Map<string, ProbedConnection>();
  for (const subscriber of subscribers.values() as IterableIterator<unknown>) {
    if (typeof subscriber !== 'object' || subscriber === null) return undefined;
    const { getInstance, getNodeKey } = subscriber as { getInstance?: unknown; getNodeKey?: unknown };
    if (typeof getInstance !== 'function' || typeof getNodeKey !== 'function') return undefined;
    const instance: unknown = getInstance.call(subscriber);
    const nodeKey: unknown = getNodeKey.call(subscriber);
    if (instance === null) continue; // stopped: ioredis is replacing it
    if (!isProbedConnection(instance) || typeof nodeKey !== 'string') return undefined;
    connections.set(nodeKey, instance);
  }
  return connections;
}

function isProbedConnection(value: unknown): value is ProbedConnection {
  const c = value as Partial<Record<keyof ProbedConnection, unknown>> | null;
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof c.status === 'string' &&
    typeof c.ping === 'function' &&
    typeof c.disconnect === 'function' &&
    typeof c.on === 'function'
  );
}

/**
 * A deadline probe (redis-link-probe.ts) on each of ioredis's sharded subscriber connections.
 * The cluster's command links can all be fine while one subscriber connection is silent (a
 * half-open socket, a NAT that lost just that flow): its channels then get no notification and
 * nothing says so. Each connection gets the same PING, interval, deadline and miss count as a
 * command link, so a busy shard is no more a false alarm here than there. A connection declared
 * dead is dropped; ioredis gives its subscribers no retry strategy, so the drop ends it, and its
 * ClusterSubscriberGroup replaces it and subscribes its channels again (`subscribersReady`).
 *
 * The set of connections changes under ioredis (failover, slot moves, lazy starts), so it is
 * re-read every probe interval: a new connection gets a probe, a gone one loses its own.
 */
export class ShardedSubscriberProbes {
  private readonly probes = new Map<ProbedConnection, RedisLinkProbe>();
  /** Masters whose connection was declared dead and whose replacement has not answered yet. */
  private readonly silent = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly cluster: Cluster,
    private readonly options: LinkProbeOptions,
    /** A master's subscriber connection was declared dead (and is being dropped). */
    private readonly onSilent: (nodeKey: string) => void,
  ) {
    this.timer = setInterval(() => this.sweep(), options.intervalMs ?? 1000);
    this.timer.unref();
    this.sweep();
  }

  /**
   * No subscriber connection is known dead: one declared dead counts as down until its
   * replacement has answered a PING, so readiness does not come back on a new socket over a
   * link that is still silent (a subscriber connection has no ready check to fail).
   */
  get healthy(): boolean {
    return this.silent.size === 0;
  }

  stop(): void {
    clearInterval(this.timer);
    for (const probe of this.probes.values()) probe.stop();
    this.probes.clear();
  }

  private sweep(): void {
    const connections = shardedSubscriberConnections(this.cluster);
    const current = new Set(connections?.values());
    for (const [connection, probe] of this.probes) {
      if (current.has(connection)) continue;
      probe.stop();
      this.probes.delete(connection);
    }
    for (const [nodeKey, connection] of connections ?? []) {
      let probe = this.probes.get(connection);
      if (!probe) {
        probe = new RedisLinkProbe(connection, this.options, () => this.declare(nodeKey));
        this.probes.set(connection, probe);
      }
      if (probe.answered) this.silent.delete(nodeKey);
    }
    // A master that no longer has a subscriber (it lost its slots, failed over) is not waited for.
    for (const nodeKey of this.silent) if (!connections?.has(nodeKey)) this.silent.delete(nodeKey);
  }

  private declare(nodeKey: string): void {
    this.silent.add(nodeKey);
    this.onSilent(nodeKey);
  }
}
