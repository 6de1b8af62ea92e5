import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SessionLog } from '@holdfast/session-log';
import { EdgeProcess, RedisServer, tokenFor, waitFor } from '@holdfast/testing';
import { RawClient, assertContiguous } from '../../helpers/raw-client.js';
import { ResumingClient } from '../../helpers/resuming-client.js';
import { uniqueId } from '../../helpers/session-log-fixture.js';
import { startProducer } from '../../helpers/producer-loop.js';

let redis: RedisServer;
let log: SessionLog;
const edges: EdgeProcess[] = [];

beforeAll(async () => {
  redis = await RedisServer.start();
  log = new SessionLog({ redis: redis.url });
});
afterEach(async () => {
  await Promise.all(edges.splice(0).map((edge) => edge.stop()));
});
afterAll(async () => {
  await log?.close();
  await redis?.destroy();
});

async function startEdge(env: Record<string, string> = {}): Promise<EdgeProcess> {
  const edge = await EdgeProcess.start({ redisUrl: redis.url, env });
  edges.push(edge);
  return edge;
}

async function newSession(): Promise<{ sessionId: string; token: string }> {
  const sessionId = uniqueId();
  await log.createSession(sessionId);
  return { sessionId, token: await tokenFor(sessionId) };
}

describe('failover', () => {
  it('resumes on a second edge after kill -9 of the first, with nothing lost or doubled', async () => {
    const [a, b] = [await startEdge(), await startEdge()];
    const { sessionId, token } = await newSession();
    const client = new ResumingClient([a.url, b.url], { sessionId, token: () => token });
    await client.start();
    const producer = startProducer(log, [sessionId]);
    await client.waitForOffset(200);

    await a.kill();
    await waitFor(() => client.connections.length === 2 && client.connected, { what: 'reconnect to edge b' });
    const head = (await producer.stop()).get(sessionId)!;
    await client.waitForOffset(head);
    client.stop();

    assertContiguous(client.delivered, 1, head);
    expect(client.connections[1]!.hellos[0]!.startOffset).toBe(client.connections[0]!.lastOffset + 1);
  });

  it('replaces the older connection of a consumer connected on two edges', async () => {
    const [a, b] = [await startEdge(), await startEdge()];
    const { sessionId, token } = await newSession();
    const older = await RawClient.connect(a.url, { sessionId, token });
    await log.append(sessionId, 'one');
    await older.waitForOffset(1);

    const newer = await RawClient.connect(b.url, { sessionId, token, position: older.position! });
    await waitFor(() => older.notice('replaced'), { what: 'replaced notice on the older connection' });
    await older.waitForDisconnect();
    expect(older.disconnectReason).toBe('io server disconnect');

    await log.append(sessionId, 'two');
    await newer.waitForOffset(2);
    expect(older.delivered.map((d) => d.offset)).toEqual([1]);
    newer.close();
  });

  it('a frozen edge delivers and acks nothing through its stale connection after the client moved', async () => {
    // Long heartbeats, so the client does not notice the freeze and its connection stays open;
    // a short lease, so the frozen edge wakes up knowing it must re-check before delivering.
    const a = await startEdge({ PING_INTERVAL_MS: '60000', PING_TIMEOUT_MS: '60000', LEASE_MS: '1000' });
    const b = await startEdge();
    const { sessionId, token } = await newSession();
    const stale = await RawClient.connect(a.url, { sessionId, token, autoAck: false });
    await log.appendBatch(
      sessionId,
      Array.from({ length: 10 }, (_, i) => ({ data: i })),
    );
    await stale.waitForOffset(10);
    stale.ack(5);
    await waitFor(async () => (await log.info(sessionId)).acks.default === 5, { what: 'ack 5 stored' });

    a.signal('SIGSTOP');
    const moved = await RawClient.connect(b.url, {
      sessionId,
      token,
      position: { epoch: stale.position!.epoch, offset: 5 },
      autoAck: false,
    });
    await log.appendBatch(
      sessionId,
      Array.from({ length: 10 }, (_, i) => ({ data: 10 + i })),
    );
    await moved.waitForOffset(20);
    stale.ack(10); // queued to the frozen edge
    a.signal('SIGCONT');

    await waitFor(() => stale.notice('replaced'), { what: 'the woken edge to notice it was replaced' });
    await stale.waitForDisconnect();
    expect(stale.delivered.map((d) => d.offset)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect((await log.info(sessionId)).acks.default).toBe(5);
    moved.ack(20);
    await waitFor(async () => (await log.info(sessionId)).acks.default === 20, {
      what: 'ack through the new connection',
    });
    moved.close();
  });

  it('a client process stopped for 10 s under load stays connected and catches up after SIGCONT', async () => {
    const edge = await startEdge();
    const { sessionId, token } = await newSession();
    const script = fileURLToPath(new URL('../../fixtures/raw-consumer.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', script, edge.url, sessionId, token],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let lastOffset = 0;
    const disconnects: string[] = [];
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const event = JSON.parse(line) as { event: string; offset?: number; reason?: string };
        if (event.event === 'delivered') {
          if (event.offset !== lastOffset + 1)
            throw new Error(`gap or repeat: ${lastOffset} then ${event.offset}`);
          lastOffset = event.offset;
        }
        if (event.event === 'disconnect') disconnects.push(event.reason ?? '');
      }
    });
    try {
      const producer = startProducer(log, [sessionId], 10, 20);
      await waitFor(() => lastOffset >= 100, { what: 'the consumer process to receive messages' });
      child.kill('SIGSTOP');
      const stoppedAt = Date.now();
      await waitFor(() => Date.now() - stoppedAt >= 10_000, {
        timeoutMs: 15_000,
        intervalMs: 250,
        what: '10 s stopped',
      });
      child.kill('SIGCONT');
      const head = (await producer.stop()).get(sessionId)!;
      await waitFor(() => lastOffset >= head, {
        timeoutMs: 20_000,
        what: `catch-up to ${head} (at ${lastOffset})`,
      });
      expect(disconnects).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('drains on SIGTERM: 200 streaming clients move to another edge with zero loss and duplicates, clean closes, exit 0', async () => {
    const a = await startEdge({ DRAIN_SPREAD_MS: '1000' });
    const b = await startEdge();
    const sessions = await Promise.all(Array.from({ length: 200 }, () => newSession()));
    const clients = sessions.map(
      ({ sessionId, token }) => new ResumingClient([a.url, b.url], { sessionId, token: () => token }),
    );
    await Promise.all(clients.map((c) => c.start()));
    const producer = startProducer(
      log,
      sessions.map((s) => s.sessionId),
      2,
      50,
    );
    await waitFor(() => clients.every((c) => c.lastOffset >= 4), { what: 'every client streaming' });

    // Made before the signal: the drain lasts about DRAIN_SPREAD_MS, and on a loaded machine
    // creating a session after readyz turned 503 could take longer than that.
    const late = await newSession();
    a.signal('SIGTERM');
    // While it drains, the edge says it is not ready and refuses new connections.
    await waitFor(async () => (await fetch(`${a.url}/readyz`)).status === 503, {
      what: 'readyz 503 while draining',
    });
    const refused = await RawClient.connect(a.url, late);
    expect(refused.connectError?.data).toMatchObject({ code: 'server_draining', retryAfterMs: 100 });
    const exit = await a.waitForExit();
    expect(exit).toEqual({ code: 0, signal: null });
    await waitFor(() => clients.every((c) => c.connections.length === 2 && c.connected), {
      timeoutMs: 20_000,
      what: 'every client on edge b',
    });
    const heads = await producer.stop();
    for (const [i, client] of clients.entries()) {
      const head = heads.get(sessions[i]!.sessionId)!;
      await client.waitForOffset(head);
      client.stop();
      assertContiguous(client.delivered, 1, head);
      // A clean close: the server said goodbye ('io server disconnect'), no transport error.
      expect(client.disconnectReasons[0]).toBe('io server disconnect');
      expect(client.connections[0]!.notices).toEqual([
        { event: 'drain', payload: expect.objectContaining({ code: 'server_draining' }) as unknown },
      ]);
    }
  });
});
