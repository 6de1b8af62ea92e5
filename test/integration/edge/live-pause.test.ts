import { describe, expect, it } from 'vitest';
import { useEdgeEnvironment } from '../../helpers/edge-fixture.js';
import { RawClient, assertContiguous } from '../../helpers/raw-client.js';
import { waitFor } from '@holdfast/testing';

const WINDOW_MESSAGES = 20;

const env = useEdgeEnvironment({ edgeEnv: { WINDOW_MESSAGES: String(WINDOW_MESSAGES) } });

async function publish(sessionId: string, from: number, count: number): Promise<void> {
  await env.log.appendBatch(
    sessionId,
    Array.from({ length: count }, (_, i) => ({ data: { n: from + i } })),
  );
}

/** How many subscribers the session's live channel has on Redis (sharded pub/sub). */
async function liveSubscribers(sessionId: string): Promise<number> {
  const redis = env.redis.client();
  try {
    const reply = (await redis.call('PUBSUB', 'SHARDNUMSUB', env.log.keys(sessionId).live)) as [
      string,
      number,
    ];
    return Number(reply[1]);
  } finally {
    redis.disconnect();
  }
}

describe('a stalled connection leaves its live channel', () => {
  it('unsubscribes while its window stays full and, after an ack, delivers everything once in order', async () => {
    const { sessionId, token } = await env.newSession();
    const client = await RawClient.connect(env.edge.url, { sessionId, token, autoAck: false });
    await waitFor(async () => (await liveSubscribers(sessionId)) === 1, { what: 'the live subscription' });
    await publish(sessionId, 1, 50);
    await client.waitForOffset(WINDOW_MESSAGES);

    // The window stays full: the edge stops receiving this session's notifications.
    await waitFor(async () => (await liveSubscribers(sessionId)) === 0, {
      what: 'the stalled connection to leave its live channel',
    });
    await publish(sessionId, 51, 30); // appended while nobody on this edge listens
    expect(client.delivered).toHaveLength(WINDOW_MESSAGES);

    // Acks make room: the connection subscribes again and reads what it missed.
    for (let offset = WINDOW_MESSAGES; offset < 80; offset = client.lastOffset) {
      client.ack(offset);
      await client.waitForOffset(Math.min(80, offset + WINDOW_MESSAGES));
    }
    client.ack(80);
    await waitFor(async () => (await liveSubscribers(sessionId)) === 1, { what: 'the re-subscription' });

    // Live delivery works again after the pause.
    await publish(sessionId, 81, 5);
    await client.waitForOffset(85);
    assertContiguous(client.delivered, 1, 85);
    expect(client.delivered.map((d) => (d.data as { n: number }).n)).toEqual(
      Array.from({ length: 85 }, (_, i) => i + 1),
    );
    expect(client.resets).toEqual([]);
    client.close();
  });

  it('keeps listening while a client acks in time, even with a full window now and then', async () => {
    const { sessionId, token } = await env.newSession();
    const client = await RawClient.connect(env.edge.url, { sessionId, token, autoAck: false });
    await publish(sessionId, 1, WINDOW_MESSAGES);
    await client.waitForOffset(WINDOW_MESSAGES);
    client.ack(WINDOW_MESSAGES); // well within the pause delay
    await publish(sessionId, WINDOW_MESSAGES + 1, 3);
    await client.waitForOffset(WINDOW_MESSAGES + 3);
    expect(await liveSubscribers(sessionId)).toBe(1);
    assertContiguous(client.delivered, 1, WINDOW_MESSAGES + 3);
    client.close();
  });
});
