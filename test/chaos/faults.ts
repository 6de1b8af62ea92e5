import { type RedisCluster, type ServiceProcess, waitFor } from '@holdfast/testing';
import { killMaster, moveSlots } from './cluster-faults.js';
import { waitForProcessState, type RedisControl } from './redis-control.js';
import { injectRedisLinkFault, type BlackholeLink } from './redis-link-faults.js';
import type { FaultKind } from './schedule.js';
import { sleep } from './sleep.js';
import { EDGE_DEAD_AFTER_MS, type Topology } from './topology.js';

/** How long a fault holds, beyond what the fault itself takes. */
const STOPPED_EDGE_MS = EDGE_DEAD_AFTER_MS + 1_500; // longer than the ping timeout: clients leave it
const BLACKHOLE_MS = EDGE_DEAD_AFTER_MS + 1_500;
const CUT_MS = 1_000;
const REDIS_PAUSE_MS = 3_000;
const REDIS_STOP_MS = 3_000;
const DOWN_BEFORE_RESTART_MS = 1_000;

/** Injects one fault and returns once it is over (processes restarted, links restored); says what it did. */
export async function injectFault(
  topology: Topology,
  kind: FaultKind,
  target: number,
  blackholeLink: BlackholeLink = 'any',
): Promise<string> {
  const { cluster, clientProxies } = topology;
  const edge = kind.startsWith('edge_') ? await busiestEdge(cluster.edges, target) : cluster.edges[0]!;
  switch (kind) {
    case 'edge_kill':
      await edge.kill();
      await sleep(DOWN_BEFORE_RESTART_MS);
      await restart(topology, [edge]);
      return `${edge.name} SIGKILL, restarted`;
    case 'edge_term': {
      const started = Date.now();
      await edge.stop(30_000);
      const drained = Date.now() - started;
      await restart(topology, [edge]);
      return `${edge.name} SIGTERM (drained and exited in ${drained} ms), restarted`;
    }
    case 'edge_stop':
      edge.signal('SIGSTOP');
      await waitForProcessState(edge.pid, true);
      await sleep(STOPPED_EDGE_MS);
      edge.signal('SIGCONT');
      await waitForProcessState(edge.pid, false);
      return `${edge.name} SIGSTOP for ${STOPPED_EDGE_MS} ms, then SIGCONT`;
    case 'client_cut': {
      const proxy = clientProxies[target % clientProxies.length]!;
      const cut = proxy.connectionCount;
      await proxy.cut(CUT_MS);
      return `client proxy ${target % clientProxies.length}: ${cut} connections reset, new ones refused for ${CUT_MS} ms`;
    }
    case 'client_blackhole': {
      const proxy = clientProxies[target % clientProxies.length]!;
      proxy.blackhole('both');
      await sleep(BLACKHOLE_MS);
      proxy.restore();
      return `client proxy ${target % clientProxies.length}: half-open blackhole for ${BLACKHOLE_MS} ms`;
    }
    case 'redis_kill': {
      const redis = standaloneRedis(topology, kind);
      await redis.kill();
      await sleep(DOWN_BEFORE_RESTART_MS);
      await redis.start();
      return `redis SIGKILL, restarted (${redis.persistence})`;
    }
    case 'redis_pause_writes':
      await standaloneRedis(topology, kind).command((r) =>
        r.call('CLIENT', 'PAUSE', String(REDIS_PAUSE_MS), 'WRITE'),
      );
      await sleep(REDIS_PAUSE_MS);
      return `redis CLIENT PAUSE ${REDIS_PAUSE_MS} WRITE`;
    case 'redis_stop': {
      const redis = standaloneRedis(topology, kind);
      await redis.freeze(true);
      await sleep(REDIS_STOP_MS);
      await redis.freeze(false);
      return `redis SIGSTOP for ${REDIS_STOP_MS} ms, then SIGCONT`;
    }
    case 'master_kill':
      return killMaster(redisClusterOf(topology, kind), target);
    case 'master_kill_stale_replica':
      return killMaster(redisClusterOf(topology, kind), target, { staleReplica: true });
    case 'slot_move':
      return moveSlots(redisClusterOf(topology, kind), target);
    case 'worker_kill': {
      const worker = cluster.workers[target % cluster.workers.length]!;
      await worker.kill();
      await sleep(DOWN_BEFORE_RESTART_MS);
      await worker.restart();
      return `${worker.name} SIGKILL (mid-reply), restarted`;
    }
    case 'all_edges_kill':
      await Promise.all(cluster.edges.map((e) => e.kill()));
      await sleep(DOWN_BEFORE_RESTART_MS);
      await restart(topology, cluster.edges);
      return `all ${cluster.edges.length} edges SIGKILL at once, restarted (reconnect storm)`;
    case 'redis_link_latency':
    case 'redis_link_throttle':
    case 'redis_link_blackhole':
    case 'redis_link_reset':
      return injectRedisLinkFault(
        topology,
        kind,
        target,
        () => busiestEdge(cluster.edges, target),
        blackholeLink,
      );
  }
}

function standaloneRedis(topology: Topology, kind: FaultKind): RedisControl {
  if (!topology.redis) throw new Error(`${kind} needs the standalone topology (one redis-server)`);
  return topology.redis;
}

function redisClusterOf(topology: Topology, kind: FaultKind): RedisCluster {
  if (!topology.redisCluster) throw new Error(`${kind} needs --topology redis-cluster`);
  return topology.redisCluster;
}

/**
 * The edge holding the most connections (from its /readyz), so a fault on one edge always hits
 * clients; `target` (from the seeded schedule) breaks ties.
 */
async function busiestEdge(edges: readonly ServiceProcess[], target: number): Promise<ServiceProcess> {
  const counts = await Promise.all(
    edges.map(async (edge) => {
      const res = await fetch(`http://127.0.0.1:${edge.port}/readyz`).catch(() => undefined);
      const body = (await res?.json().catch(() => undefined)) as { connections?: number } | undefined;
      return body?.connections ?? 0;
    }),
  );
  const most = Math.max(...counts);
  const candidates = edges.filter((_, i) => counts[i] === most);
  return candidates[target % candidates.length]!;
}

/** Restarts edges and waits until HAProxy routes to them again. */
async function restart(topology: Topology, edges: readonly ServiceProcess[]): Promise<void> {
  await Promise.all(edges.map((edge) => edge.restart()));
  await waitFor(
    async () => {
      const status = await topology.cluster.serverStatus();
      return Object.entries(status)
        .filter(([name]) => name.startsWith('edges/'))
        .every(([, state]) => state === 'UP');
    },
    { timeoutMs: 30_000, intervalMs: 100, what: 'HAProxy to see every edge UP' },
  );
}
