/**
 * docker-compose.yml + docker-compose.redis-cluster.yml as local processes (startCluster with
 * redisCluster: six Redis Cluster nodes formed by deploy/redis-cluster-init.sh, 3 edges, 2
 * workers, the API and HAProxy, all real processes, the shipped cluster settings unchanged):
 * the whole path works through HAProxy, and a kill -9 of the master serving a session hands its
 * client a reset into a new epoch, after which delivery goes on. Prints the start and recovery times.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster as RedisClusterClient } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type HoldfastSession } from '@holdfast/client';
import { sessionKeys } from '@holdfast/session-log';
import {
  composeRoles,
  startCluster,
  startLocalRedisCluster,
  type ClusterOnRedisCluster,
  type LocalRedisCluster,
  waitFor,
} from '@holdfast/testing';
import { SessionRecorder } from '../../helpers/client-recorder.js';

let cluster: ClusterOnRedisCluster;
let startMs = 0;
const sessions: Array<HoldfastSession<unknown>> = [];

beforeAll(async () => {
  const startedAt = Date.now();
  cluster = await startCluster({ redisCluster: true });
  startMs = Date.now() - startedAt;
  console.log(`redis-cluster topology: up in ${startMs} ms`);
}, 180_000);

afterAll(async () => {
  await Promise.all(sessions.splice(0).map((session) => session.close()));
  await cluster?.stop();
});

function api(path: string, body: unknown, idempotencyKey?: string): Promise<Response> {
  return fetch(`${cluster.apiUrl}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${cluster.vars.API_KEYS!.split(',')[0]!}`,
      'content-type': 'application/json',
      ...(idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey }),
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
}

/** A session created through the API and a client SDK session on it through HAProxy. */
async function openSession(): Promise<{ sessionId: string; app: SessionRecorder }> {
  const created = await api('/v1/sessions', {});
  expect(created.status).toBe(201);
  const { sessionId, token } = (await created.json()) as { sessionId: string; token: string };
  const session = connect([cluster.haproxyUrl], { sessionId, token });
  sessions.push(session);
  return { sessionId, app: new SessionRecorder(session) };
}

