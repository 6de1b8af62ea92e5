import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import { freePort } from './free-port.js';
import { showsWholeCluster } from './cluster-view.js';
import type { AppendFsync } from './redis-config.js';
import { RedisServer } from './redis-server.js';
import { waitFor } from './wait-for.js';

const run = promisify(execFile);

export interface RedisClusterOptions {
  /** Default 3. */
  masters?: number;
  /** Replicas per master. Default 1 (3 masters + 3 replicas, the smallest cluster that fails over). */
  replicasPerMaster?: number;
  /** Default 'everysec': with replicas a master is never durable anyway (see server-identity.ts). */
  appendfsync?: AppendFsync;
  /**
   * How long a master may be unreachable before the others count it failed and a replica takes
   * over. Default 1,000 ms, so failover tests take seconds, not Redis's default 15.
   */
  nodeTimeoutMs?: number;
}

export interface ClusterNodeRole {
  readonly server: RedisServer;
  readonly id: string;
  readonly role: 'master' | 'replica';
  /** For a replica: the id of its master. */
  readonly masterId: string | undefined;
  /** For a master: the slot ranges it serves. */
  readonly slots: ReadonlyArray<readonly [number, number]>;
}

/**
 * A real Redis Cluster of local redis-server processes on free ports (`--cluster-enabled yes`,
 * joined with `redis-cli --cluster create`), for tests that kill masters, fail over and move
 * slots. Each node is a RedisServer, so it can be killed, paused and restarted like one.
 */
export class RedisCluster {
  private constructor(
    readonly nodes: readonly RedisServer[],
    private readonly admin: Map<RedisServer, Redis>,
  ) {}

