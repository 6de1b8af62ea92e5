import { describe, expect, it } from 'vitest';
import { DEFAULT_CONSUMER_ID } from '@holdfast/protocol';
import { FaultProxy } from '../../helpers/fault-proxy.js';
import { useEdgeEnvironment } from '../../helpers/edge-fixture.js';
import { RawClient, assertContiguous } from '../../helpers/raw-client.js';
import { waitFor } from '../../helpers/wait-for.js';

const WINDOW_MESSAGES = 500;
const WINDOW_BYTES = 64 * 1024;

const env = useEdgeEnvironment({
  edgeEnv: { WINDOW_MESSAGES: String(WINDOW_MESSAGES), WINDOW_BYTES: String(WINDOW_BYTES) },
});

const newSession = (): Promise<{ sessionId: string; token: string }> => env.newSession();

async function publish(sessionId: string, from: number, count: number, size = 0): Promise<void> {
  const pad = 'x'.repeat(size);
  for (let done = 0; done < count;) {
    const n = Math.min(1000, count - done);
    await env.log.appendBatch(
      sessionId,
      Array.from({ length: n }, (_, i) => ({ data: { n: from + done + i, pad } })),
    );
    done += n;
  }
}

describe('delivery', () => {
  it('forwards a batch appended together as one frame', async () => {
    const { sessionId, token } = await newSession();
    const client = await RawClient.connect(env.edge.url, { sessionId, token });
    await env.log.appendBatch(
      sessionId,
      Array.from({ length: 7 }, (_, i) => ({ data: i })),
    );
    await client.waitForOffset(7);
    expect(client.batchSizes).toEqual([7]);
    client.close();
  });

  it('resumes after a disconnect from its position: messages of the gap arrive once, in order', async () => {
    const { sessionId, token } = await newSession();
    const first = await RawClient.connect(env.edge.url, { sessionId, token });
    await publish(sessionId, 1, 500);
    await first.waitForOffset(500);
    first.close();
    await publish(sessionId, 501, 700); // published while nobody is connected

    const position = first.position!;
    expect(position.offset).toBe(500);
    const second = await RawClient.connect(env.edge.url, { sessionId, token, position });
    expect(second.hellos[0]).toMatchObject({ startOffset: 501, head: 1200 });
    await publish(sessionId, 1201, 300);
    await second.waitForOffset(1500);
    assertContiguous(first.delivered, 1, 500);
    assertContiguous(second.delivered, 501, 1500);
    expect(second.resets).toEqual([]);
    second.close();
  });

  it("delivers the whole retained log to start: 'oldest', and to the start mark of protocol 2 clients", async () => {
    const { sessionId, token } = await newSession();
    await publish(sessionId, 1, 30);
    // The consumer acknowledged everything: only an explicit start brings the log back.
    const reader = await RawClient.connect(env.edge.url, { sessionId, token });
    await reader.waitForOffset(30);
    await waitFor(async () => (await env.log.info(sessionId)).acks[DEFAULT_CONSUMER_ID] === 30, {
      what: 'the ack of 30 to be stored',
    });
    reader.close();
    const epoch = reader.position!.epoch;
    const fromOldest = { reason: 'epoch_changed', newEpoch: epoch, firstAvailable: 1, resumeFrom: 1 };

    const explicit = await RawClient.connect(env.edge.url, { sessionId, token, auth: { start: 'oldest' } });
    await explicit.waitForOffset(30);
    expect(explicit.resets).toEqual([{ ...fromOldest, oldEpoch: null }]);
    assertContiguous(explicit.delivered, 1, 30);
    explicit.close();

    const legacy = await RawClient.connect(env.edge.url, {
      sessionId,
      token,
      auth: { v: 2, position: { epoch: '~start', offset: 0 } },
    });
    await legacy.waitForOffset(30);
    expect(legacy.resets).toEqual([{ ...fromOldest, oldEpoch: '~start' }]);
    assertContiguous(legacy.delivered, 1, 30);
    legacy.close();
  });

  it('keeps a client that stops acking connected, never exceeds the window, then catches up in order', async () => {
    const { sessionId, token } = await newSession();
    const client = await RawClient.connect(env.edge.url, { sessionId, token, autoAck: false });
    await publish(sessionId, 1, 100_000);

    // The window fills and stays full: exactly WINDOW_MESSAGES, no more.
    await client.waitForOffset(WINDOW_MESSAGES);
    expect((await env.log.info(sessionId)).head).toBe(100_000);
    // More notifications reach the edge; nothing beyond the window may come. A message to a
    // probe session travels the same pub/sub connection after them, so once the probe has it,
    // the edge has handled those notifications too.
    await publish(sessionId, 100_001, 10);
    const probeSession = await newSession();
    const probe = await RawClient.connect(env.edge.url, probeSession);
    await env.log.append(probeSession.sessionId, 'probe');
    await probe.waitForOffset(1);
    probe.close();
    expect(client.delivered.length).toBe(WINDOW_MESSAGES);
    expect(client.socket.connected).toBe(true);

    // Acking releases the window a window at a time, to the end.
    const head = 100_010;
    while (client.lastOffset < head) {
      const before = client.lastOffset;
      client.ack(before);
      await waitFor(() => client.lastOffset > before || client.disconnectReason, {
        what: 'more after an ack',
      });
      expect(client.delivered.length - before).toBeLessThanOrEqual(WINDOW_MESSAGES);
    }
    assertContiguous(client.delivered, 1, head);
    expect(client.disconnectReason).toBeUndefined();
    client.close();
  });

  it('keeps a client on a 20 KB/s link connected while messages flow faster, and it catches up when the link frees', async () => {
    const proxy = await FaultProxy.start({ targetPort: env.edge.port });
    try {
      const { sessionId, token } = await newSession();
      const client = await RawClient.connect(proxy.url(), { sessionId, token });
      proxy.setBandwidth(20_000, 'both');

      // About 100 KB/s of 200-byte messages for 4 s: five times what the link carries.
      const total = 2000;
      for (let sent = 0; sent < total; sent += 50) {
        await publish(sessionId, sent + 1, 50, 200);
        await new Promise((resolve) => setTimeout(resolve, 100)); // the producer's pace, not a wait for a condition
      }
      expect(client.lastOffset).toBeLessThan(total);
      expect(client.socket.connected).toBe(true);

      proxy.restore();
      await client.waitForOffset(total, 30_000);
      assertContiguous(client.delivered, 1, total);
      expect(client.disconnectReason).toBeUndefined();
      client.close();
    } finally {
      await proxy.close();
    }
  });

  it('refills from the stream what the live channel missed while its subscription was down', async () => {
    const { sessionId, token } = await newSession();
    const client = await RawClient.connect(env.edge.url, { sessionId, token });
    await publish(sessionId, 1, 10);
    await client.waitForOffset(10);

    // Drop every pub/sub connection (the edge's live subscriptions among them) and append at
    // once: those notifications are lost, so only the resync read after resubscribing can
    // deliver these messages.
    const admin = env.redis.client();
    await admin.client('KILL', 'TYPE', 'pubsub');
    await publish(sessionId, 11, 5);
    await client.waitForOffset(15);
    assertContiguous(client.delivered, 1, 15);
    expect(client.socket.connected).toBe(true);
    client.close();
  });
});
