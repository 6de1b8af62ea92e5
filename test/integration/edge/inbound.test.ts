import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { INBOUND_QUEUE_NAME, bullPrefix, inboxRunJobId } from '@holdfast/inbound-queue';
import { useEdgeEnvironment } from '../../helpers/edge-fixture.js';
import { RawClient } from '../../helpers/raw-client.js';
import { waitFor } from '@holdfast/testing';

// The inbound rate is counted in one-second windows: 40 sends at 5/s leave some limited unless
// they spread over eight windows; at 20/s, on a host loaded by a chaos run beside the tests,
// they spread over two windows and none was limited.
const env = useEdgeEnvironment({
  edgeEnv: { INBOUND_SESSION_RATE: '5', EVENTS_PER_SECOND: '50', EVENTS_BURST: '100' },
});
let queue: Queue;

beforeAll(() => {
  queue = new Queue(INBOUND_QUEUE_NAME, { connection: { url: env.redis.url }, prefix: bullPrefix('hf') });
});
afterAll(async () => {
  await queue?.close();
});

async function connect(): Promise<{ sessionId: string; client: RawClient }> {
  const session = await env.newSession();
  const client = await RawClient.connect(env.edge.url, session);
  return { sessionId: session.sessionId, client };
}

describe('inbound messages', () => {
  it('stores a message and schedules its inbox run before acknowledging, once per id', async () => {
    const { sessionId, client } = await connect();
    const first = await client.socket.emitWithAck('send', { id: 'prompt-1', data: { text: 'hello' } });
    expect(first).toEqual({ ok: true, id: 'prompt-1', seq: 1, duplicate: false });
    // When the client hears ok, the message is in Redis and a worker will find its inbox run.
    const job = await queue.getJob(inboxRunJobId(sessionId, 1));
    expect(job?.data).toEqual({ sessionId, generation: 1 });
    expect(await env.redis.client().xlen(env.log.keys(sessionId).inbox)).toBe(1);

    const resent = await client.socket.emitWithAck('send', { id: 'prompt-1', data: { text: 'hello' } });
    expect(resent).toEqual({ ok: true, id: 'prompt-1', seq: 1, duplicate: true });
    expect(await env.redis.client().xlen(env.log.keys(sessionId).inbox)).toBe(1);
    client.close();
  });

  it('refuses bad sends with a code and keeps the connection', async () => {
    const { client } = await connect();
    const cases: Array<[unknown, string]> = [
      [{ id: 'a:b', data: 1 }, 'invalid_message_id'],
      [{ data: 1 }, 'invalid_message_id'],
      [{ id: 'x'.repeat(200), data: 1 }, 'invalid_message_id'],
      [{ id: 'big', data: 'x'.repeat(300 * 1024) }, 'payload_too_large'],
      ['not an object', 'invalid_payload'],
      [[1, 2], 'invalid_payload'],
    ];
    for (const [payload, code] of cases) {
      expect(await client.socket.emitWithAck('send', payload)).toMatchObject({ ok: false, code });
    }
    expect(client.socket.connected).toBe(true);
    client.close();
  });

  it('rate-limits sends per session with a retry hint', async () => {
    const { client } = await connect();
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, i) => client.socket.emitWithAck('send', { id: `m${i}`, data: i })),
    );
    const limited = replies.filter((r) => !r.ok);
    expect(replies.filter((r) => r.ok).length).toBeGreaterThanOrEqual(5);
    expect(limited.length).toBeGreaterThan(0);
    for (const r of limited) {
      expect(r).toMatchObject({ ok: false, code: 'rate_limited' });
      expect((r as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
    }
    client.close();
  });

  it('answers event floods and unknown events with faults, without disconnecting', async () => {
    const { sessionId, client } = await connect();
    client.socket.emit('no-such-event', 1);
    await waitFor(() => client.notice('fault'), { what: 'unknown_event fault' });
    expect(client.notice('fault')).toMatchObject({ code: 'unknown_event' });
    for (let i = 0; i < 300; i++) client.socket.emit('ack', { epoch: 'x', offset: 0 });
    await waitFor(() => client.notices.some((n) => n.payload.code === 'rate_limited'), {
      what: 'rate_limited fault',
    });
    const limited = client.notices.find((n) => n.payload.code === 'rate_limited')!;
    expect(limited.payload.retryAfterMs).toBeGreaterThan(0);
    // Still connected and still served.
    await env.log.append(sessionId, 'still here');
    await client.waitForOffset(1);
    expect(client.socket.connected).toBe(true);
    client.close();
  });
});