  static async start(options: RedisClusterOptions = {}): Promise<RedisCluster> {
    const masters = options.masters ?? 3;
    const replicas = options.replicasPerMaster ?? 1;
    const nodes: RedisServer[] = [];
    const admin = new Map<RedisServer, Redis>();
    const cluster = new RedisCluster(nodes, admin);
    try {
      for (let i = 0; i < masters * (1 + replicas); i++) {
        // The bus port is chosen, not derived (port + 10000 may be taken).
        const busPort = await freePort();
        const server = await RedisServer.start({
          appendfsync: options.appendfsync ?? 'everysec',
          extraArgs: [
            '--cluster-enabled',
            'yes',
            '--cluster-port',
            String(busPort),
            '--cluster-node-timeout',
            String(options.nodeTimeoutMs ?? 1000),
            // A master may be killed in a test while its replica is still syncing: let the
            // replica take over anyway instead of leaving the slots unserved.
            '--cluster-replica-validity-factor',
            '0',
            // Redis 7 waits 5 s before a diskless full sync, hoping more replicas join: a
            // test killing a master within that time would promote an empty replica.
            '--repl-diskless-sync-delay',
            '0',
          ],
        });
        nodes.push(server);
        admin.set(server, server.client({ maxRetriesPerRequest: 1 }));
      }
      await run('redis-cli', [
        '--cluster',
        'create',
        ...nodes.map((n) => `${n.host}:${n.port}`),
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ]);
      await cluster.waitHealthy();
      await cluster.waitReplicasLinked();
      await waitFor(
        async () => {
          for (const node of nodes) {
            const view = (await cluster.adminOf(node).call('CLUSTER', 'NODES')) as string;
            if (!showsWholeCluster(view, nodes.length, masters * replicas)) return false;
          }
          return true;
        },
        { timeoutMs: 30_000, what: 'every node to know every other, replicas included' },
      );
      return cluster;
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
  }

  /** Where a cluster client starts: every node's address. */
  get startupNodes(): Array<{ host: string; port: number }> {
    return this.nodes.map((n) => ({ host: n.host, port: n.port }));
  }

  /** `REDIS_CLUSTER_NODES` form: `host:port,host:port,…`. */
  get nodesEnv(): string {
    return this.nodes.map((n) => `${n.host}:${n.port}`).join(',');
  }

  /** Every node's role, as a running node reports it (CLUSTER NODES). */
  async roles(): Promise<ClusterNodeRole[]> {
    const reporter = this.nodes.find((n) => n.running);
    if (!reporter) throw new Error('no cluster node is running');
    const text = (await this.adminOf(reporter).call('CLUSTER', 'NODES')) as string;
    const roles: ClusterNodeRole[] = [];
    for (const line of text.trim().split('\n')) {
      const [id, address, flags, masterId, , , , , ...slots] = line.split(' ');
      const port = Number(address?.split('@')[0]?.split(':')[1]);
      const server = this.nodes.find((n) => n.port === port);
      if (!id || !server || !flags) continue;
      const master = flags.split(',').includes('master');
      roles.push({
        server,
        id,
        role: master ? 'master' : 'replica',
        masterId: master ? undefined : masterId,
        slots: slots
          .filter((s) => !s.startsWith('['))
          .map((range) => {
            const [from, to] = range.split('-').map(Number);
            return [from as number, to ?? (from as number)] as const;
          }),
      });
    }
    return roles;
  }

  /** The master serving `slot` now. */
  async masterOf(slot: number): Promise<ClusterNodeRole> {
    const master = (await this.roles()).find(
      (r) => r.role === 'master' && r.slots.some(([from, to]) => slot >= from && slot <= to),
    );
    if (!master) throw new Error(`no master serves slot ${slot}`);
    return master;
  }

  /** The slot of `key`, as the cluster computes it (hash tags included). */
  async slotOf(key: string): Promise<number> {
    const reporter = this.nodes.find((n) => n.running);
    if (!reporter) throw new Error('no cluster node is running');
    return (await this.adminOf(reporter).call('CLUSTER', 'KEYSLOT', key)) as number;
  }

  /**
   * kill -9 the master serving `slot` and wait until one of its replicas serves the slot: an
   * unplanned failover, which loses whatever the replica had not received yet.
   */
  async killMasterOf(slot: number): Promise<{ killed: RedisServer; promoted: RedisServer }> {
    const master = await this.masterOf(slot);
    await master.server.kill();
    await waitFor(
      async () => {
        const now = await this.masterOf(slot).catch(() => undefined);
        return now !== undefined && now.server !== master.server && now.server.running;
      },
      { timeoutMs: 30_000, what: `a replica to take over slot ${slot}` },
    );
    await this.waitHealthy();
    return { killed: master.server, promoted: (await this.masterOf(slot)).server };
  }

  /** The master with node id `id` (CLUSTER NODES). */
  async master(id: string): Promise<ClusterNodeRole> {
    const master = (await this.roles()).find((r) => r.role === 'master' && r.id === id);
    if (!master) throw new Error(`no master with id ${id}`);
    return master;
  }

  /**
   * The `count` lowest slots `masterId` serves: the ones `redis-cli --cluster reshard` takes
   * from it first, so a test can put sessions where a reshard will move them.
   */
  async lowestSlots(masterId: string, count: number): Promise<number[]> {
    const slots: number[] = [];
    const ranges = [...(await this.master(masterId)).slots].sort((a, b) => a[0] - b[0]);
    for (const [from, to] of ranges) {
      for (let slot = from; slot <= to && slots.length < count; slot++) slots.push(slot);
    }
    return slots;
  }

  /**
   * Move `slotCount` slots from one master to another with the operator's tool,
   * `redis-cli --cluster reshard … --cluster-yes` (per slot: IMPORTING/MIGRATING, MIGRATE in
   * batches of `pipeline` keys, SETSLOT NODE on every master), while clients keep working.
   * Resolves when the tool is done and every node agrees the cluster is healthy.
   */
  async reshard(fromMasterId: string, toMasterId: string, slotCount: number, pipeline = 10): Promise<void> {
    const reporter = this.nodes.find((n) => n.running);
    if (!reporter) throw new Error('no cluster node is running');
    await run(
      'redis-cli',
      [
        '--cluster',
        'reshard',
        `${reporter.host}:${reporter.port}`,
        '--cluster-from',
        fromMasterId,
        '--cluster-to',
        toMasterId,
        '--cluster-slots',
        String(slotCount),
        '--cluster-pipeline',
        String(pipeline),
        '--cluster-yes',
      ],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    await this.waitHealthy();
  }

  /**
   * Start moving `slot` to master `toMasterId` and stop halfway, as a reshard caught in the
   * middle: the target IMPORTING, the owner MIGRATING, and the keys `moveKeys` picks (by
   * default none) already migrated. Commands on the slot then meet ASK (keys gone) or
   * TRYAGAIN (a multi-key command whose keys are split) until `finish()` migrates the rest and
   * hands the slot over, the way redis-cli does (SETSLOT NODE on the target, the owner, then
   * every other master).
   */
  async halfMoveSlot(
    slot: number,
    toMasterId: string,
    moveKeys: (keys: string[]) => string[] = () => [],
  ): Promise<{ readonly movedKeys: string[]; finish: () => Promise<void> }> {
    const source = await this.masterOf(slot);
    const target = await this.master(toMasterId);
    if (source.id === target.id) throw new Error(`slot ${slot} is already served by ${toMasterId}`);
    const from = this.adminOf(source.server);
    await this.adminOf(target.server).call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', source.id);
    await from.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', target.id);
    const keysInSlot = async (): Promise<string[]> =>
      (await from.call('CLUSTER', 'GETKEYSINSLOT', slot, 100_000)) as string[];
    const migrate = async (keys: string[]): Promise<void> => {
      if (keys.length === 0) return;
      await from.call('MIGRATE', target.server.host, target.server.port, '', 0, 10_000, 'KEYS', ...keys);
    };
    const movedKeys = moveKeys(await keysInSlot());
    await migrate(movedKeys);
    const finish = async (): Promise<void> => {
      for (let keys = await keysInSlot(); keys.length > 0; keys = await keysInSlot()) await migrate(keys);
      const masters = (await this.roles()).filter((r) => r.role === 'master' && r.server.running);
      const order = [target, source, ...masters.filter((m) => m.id !== target.id && m.id !== source.id)];
      for (const node of order) {
        await this.adminOf(node.server).call('CLUSTER', 'SETSLOT', slot, 'NODE', target.id);
      }
      await this.waitHealthy();
    };
    return { movedKeys, finish };
  }

  /** Until every running node says cluster_state:ok and agrees that all slots are served. */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      async () => {
        for (const node of this.nodes) {
          if (!node.running) continue;
          const info = (await this.adminOf(node)
            .call('CLUSTER', 'INFO')
            .catch(() => '')) as string;
          if (!/cluster_state:ok/.test(info) || !/cluster_slots_ok:16384/.test(info)) return false;
        }
        return true;
      },
      { timeoutMs, what: 'the Redis Cluster to be healthy' },
    );
  }

  /**
   * Until every running replica has finished its initial sync (master_link_status:up): before
   * that a replica holds nothing, and a failover would promote an empty node.
   */
  async waitReplicasLinked(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      async () => {
        for (const node of this.nodes) {
          if (!node.running) continue;
          const info = (await this.adminOf(node)
            .info('replication')
            .catch(() => '')) as string;
          if (/role:slave/.test(info) && !/master_link_status:up/.test(info)) return false;
        }
        return true;
      },
      { timeoutMs, what: 'every replica to finish its initial sync' },
    );
  }

  async destroy(): Promise<void> {
    for (const client of this.admin.values()) client.disconnect();
    await Promise.all(this.nodes.map((n) => n.destroy()));
  }

  private adminOf(server: RedisServer): Redis {
    const client = this.admin.get(server);
    if (!client) throw new Error(`port ${server.port} is not a node of this cluster`);
    return client;
  }
}
