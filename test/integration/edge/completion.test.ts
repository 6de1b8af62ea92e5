import { describe, expect, it } from 'vitest';
import { useEdgeEnvironment } from '../../helpers/edge-fixture.js';
import { RawClient, assertContiguous } from '../../helpers/raw-client.js';
import { waitFor } from '@holdfast/testing';

const WINDOW_MESSAGES = 10;
const env = useEdgeEnvironment({ edgeEnv: { WINDOW_MESSAGES: String(WINDOW_MESSAGES) } });

async function publish(sessionId: string, from: number, count: number): Promise<void> {
  await env.log.appendBatch(
    sessionId,
    Array.from({ length: count }, (_, i) => ({ data: { n: from + i } })),
  );
}

describe('completion', () => {
  it('a connected client gets every message, then complete, then a clean close; its final ack is stored', async () => {
    const { sessionId, token } = await env.newSession();
    const client = await RawClient.connect(env.edge.url, { sessionId, token });
    for (let i = 1; i <= 3; i++) await env.log.append(sessionId, { i });
    const { finalOffset, epoch } = await env.log.completeSession(sessionId);
    expect(finalOffset).toBe(3);

    expect(await client.waitForDisconnect()).toBe('io server disconnect');
    assertContiguous(client.delivered, 1, 3);
    expect(client.completes).toEqual([{ epoch, finalOffset: 3, deliveredBefore: 3 }]);
    expect(client.notices).toEqual([]);
    expect((await env.log.info(sessionId)).acks['default']).toBe(3);
  });

  it('completion racing with appends: the client gets exactly the messages up to the final offset, then complete', async () => {
    for (let round = 0; round < 10; round++) {
      const { sessionId, token } = await env.newSession();
      const client = await RawClient.connect(env.edge.url, { sessionId, token });
      const appends = Array.from({ length: 30 }, (_, i) =>
        env.log.append(sessionId, { i }).catch(() => undefined),
      );
      const { finalOffset } = await env.log.completeSession(sessionId);
      await Promise.all(appends);
      await client.waitForDisconnect();
      assertContiguous(client.delivered, 1, finalOffset);
      expect(client.completes.map((c) => c.deliveredBefore)).toEqual([finalOffset]);
    }
  });

  it('a client away at completion reconnects later from its position: the rest, then complete', async () => {
    const { sessionId, token } = await env.newSession();
    const first = await RawClient.connect(env.edge.url, { sessionId, token, autoAck: false });
    await publish(sessionId, 1, 5);
    await first.waitForOffset(5);
    first.close(); // offset 5 received, nothing acknowledged
    await publish(sessionId, 6, 15);
    await env.log.completeSession(sessionId);

    const back = await RawClient.connect(env.edge.url, { sessionId, token, position: first.position! });
    expect(back.hellos[0]).toMatchObject({ startOffset: 6, finalOffset: 20 });
    await back.waitForDisconnect();
    assertContiguous(back.delivered, 6, 20); // through a window of 10: acks let the rest out
    expect(back.completes.map((c) => c.deliveredBefore)).toEqual([15]);
  });

  it('a client already at the final offset gets complete right after hello', async () => {
    const { sessionId, token } = await env.newSession();
    await publish(sessionId, 1, 2);
    const { epoch } = await env.log.completeSession(sessionId);
    const client = await RawClient.connect(env.edge.url, {
      sessionId,
      token,
      position: { epoch, offset: 2 },
    });
    await client.waitForDisconnect();
    expect(client.delivered).toEqual([]);
    expect(client.completes).toEqual([{ epoch, finalOffset: 2, deliveredBefore: 0 }]);
  });

  it('a slow client (window full) gets complete only after it acked its way to the end', async () => {
    const { sessionId, token } = await env.newSession();
    const client = await RawClient.connect(env.edge.url, { sessionId, token, autoAck: false });
    await publish(sessionId, 1, 25);
    await env.log.completeSession(sessionId);
    await client.waitForOffset(WINDOW_MESSAGES);
    // The window is full: no more messages, and no complete, until the client acks.
    await waitFor(async () => (await env.log.info(sessionId)).finalOffset === 25);
    expect(client.completes).toEqual([]);
    for (let acked = 0; client.completes.length === 0;) {
      await waitFor(() => client.lastOffset > acked || client.completes.length > 0, {
        what: 'more after an ack',
      });
      acked = client.lastOffset;
      client.ack(acked);
    }
    assertContiguous(client.delivered, 1, 25);
    expect(client.completes[0]?.deliveredBefore).toBe(25);
    await client.waitForDisconnect();
  });

  it('a version 1 client gets session_ended (completed) after the last message instead of complete', async () => {
    const { sessionId, token } = await env.newSession();
    await publish(sessionId, 1, 3);
    await env.log.completeSession(sessionId);
    const client = await RawClient.connect(env.edge.url, { sessionId, token, auth: { v: 1 } });
    await client.waitForDisconnect();
    assertContiguous(client.delivered, 1, 3);
    expect(client.completes).toEqual([]);
    expect(client.notice('session_ended')?.message).toMatch(/completed/);
  });
});
