import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SessionLog } from '@holdfast/session-log';
import { EdgeProcess, RedisServer, tokenFor, waitFor } from '@holdfast/testing';
import { FaultProxy } from '../../helpers/fault-proxy.js';
import { RawClient, assertContiguous } from '../../helpers/raw-client.js';
import { ResumingClient } from '../../helpers/resuming-client.js';
import { uniqueId } from '../../helpers/session-log-fixture.js';
import { startProducer } from '../../helpers/producer-loop.js';

/**
 * Issue 14: a link between an edge and Redis that forwards nothing and closes nothing (a
 * partition, a crashed NAT). Before the liveness probe the edge's /readyz stayed 200 for
 * minutes and its clients got nothing. With the defaults (PING every 1 s, 2 s deadline, two
 * misses) the edge is not ready within 4 s plus its 0.5 s watch; the test allows 8 s, for a
 * loaded 2-core CI box. Clients are then moved as for a reset link, 3 s later.
 */
const NOT_READY_WITHIN_MS = 8000;
/**
 * A silent live subscriber alone: dead within the same 4 s bound, then replaced at once (the
 * link itself is fine), so what was published into the silence arrives with the resync.
 */
const LIVE_AGAIN_WITHIN_MS = 8000;

let redis: RedisServer;
let log: SessionLog;
const edges: EdgeProcess[] = [];
const proxies: FaultProxy[] = [];

beforeAll(async () => {
  redis = await RedisServer.start();
  log = new SessionLog({ redis: redis.url });
});
afterEach(async () => {
  for (const proxy of proxies) proxy.restore();
  await Promise.all(edges.splice(0).map((edge) => edge.stop()));
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
});
afterAll(async () => {
  await log?.close();
  await redis?.destroy();
});

async function startEdge(redisUrl: string): Promise<EdgeProcess> {
  const edge = await EdgeProcess.start({ redisUrl });
  edges.push(edge);
  return edge;
}

async function readyz(edge: EdgeProcess): Promise<number> {
  return (await fetch(`${edge.url}/readyz`)).status;
}

/** Client ports (as Redis sees them) of the live subscriber connections (`holdfast-live`). */
async function livePorts(): Promise<number[]> {
  const admin = redis.client();
  try {
    const list = (await admin.call('CLIENT', 'LIST')) as string;
    return list
      .split('\n')
      .filter((line) => / name=holdfast-live /.test(line))
      .map((line) => Number(/ addr=[^ ]+:(\d+) /.exec(line)?.[1]));
  } finally {
    admin.disconnect();
  }
}

describe('an edge behind a silently dead link to Redis', () => {
  it('stops claiming readiness, moves its clients, and serves again after the link heals', async () => {
    const link = await FaultProxy.start({ targetPort: redis.port });
    proxies.push(link);
    const a = await startEdge(link.url('redis'));
    const b = await startEdge(redis.url);
    const sessionId = uniqueId();
    await log.createSession(sessionId);
    const token = await tokenFor(sessionId);
    const client = new ResumingClient([a.url, b.url], { sessionId, token: () => token });
    await client.start();
    const producer = startProducer(log, [sessionId]);
    await client.waitForOffset(50);

    link.blackhole('both');
    const cut = Date.now();
    await waitFor(async () => (await readyz(a)) === 503, {
      timeoutMs: NOT_READY_WITHIN_MS,
      intervalMs: 100,
      what: 'edge a not ready',
    });
    expect(Date.now() - cut).toBeLessThan(NOT_READY_WITHIN_MS);
    await waitFor(() => client.connections.length === 2 && client.connected, {
      timeoutMs: 15_000,
      what: 'the client moved to edge b',
    });
    const head = (await producer.stop()).get(sessionId)!;
    await client.waitForOffset(head);
    client.stop();
    assertContiguous(client.delivered, 1, head);

    link.restore();
    await waitFor(async () => (await readyz(a)) === 200, {
      timeoutMs: 20_000,
      intervalMs: 100,
      what: 'edge a ready again after heal',
    });
    // Serving again: a new connection to a gets what is appended now, live.
    const again = await waitFor(
      async () => {
        const c = await RawClient.connect(a.url, {
          sessionId,
          token,
          position: client.connections[1]!.position!,
        });
        return c;
      },
      { intervalMs: 200, what: 'a connection to edge a' },
    );
    await log.append(sessionId, 'after heal');
    await again.waitForOffset(head + 1);
    again.close();
  });

  it('notices a silent live subscriber while its command link is fine, and delivers what it missed', async () => {
    const link = await FaultProxy.start({ targetPort: redis.port });
    proxies.push(link);
    const a = await startEdge(link.url('redis'));
    const sessionId = uniqueId();
    await log.createSession(sessionId);
    const client = await RawClient.connect(a.url, { sessionId, token: await tokenFor(sessionId) });
    try {
      await log.append(sessionId, 'before');
      await client.waitForOffset(1);
      await waitFor(async () => (await livePorts()).length === 1, { what: 'one live subscriber connection' });
      const [silent] = await livePorts();
      // Only the subscriber's connection goes silent; the edge's command links pass the same proxy.
      expect(link.blackholeConnection(silent!)).toBe(true);
      const cut = Date.now();
      // Its notification falls into the blackhole: only the probe's resync gets it delivered.
      await log.append(sessionId, 'into the silence');
      await client.waitForOffset(2, LIVE_AGAIN_WITHIN_MS);
      console.info(`redis-blackhole: missed notification delivered ${Date.now() - cut} ms after the silence`);
      // A new subscriber connection serves; the old one lingers on Redis (its close was lost).
      expect((await livePorts()).filter((port) => port !== silent)).toHaveLength(1);
      await log.append(sessionId, 'after');
      await client.waitForOffset(3);
      expect(await readyz(a)).toBe(200);
    } finally {
      client.close();
    }
  });
});
