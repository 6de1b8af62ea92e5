import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type HoldfastSession } from '@holdfast/client';
import { SessionLog, sessionKeys } from '@holdfast/session-log';
import { EdgeProcess, RedisCluster, tokenFor, waitFor } from '@holdfast/testing';
import { SessionRecorder } from '../../helpers/client-recorder.js';
import { uniqueId } from '../../helpers/session-log-fixture.js';

// End to end on a real Redis Cluster (3 masters + 3 replicas): an edge and the client SDK,
// a producer appending, then kill -9 of the master serving the session. The client must come
// out in the new epoch with a reset (epoch_changed), never a silent rewind, and keep receiving.

let cluster: RedisCluster;
let log: SessionLog;
let edge: EdgeProcess;
const sessions: Array<HoldfastSession<unknown>> = [];

beforeAll(async () => {
  cluster = await RedisCluster.start({ masters: 3, replicasPerMaster: 1 });
  const url = `redis+cluster://${cluster.nodesEnv}`;
  log = new SessionLog({ redis: url, commandTimeoutMs: 2_000 });
  await log.ready();
  edge = await EdgeProcess.start({ redisUrl: url, env: { LEASE_MS: '1000' } });
}, 60_000);

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.close()));
  await edge?.stop();
  await log?.close();
  await cluster?.destroy();
});

describe('an edge on Redis Cluster', () => {
  it('delivers, and across a master failover hands the client a reset into the new epoch', async () => {
    const sessionId = uniqueId();
    const { epoch: oldEpoch } = await log.createSession(sessionId);
    const session = connect([edge.url], { sessionId, token: await tokenFor(sessionId) });
    sessions.push(session);
    const app = new SessionRecorder(session);
    const seen: string[] = [];
    session.on('message', (m) => void seen.push(`${session.position?.epoch ?? ''}:${m.offset}`));

    // A bystander session on another shard, on the same edge: the edge renews both leases each
    // round, which on a cluster takes one call per slot (CROSSSLOT otherwise, and leases lapse).
    const slot = await cluster.slotOf(sessionKeys('hf', sessionId).meta);
    const victim = await cluster.masterOf(slot);
    let bystanderId = uniqueId('b');
    while (
      (await cluster.masterOf(await cluster.slotOf(sessionKeys('hf', bystanderId).meta))).server ===
      victim.server
    ) {
      bystanderId = uniqueId('b');
    }
    await log.createSession(bystanderId);
    const bystander = connect([edge.url], { sessionId: bystanderId, token: await tokenFor(bystanderId) });
    sessions.push(bystander);
    const bystanderApp = new SessionRecorder(bystander);

    let stop = false;
    let appended = 0;
    const producer = (async () => {
      for (let n = 1; !stop; n++) {
        try {
          await log.append(sessionId, { n });
          appended += 1;
          await log.append(bystanderId, { n }).catch(() => undefined);
        } catch {
          // the shard is failing over; the next append goes to the promoted replica
        }
        await new Promise((resolve) => setTimeout(resolve, 10)); // the producer's pace
      }
    })();
    await app.waitForOffset(30);
    expect(session.position?.epoch).toBe(oldEpoch);

    const killedAt = Date.now();
    await cluster.killMasterOf(slot);
    const promotionMs = Date.now() - killedAt;
    await waitFor(() => app.resets.some((r) => r.reason === 'epoch_changed'), {
      timeoutMs: 30_000,
      what: 'the client to get an epoch_changed reset',
    }).catch((error: Error) => {
      throw new Error(`${error.message}; now ${app.describe()}`);
    });
    const resetMs = Date.now() - killedAt;
    const newEpoch = app.resets.find((r) => r.reason === 'epoch_changed')!.newEpoch;
    expect(newEpoch).not.toBe(oldEpoch);
    const after = app.lastOffset;
    await waitFor(() => session.position?.epoch === newEpoch && app.lastOffset >= after + 20, {
      timeoutMs: 20_000,
      what: 'delivery to go on in the new epoch',
    });
    // Past two lease periods since connecting: the bystander's lease was renewed all along.
    const bystanderHead = (await log.info(bystanderId)).head;
    await bystanderApp.waitForOffset(bystanderHead);
    expect(bystanderApp.resets).toEqual([]);
    stop = true;
    await producer;

    // Every message the app saw was delivered once within its epoch, in order.
    const byEpoch = new Map<string, number[]>();
    for (const entry of seen) {
      const [epoch, offset] = entry.split(':') as [string, string];
      byEpoch.set(epoch, [...(byEpoch.get(epoch) ?? []), Number(offset)]);
    }
    for (const offsets of byEpoch.values()) {
      for (let i = 1; i < offsets.length; i++) expect(offsets[i]).toBe(offsets[i - 1]! + 1);
    }
    expect(app.errors.filter((e) => e.code === 'protocol_violation' || e.code === 'listener_failed')).toEqual(
      [],
    );
    console.log(
      `edge on cluster failover: ${JSON.stringify({ promotionMs, resetMs, appended, resets: app.resets.length })}`,
    );
  }, 120_000);
});