describe('the compose topology on a Redis Cluster, as local processes', () => {
  it('runs every service on the cluster: API publishes, the client receives through HAProxy, a worker answers', async () => {
    expect(cluster.redisUrl).toMatch(/^redis\+cluster:\/\//);
    for (const edge of cluster.edges) expect(edge.options.env.REDIS_URL).toBe(cluster.redisUrl);
    const roles = (await cluster.redisCluster.nodeStates()).map((state) => state.role).sort();
    expect(roles).toEqual(['master', 'master', 'master', 'replica', 'replica', 'replica']);

    const { sessionId, app } = await openSession();
    expect((await api(`/v1/sessions/${sessionId}/messages`, { data: { hello: 'cluster' } })).status).toBe(
      200,
    );
    await app.waitForOffset(1);
    expect(app.handled[0]!.data).toEqual({ hello: 'cluster' });

    // Inbound work goes through BullMQ on the cluster to a worker, whose reply comes back.
    await app.session.send({ text: 'hi' });
    await waitFor(() => app.handled.some((m) => JSON.stringify(m.data).includes('"final"')), {
      timeoutMs: 30_000,
      what: "the example agent's final reply",
    });
  }, 60_000);

  it('after kill -9 of the session’s master, hands the client a reset (epoch_changed) and keeps delivering', async () => {
    const { sessionId, app } = await openSession();

    // Publishes through HAProxy and the API, one message at a time; a failed request (the shard
    // failing over) is retried with the same Idempotency-Key, so nothing is appended twice.
    let stop = false;
    let published = 0;
    let lastFailure = '';
    const publisher = (async () => {
      for (let n = 1; !stop;) {
        const res = await api(`/v1/sessions/${sessionId}/messages`, { data: { n } }, `m-${n}`).catch(
          () => undefined,
        );
        if (res?.status === 200) {
          published = n;
          n += 1;
        } else lastFailure = res === undefined ? 'no answer' : `${res.status} ${await res.text()}`;
        await new Promise((resolve) => setTimeout(resolve, 20)); // the publisher's pace
      }
    })();
    await app.waitForOffset(20);
    const oldEpoch = app.handled[0]!.epoch;

    const slot = await cluster.redisCluster.slotOf(
      sessionKeys(cluster.edges[0]!.options.env.HOLDFAST_KEY_PREFIX!, sessionId).meta,
    );
    const victim = await cluster.redisCluster.masterOf(slot);
    const killedAt = Date.now();
    await victim.node.process.kill();
    const promoted = await waitFor(
      async () => {
        const now = await cluster.redisCluster.masterOf(slot).catch(() => undefined);
        return now !== undefined && now.node !== victim.node ? now : undefined;
      },
      { timeoutMs: 60_000, what: `a replica to take over slot ${slot}` },
    );
    const promotedMs = Date.now() - killedAt;

    await waitFor(() => app.resets.some((reset) => reset.reason === 'epoch_changed'), {
      timeoutMs: 60_000,
      what: 'the client to get an epoch_changed reset',
    }).catch((error: Error) => {
      throw new Error(`${error.message}; now ${app.describe()}`);
    });
    const resetMs = Date.now() - killedAt;
    const newEpoch = app.resets.find((reset) => reset.reason === 'epoch_changed')!.newEpoch;
    expect(newEpoch).not.toBe(oldEpoch);

    // Recovered: messages published after the failover reach the client in the new epoch.
    const publishedAtReset = published;
    await waitFor(
      () => app.handled.some((m) => m.epoch === newEpoch && (m.data as { n: number }).n > publishedAtReset),
      { timeoutMs: 60_000, what: 'a message published after the reset to arrive in the new epoch' },
    ).catch((error: Error) => {
      const resets = JSON.stringify(app.resets);
      const last = JSON.stringify(app.handled.at(-1));
      throw new Error(
        `${error.message}; now ${app.describe()}, last ${last}, resets ${resets}, published ${published}, last failure ${lastFailure}`,
      );
    });
    const recoveredMs = Date.now() - killedAt;
    const handledAtRecovery = app.handled.length;
    await waitFor(() => app.handled.length >= handledAtRecovery + 20, {
      timeoutMs: 30_000,
      what: 'delivery to keep going in the new epoch',
    });
    stop = true;
    await publisher;

    // Within each epoch, every offset once and in order: no silent rewind, nothing doubled.
    const byEpoch = new Map<string, number[]>();
    for (const { epoch, offset } of app.handled) byEpoch.set(epoch, [...(byEpoch.get(epoch) ?? []), offset]);
    expect([...byEpoch.keys()]).toEqual([oldEpoch, newEpoch]);
    for (const offsets of byEpoch.values()) {
      for (let i = 1; i < offsets.length; i++) expect(offsets[i]).toBe(offsets[i - 1]! + 1);
    }

    // The killed node comes back from its data folder as a replica: the cluster is whole again.
    await victim.node.process.restart();
    await cluster.redisCluster.waitHealthy(60_000);
    await waitFor(
      async () =>
        (await cluster.redisCluster.nodeStates()).find((state) => state.node === victim.node)?.role ===
        'replica',
      { timeoutMs: 30_000, what: `${victim.node.name} to rejoin as a replica` },
    );
    // A write after the rejoin keeps the epoch: one failover, one reset (deploy/redis-cluster.conf,
    // appendfsync everysec: a shard never counts as durable, so its replica returning changes nothing).
    const head = app.lastOffset;
    expect((await api(`/v1/sessions/${sessionId}/messages`, { data: { n: -1 } })).status).toBe(200);
    await app.waitForOffset(head + 1);
    expect(app.resets.map((reset) => reset.reason)).toEqual(['epoch_changed']);
    expect(app.handled.at(-1)?.epoch).toBe(newEpoch);
    console.log(
      `redis-cluster topology failover: ${JSON.stringify({
        startMs,
        killed: victim.node.name,
        promoted: promoted.node.name,
        promotedMs,
        resetMs,
        recoveredMs,
        published,
        resets: app.resets.length,
      })}`,
    );
  }, 180_000);

  it('re-forms from its data folder when started again: same ports, nothing created twice, data kept', async () => {
    const redis = composeRoles(cluster.compose).redis;
    if (redis.kind !== 'cluster') throw new Error('expected the cluster topology');
    const dir = await mkdtemp(join(tmpdir(), 'holdfast-reform-'));
    const start = (): Promise<LocalRedisCluster> =>
      startLocalRedisCluster({ nodes: redis.nodes, init: redis.init, dir, settings: { detached: false } });
    const write = async (target: LocalRedisCluster, value: string | undefined): Promise<string | null> => {
      const client = new RedisClusterClient(
        target.nodes.map((node) => ({ host: '127.0.0.1', port: node.port })),
        { redisOptions: { password: target.password } },
      );
      try {
        if (value !== undefined) await client.set('reform-check', value);
        return await client.get('reform-check');
      } finally {
        client.disconnect();
      }
    };
    try {
      const first = await start();
      expect(first.initOutput).toContain('creating the cluster');
      expect(await write(first, 'kept')).toBe('kept');
      await first.stop(30_000);

      const second = await start();
      try {
        expect(second.initOutput).toContain('the cluster exists already');
        expect(second.nodes.map((node) => node.port)).toEqual(first.nodes.map((node) => node.port));
        expect(await write(second, undefined)).toBe('kept');
      } finally {
        await second.stop(30_000);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
