import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, type Redis } from 'ioredis';
import { LiveSubscriptions, type LiveNotification } from '@holdfast/session-log';
import { RedisCluster, waitFor } from '@holdfast/testing';
import { FaultProxy } from '../../helpers/fault-proxy.js';
import { uniqueId } from '../../helpers/session-log-fixture.js';
import { falseSamples } from '../../helpers/false-samples.js';

// One of ioredis's sharded subscriber connections goes silent (half-open: forwards nothing,
// closes nothing) while every command link, the same master's included, stays healthy. The
// master announces a fault proxy's port (cluster-announce-port), so every client connection to
// it passes the proxy, and the proxy silences just the subscriber connection, found by the
// client address the master lists for it. Before the subscriber connections were probed, the
// command-link probe saw nothing wrong and the channel stayed deaf for good.
//
// Default probe (PING every 1 s, 2 s deadline, 2 misses): dead within 4 s plus the 1 s in which
// a new connection is first seen. The test allows 8 s, for a loaded 2-core box.
const NOTICED_WITHIN_MS = 8000;
/** The sequence number of the notification published into the silence. */
const LOST = 1000;

let cluster: RedisCluster;
let url: string;
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  cluster = await RedisCluster.start({ masters: 3, replicasPerMaster: 0 });
  url = `redis+cluster://${cluster.nodesEnv}`;
}, 60_000);
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});
afterAll(async () => {
  await cluster?.destroy();
});

/** Ports every node's CLUSTER SLOTS gives for the master of `slot`. */
async function announcedPorts(slot: number): Promise<number[]> {
  return Promise.all(
    cluster.nodes.map(async (node) => {
      const admin = node.client();
      try {
        const ranges = (await admin.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
        const range = ranges.find(([from, to]) => slot >= from && slot <= to);
        return range?.[2][1] ?? -1;
      } finally {
        admin.disconnect();
      }
    }),
  );
}

/** The client ports (as the master sees them) of the sharded subscriber connections to it. */
async function subscriberPorts(admin: Redis): Promise<number[]> {
  const list = (await admin.call('CLIENT', 'LIST')) as string;
  return list
    .split('\n')
    .filter((line) => / name=ioredis-cluster\(ssubscriber\)/.test(line))
    .map((line) => Number(/ addr=[^ ]+:(\d+) /.exec(line)?.[1]));
}

interface Setup {
  readonly proxy: FaultProxy;
  /** A direct connection to the master behind the proxy. */
  readonly admin: Redis;
  readonly live: LiveSubscriptions;
  readonly publisher: Cluster;
  readonly channel: string;
  readonly heard: LiveNotification[];
}

/**
 * A LiveSubscriptions instance subscribed to one channel whose master is reached through a
 * fault proxy, by every client (the master announces the proxy's port), and a publisher.
 */
async function subscribedThroughProxy(): Promise<Setup> {
  const channel = uniqueId('subprobe');
  const slot = await cluster.slotOf(channel);
  const victim = await cluster.masterOf(slot);
  const proxy = await FaultProxy.start({ targetPort: victim.server.port });
  closers.push(() => proxy.close());
  const admin = victim.server.client();
  closers.push(async () => admin.disconnect());
  const announce = async (port: number): Promise<void> => {
    await admin.call('CONFIG', 'SET', 'cluster-announce-port', String(port));
    // Every node must give this port before a client reads the slot map from any of them.
    await waitFor(async () => (await announcedPorts(slot)).every((p) => p === port), {
      timeoutMs: 15_000,
      what: `every node announcing port ${port} for the master of slot ${slot}`,
    });
  };
  await announce(proxy.port);
  // Back to its own port (0: the one it listens on) for the next test's clients.
  closers.push(() =>
    announce(victim.server.port).then(() => admin.call('CONFIG', 'SET', 'cluster-announce-port', '0')),
  );

  const live = new LiveSubscriptions(url);
  closers.push(() => live.close());
  const publisher = new Cluster(cluster.startupNodes);
  publisher.on('error', () => undefined);
  closers.push(async () => publisher.disconnect());
  const heard: LiveNotification[] = [];
  await live.subscribe(channel, (n) => heard.push(n));
  await waitFor(() => live.connected, { what: 'subscriber connected' });
  return { proxy, admin, live, publisher, channel, heard };
}

describe('a silent sharded subscriber connection on Redis Cluster', () => {
  it('is noticed, dropped and replaced; its channel hears resync and notifications again', async () => {
    const { proxy, admin, live, publisher, channel, heard } = await subscribedThroughProxy();
    let seq = 0;
    const delivered = async (): Promise<boolean> => {
      seq += 1;
      await publisher.spublish(channel, `{"e":"t","o":${seq},"n":1,"d":[]}`);
      return heard.some((n) => n.kind === 'entries' && n.from !== LOST);
    };
    await waitFor(delivered, { intervalMs: 200, what: 'a notification before the silence' });

    const [port, ...others] = await subscriberPorts(admin);
    expect(port).toBeDefined();
    expect(others).toEqual([]);
    expect(proxy.blackholeConnection(port!)).toBe(true);
    const silencedAt = Date.now();
    heard.length = 0;
    // Published now, lost in the blackhole: only a resync tells the listener to read the log.
    await publisher.spublish(channel, `{"e":"t","o":${LOST},"n":1,"d":[]}`);

    await waitFor(() => !live.connected, {
      timeoutMs: NOTICED_WITHIN_MS,
      what: 'the subscriber declared dead',
    });
    const noticedMs = Date.now() - silencedAt;
    await waitFor(() => heard.some((n) => n.kind === 'resync'), { what: 'resync for the deaf channel' });
    expect(heard.some((n) => n.kind === 'entries' && n.from === LOST)).toBe(false);
    expect(noticedMs).toBeLessThan(NOTICED_WITHIN_MS);
    console.info(`subscriber-probe: silent sharded subscriber noticed after ${noticedMs} ms`);

    // The replacement connection passes the proxy untouched: live again, notifications resume.
    await waitFor(() => live.connected, { timeoutMs: 15_000, what: 'subscriber alive again' });
    heard.length = 0;
    await waitFor(delivered, {
      intervalMs: 200,
      timeoutMs: 15_000,
      what: 'a notification after replacement',
    });
    // The old connection lingers on the server (its close never got through): a new one serves.
    expect((await subscriberPorts(admin)).filter((p) => p !== port)).toHaveLength(1);
  });

  it('does not flap under latency below the deadline (1.2 s per PING, deadline 2 s)', async () => {
    const { proxy, live } = await subscribedThroughProxy();
    proxy.setLatency(600); // each way, on every connection to that master: subscriber and command
    expect(await falseSamples(() => live.connected, 8000)).toBe(0);
  });
});
