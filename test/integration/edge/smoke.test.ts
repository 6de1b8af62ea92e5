import { expect, it } from 'vitest';
import { useEdgeEnvironment } from '../../helpers/edge-fixture.js';
import { RawClient, assertContiguous } from '../../helpers/raw-client.js';
import { uniqueId } from '../../helpers/session-log-fixture.js';
import { tokenFor } from '@holdfast/testing';

const env = useEdgeEnvironment();

it('delivers 10,000 messages in order', async () => {
  const sessionId = uniqueId();
  await env.log.createSession(sessionId);
  const client = await RawClient.connect(env.edge.url, { sessionId, token: await tokenFor(sessionId) });
  expect(client.connectError).toBeUndefined();
  for (let i = 0; i < 100; i++) {
    await env.log.appendBatch(
      sessionId,
      Array.from({ length: 100 }, (_, j) => ({ data: { n: i * 100 + j + 1 } })),
    );
  }
  await client.waitForOffset(10_000);
  assertContiguous(client.delivered, 1, 10_000);
  expect(client.delivered.map((d) => (d.data as { n: number }).n)).toEqual(
    client.delivered.map((d) => d.offset),
  );
  client.close();
});
