import { afterEach, expect, it } from 'vitest';
import { useEdgeEnvironment } from '../../helpers/edge-fixture.js';
import { RawClient } from '../../helpers/raw-client.js';
import { waitFor } from '@holdfast/testing';

/**
 * Issue 14 (chaos long profile: clients that never reached their head after the data-loss
 * restores). While Redis does not answer a connection's lease renewal for longer than the lease
 * (a restart, a write pause), the connection stays open but may not deliver. An ack the client
 * sends meanwhile is the only one it sends for those messages: the SDK never repeats an ack.
 * The edge used to drop it ("a fenced connection acks nothing"), so its flow window stayed full
 * of messages the client had long handled, and once Redis answered again nothing more was ever
 * delivered on that connection. The ack must count (its write is fenced in Redis by the lease
 * generation anyway).
 */
const LEASE_MS = 1000;
const WINDOW = 10;
const env = useEdgeEnvironment({
  // Heartbeats far longer than the test: the connection stays open through the Redis pause.
  edgeEnv: {
    LEASE_MS: String(LEASE_MS),
    WINDOW_MESSAGES: String(WINDOW),
    PING_INTERVAL_MS: '60000',
    PING_TIMEOUT_MS: '60000',
  },
});

const clients: RawClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  const admin = env.redis.client({ maxRetriesPerRequest: 0 });
  await admin.call('CLIENT', 'UNPAUSE').catch(() => undefined);
  admin.disconnect();
});

it('an ack received while the lease is unconfirmed frees the flow window', async () => {
  const { sessionId, token } = await env.newSession();
  const client = await RawClient.connect(env.edge.url, { sessionId, token, autoAck: false });
  clients.push(client);
  await env.log.appendBatch(
    sessionId,
    Array.from({ length: WINDOW }, (_, i) => ({ data: { n: i + 1 } })),
  );
  await client.waitForOffset(WINDOW); // the window is full: nothing more goes out until an ack

  const admin = env.redis.client({ maxRetriesPerRequest: 0 });
  try {
    // Scripts count as writes: lease renewals (and ack writes) wait; PING, HGET and TIME do not,
    // so the edge stays ready and keeps the connection.
    await admin.call('CLIENT', 'PAUSE', '30000', 'WRITE');
    const meta = env.log.keys(sessionId).meta;
    // Redis's own record of the lease (`seen:`) runs out no earlier than the edge's: past it,
    // the edge holds no confirmed lease.
    await waitFor(
      async () => {
        const [seen, [seconds, micros]] = await Promise.all([admin.hget(meta, 'seen:default'), admin.time()]);
        return Number(seconds) * 1000 + Number(micros) / 1000 > Number(seen) + 100;
      },
      { timeoutMs: 10_000, what: 'the lease to run out in Redis' },
    );

    client.ack(WINDOW);
    // Events are handled in order: once the edge answers this malformed ack, it has taken the
    // real one before it, still without a confirmed lease.
    client.socket.emit('ack', {});
    await waitFor(() => client.notices.some((n) => n.event === 'fault'), { what: 'the barrier fault' });
    await admin.call('CLIENT', 'UNPAUSE');
  } finally {
    admin.disconnect();
  }

  await env.log.appendBatch(
    sessionId,
    Array.from({ length: WINDOW }, (_, i) => ({ data: { n: WINDOW + i + 1 } })),
  );
  await client.waitForOffset(2 * WINDOW, 10_000).catch((error: Error) => {
    throw new Error(`${error.message}: the flow window stayed full of acknowledged messages`);
  });
  expect(client.delivered.map((d) => d.offset)).toEqual(Array.from({ length: 2 * WINDOW }, (_, i) => i + 1));
  // The ack was stored too, once Redis took writes again.
  await waitFor(async () => (await env.log.info(sessionId)).acks['default'] === WINDOW, {
    what: `the stored ack to reach ${WINDOW}`,
  });
  expect(client.notices.filter((n) => n.event !== 'fault')).toEqual([]);
});
