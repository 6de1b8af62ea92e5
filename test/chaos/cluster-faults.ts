import type { Redis } from 'ioredis';
import { type ClusterNodeRole, type RedisCluster, type RedisServer, waitFor } from '@holdfast/testing';
import { sleep } from './sleep.js';

/**
 * Slots one `slot_move` hands from one master to another: about 6% of the key space, so about a
 * dozen of the 200 sessions move each time (the reshard test's size, 1.9 s there unloaded).
 */
const SLOTS_PER_MOVE = 1_000;
/** How long `master_kill_stale_replica` keeps the replica from its master before the kill. */
const STALE_MS = 1_500;
/** A password the master does not have: the replica's reconnections fail at AUTH. */
const WRONG_MASTERAUTH = 'holdfast-chaos-stale-replica';

/**
 * `master_kill`: kill -9 a master (every master holds some of the run's sessions: 200 sessions
 * spread over 3 masters), wait until its replica serves its slots, then start the old master
 * again on its port and data folder, so it rejoins as a replica of the promoted one, and wait
 * until it has synced: until then a second kill of that shard would promote an empty node.
 * Appends the replica had not received when the master died are lost; the new master's run id
 * rotates the epoch of every session of the shard, which clients see as `epoch_changed`.
 */
export async function killMaster(
  redisCluster: RedisCluster,
  target: number,
  { staleReplica = false } = {},
): Promise<string> {
  const masters = await servingMasters(redisCluster);
  const master = masters[target % masters.length]!;
  const replicas = (await redisCluster.roles()).filter(
    (r) => r.role === 'replica' && r.masterId === master.id && r.server.running,
  );
  const started = Date.now();
  const cut = staleReplica ? await cutFromMaster(replicas) : undefined;
  const killedAt = Date.now();
  let killed: RedisServer;
  let promoted: RedisServer;
  try {
    ({ killed, promoted } = await redisCluster.killMasterOf(master.slots[0]![0]));
  } finally {
    await cut?.restore();
  }
  const promotedMs = Date.now() - killedAt;
  await killed.restart();
  await waitFor(
    async () => (await redisCluster.roles()).some((r) => r.server === killed && r.role === 'replica'),
    { timeoutMs: 30_000, intervalMs: 100, what: `the old master :${killed.port} to rejoin as a replica` },
  );
  await redisCluster.waitReplicasLinked();
  await redisCluster.waitHealthy();
  return (
    `master :${killed.port} (${slotCount(master)} slots) SIGKILL` +
    (cut ? `, its replica cut off from it for ${cut.staleMs} ms before` : '') +
    `, replica :${promoted.port} ` +
    `promoted ${promotedMs} ms after the kill, old master back as its replica ` +
    `${Date.now() - started} ms after the fault began`
  );
}

/**
 * `master_kill_stale_replica`: the replicas stop receiving the master's writes (their link is
 * closed and every reconnection fails at AUTH, so they stay up and in the cluster), and the
 * master goes on acknowledging appends for STALE_MS: what a replica lagging behind a loaded
 * master would miss. Loopback replication otherwise keeps up to the millisecond, so a plain
 * kill rarely loses anything; this one always does, and the books must see every acknowledged
 * append of those seconds either delivered or reset away (`lost by Redis, surfaced`).
 */
async function cutFromMaster(
  replicas: readonly ClusterNodeRole[],
): Promise<{ staleMs: number; restore: () => Promise<void> }> {
  const admins = replicas.map((r) => r.server.client({ maxRetriesPerRequest: 1 }));
  const all = (fn: (admin: Redis) => Promise<unknown>): Promise<unknown> => Promise.all(admins.map(fn));
  const restore = async (): Promise<void> => {
    await all((a) => a.config('SET', 'masterauth', '')).catch(() => undefined);
    for (const admin of admins) admin.disconnect();
  };
  try {
    await all((a) => a.config('SET', 'masterauth', WRONG_MASTERAUTH));
    await all((a) => a.call('CLIENT', 'KILL', 'TYPE', 'master'));
    await waitFor(
      async () => {
        const infos = (await all((a) => a.info('replication'))) as string[];
        return infos.every((info) => /master_link_status:down/.test(info));
      },
      { timeoutMs: 10_000, intervalMs: 20, what: 'the replicas to lose their master link' },
    );
  } catch (error) {
    await restore();
    throw error;
  }
  const cutAt = Date.now();
  await sleep(STALE_MS); // the master acknowledges appends its replicas never get
  return { staleMs: Date.now() - cutAt, restore };
}

/** `slot_move`: `redis-cli --cluster reshard` of SLOTS_PER_MOVE slots between two masters, under load. */
export async function moveSlots(redisCluster: RedisCluster, target: number): Promise<string> {
  const masters = await servingMasters(redisCluster);
  const from = masters[target % masters.length]!;
  const others = (await redisCluster.roles()).filter(
    (r) => r.role === 'master' && r.server.running && r.id !== from.id,
  );
  const to = others[target % others.length]!;
  const slots = Math.min(SLOTS_PER_MOVE, slotCount(from));
  const started = Date.now();
  await redisCluster.reshard(from.id, to.id, slots);
  return `${slots} slots :${from.server.port} -> :${to.server.port} in ${Date.now() - started} ms`;
}

/** After a fault that failed half-way: every node running again and the cluster healthy. */
export async function healRedisCluster(redisCluster: RedisCluster): Promise<void> {
  for (const node of redisCluster.nodes) {
    if (!node.running) await node.restart().catch(() => undefined);
  }
  await redisCluster.waitHealthy().catch(() => undefined);
}

/** Running masters that serve slots, by their lowest slot, so that a seed's `target` picks alike. */
async function servingMasters(redisCluster: RedisCluster): Promise<ClusterNodeRole[]> {
  const masters = (await redisCluster.roles())
    .filter((r) => r.role === 'master' && r.server.running && r.slots.length > 0)
    .sort((a, b) => lowestSlot(a) - lowestSlot(b));
  if (masters.length === 0) throw new Error('no running master serves slots');
  return masters;
}

function slotCount(role: ClusterNodeRole): number {
  return role.slots.reduce((n, [from, to]) => n + to - from + 1, 0);
}

function lowestSlot(role: ClusterNodeRole): number {
  return Math.min(...role.slots.map(([from]) => from));
}
