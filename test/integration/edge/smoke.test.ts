import { afterAll, beforeAll, expect, it } from 'vitest';
import { SessionLog } from '@holdfast/session-log';
import { EdgeProcess } from '../../helpers/edge-process.js';
import { RawClient, assertContiguous } from '../../helpers/raw-client.js';
import { RedisServer } from '../../helpers/redis-server.js';
import { uniqueId } from '../../helpers/session-log-fixture.js';
import { tokenFor } from '../../helpers/tokens.js';

let redis: RedisServer;
let edge: EdgeProcess;
let log: SessionLog;

beforeAll(async () => {
  redis = await RedisServer.start();
  log = new SessionLog({ redis: redis.url });
  edge = await EdgeProcess.start({ redisUrl: redis.url });
});
afterAll(async () => {
  await edge?.stop();
  await log?.close();
  await redis?.destroy();
});

it('delivers 10,000 messages in order', async () => {
  const sessionId = uniqueId();
  await log.createSession(sessionId);
  const client = await RawClient.connect(edge.url, { sessionId, token: await tokenFor(sessionId) });
  expect(client.connectError).toBeUndefined();
  for (let i = 0; i < 100; i++) {
    await log.appendBatch(
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
