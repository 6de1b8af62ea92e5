import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionLog, scriptSources, sessionKeys } from '@holdfast/session-log';
import { monitorCommands } from '../../helpers/raw-monitor.js';
import { uniqueId } from '../../helpers/session-log-fixture.js';
import { RedisCluster, waitFor } from '@holdfast/testing';

// A real 3-master cluster. Each session is served by a SessionLog connected straight to the
// master of its slot: every script then runs on a cluster node, which refuses a script whose
// keys span slots (CROSSSLOT) or that touches a key of a slot it does not serve.
let cluster: RedisCluster;
const logs: SessionLog[] = [];
const scriptBySha = new Map(
  scriptSources().map(({ name, lua }) => [createHash('sha1').update(lua).digest('hex'), name]),
);

/** Names of the scripts the nodes ran, as MONITOR saw them (EVAL carries the body, EVALSHA its hash). */
const scriptsRun = new Set<string>();
const monitors: Array<{ stop(): void }> = [];

beforeAll(async () => {
  cluster = await RedisCluster.start({ masters: 3, replicasPerMaster: 0 });
  for (const node of cluster.nodes) {
    const monitor = await monitorCommands(node.host, node.port, (args) => {
      const [command, script] = args;
      const sha =
        command?.toLowerCase() === 'eval'
          ? createHash('sha1')
              .update(script ?? '', 'latin1')
              .digest('hex')
          : script;
      const name = command?.toLowerCase().startsWith('eval') ? scriptBySha.get(sha ?? '') : undefined;
      if (name) scriptsRun.add(name);
    });
    monitors.push(monitor);
  }
}, 60_000);

afterAll(async () => {
  for (const monitor of monitors) monitor.stop();
  await Promise.all(logs.map((log) => log.close()));
  await cluster?.destroy();
});

async function logForSession(sessionId: string): Promise<SessionLog> {
  const slot = await cluster.slotOf(sessionKeys('hf', sessionId).meta);
  const master = await cluster.masterOf(slot);
  const log = new SessionLog({ redis: master.server.url });
  logs.push(log);
  // Not log.ready(): it also checks the deployment's key layout (key-layout-check.ts), a key of
  // another slot, which a connection bound to one node cannot reach (a cluster client follows
  // MOVED to it). The scripts below wait for the server identity themselves.
  return log;
}

describe('the session log on a Redis Cluster node', () => {
  it('refuses a script whose keys span slots (so the checks below mean something)', async () => {
    const node = cluster.nodes[0]!.client();
    const error = await node
      .eval("return redis.call('GET', KEYS[1])", 2, 'hf:{a}:meta', 'hf:{b}:meta')
      .catch((e: unknown) => e as Error);
    expect(String(error)).toMatch(/CROSSSLOT/);
  });

  it('renews leases of many partitions served by one node in calls of one slot each', async () => {
    // Sessions of different partitions (so different slots) that the same master serves.
    const byMaster = new Map<number, string[]>();
    let sessions: string[] = [];
    for (let i = 0; sessions.length < 6 && i < 500; i++) {
      const sessionId = uniqueId(`lease${i}`);
      const port = (await cluster.masterOf(await cluster.slotOf(sessionKeys('hf', sessionId).meta))).server
        .port;
      const list = byMaster.get(port) ?? [];
      list.push(sessionId);
      byMaster.set(port, list);
      if (list.length > sessions.length) sessions = list;
    }
    expect(new Set(sessions.map((s) => sessionKeys('hf', s).meta.split('}')[0])).size).toBeGreaterThan(1);
    const log = await logForSession(sessions[0]!);
    const held = [];
    for (const sessionId of sessions) {
      await log.createSession(sessionId);
      const { generation } = await log.claimLease(sessionId, 'default', `conn-${sessionId}`, 5_000);
      held.push({ sessionId, consumerId: 'default', generation });
    }
    expect(await log.renewLeases(held, 5_000)).toEqual(held.map((h) => h.generation));
  });

  it('runs every script with keys of one slot, for sessions on every master', async () => {
    const masters = new Set<number>();
    for (let i = 0; masters.size < 3 && i < 64; i++) {
      const sessionId = uniqueId(`slot${i}`);
      const slot = await cluster.slotOf(sessionKeys('hf', sessionId).meta);
      masters.add((await cluster.masterOf(slot)).server.port);
      const log = await logForSession(sessionId);

      const { epoch } = await log.createSession(sessionId);
      await log.append(sessionId, { n: 1 });
      await log.appendBatch(sessionId, [{ data: { n: 2 } }, { data: { n: 3 }, id: 'm3' }]);
      expect((await log.read(sessionId, { from: 1 })).entries.map((e) => e.offset)).toEqual([1, 2, 3]);
      const lease = await log.claimLease(sessionId, 'default', 'conn-1', 5_000);
      expect(await log.renewLease(sessionId, 'default', lease.generation, 5_000)).toBe(lease.generation);
      // A batch renewal carries the keys of several sessions: on a cluster only those of one slot.
      expect(
        await log.renewLeases([{ sessionId, consumerId: 'default', generation: lease.generation }], 5_000),
      ).toEqual([lease.generation]);
      await log.ack(sessionId, { epoch, offset: 3, leaseGeneration: lease.generation });
      expect((await log.info(sessionId)).acks['default']).toBe(3);
      const started = await log.infoAndRead(sessionId, { from: 2, limit: 10, maxBytes: 1024 });
      expect(started.read?.entries.map((e) => e.offset)).toEqual([2, 3]);
      await log.touch(sessionId);
      await log.enforceRetention(sessionId);
      const accepted = await log.enqueueInbound(sessionId, { id: 'in-1', data: 'hello' });
      const next = await log.nextInbound(sessionId, accepted.round, 'run-1');
      expect(next.kind).toBe('message');
      expect(
        await log.stepInbound(sessionId, {
          round: accepted.round,
          seq: 1,
          runToken: 'run-1',
          kind: 'done',
          attemptEpoch: epoch,
        }),
      ).toMatchObject({ owned: true });
      await log.releaseLease(sessionId, 'default', lease.generation);
      expect((await log.completeSession(sessionId)).finalOffset).toBe(3);
      await log.endSession(sessionId);
    }
    expect(masters.size).toBe(3);
    // A script added later and not called above fails here: add its call.
    // MONITOR reports asynchronously: wait for the full set, then compare (a miss names itself).
    await waitFor(() => scriptsRun.size === scriptBySha.size, {
      what: 'MONITOR to report every script',
      timeoutMs: 5_000,
    }).catch(() => undefined);
    expect([...scriptsRun].sort()).toEqual([...scriptBySha.values()].sort());
  });
});
