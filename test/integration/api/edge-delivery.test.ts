import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ApiServer } from '@holdfast/api';
import { EdgeProcess, RedisServer, waitFor } from '@holdfast/testing';
import { RawClient, assertContiguous } from '../../helpers/raw-client.js';
import { uniqueId } from '../../helpers/session-log-fixture.js';
import { ApiClient, startTestApi, type PublishBody } from './api-fixture.js';

let redis: RedisServer;
let edge: EdgeProcess;
let api: ApiServer;
let client: ApiClient;

beforeAll(async () => {
  redis = await RedisServer.start();
  const keyPrefix = uniqueId('api');
  // The API signs with the secret the edge verifies with (TEST_TOKEN_SECRET, see api-fixture).
  [edge, api] = await Promise.all([
    EdgeProcess.start({ redisUrl: redis.url, env: { HOLDFAST_KEY_PREFIX: keyPrefix } }),
    startTestApi(redis, { HOLDFAST_KEY_PREFIX: keyPrefix }),
  ]);
  client = new ApiClient(api.url);
});
afterAll(async () => {
  await api?.close();
  await edge?.stop();
  await redis?.destroy();
});

it('a client connected with the token from POST /v1/sessions receives what is published over HTTP', async () => {
  const { sessionId, token, epoch } = await client.createSession({ consumerId: 'browser' });
  const raw = await RawClient.connect(edge.url, { sessionId, token });
  expect(raw.connectError).toBeUndefined();
  expect(raw.hellos[0]).toMatchObject({ sessionId, consumerId: 'browser', epoch, head: 0 });

  const messages = `/v1/sessions/${sessionId}/messages`;
  await client.post(messages, { data: { n: 1 } });
  const batch = await client.post<PublishBody>(messages, {
    messages: [{ data: { n: 2 } }, { data: { n: 3 } }],
  });
  expect(batch.body.offsets).toEqual([2, 3]);
  // A keyed retry is not delivered twice.
  await client.post(messages, { data: { n: 4 } }, { headers: { 'idempotency-key': 'k4' } });
  await client.post(messages, { data: { n: 4 } }, { headers: { 'idempotency-key': 'k4' } });
  await client.post(messages, { data: { n: 5 } });

  await raw.waitForOffset(5);
  assertContiguous(raw.delivered, 1, 5);
  expect(raw.delivered.map((d) => d.data)).toEqual([1, 2, 3, 4, 5].map((n) => ({ n })));

  // The client acks everything it receives; the edge stores the acks, and GET shows them.
  await waitFor(
    async () => {
      const info = await client.get<{ acks: Record<string, number> }>(`/v1/sessions/${sessionId}`);
      return info.body.acks['browser'] === 5;
    },
    { what: "the browser consumer's ack of offset 5" },
  );
  expect(
    (await client.get<{ connected: Record<string, boolean> }>(`/v1/sessions/${sessionId}`)).body.connected,
  ).toEqual({ browser: true });
  raw.close();
  // A clean close releases the consumer's presence at once.
  await waitFor(
    async () => {
      const info = await client.get<{ connected: Record<string, boolean> }>(`/v1/sessions/${sessionId}`);
      return info.body.connected['browser'] !== true;
    },
    { what: 'the browser consumer to count as disconnected' },
  );
});

it('a token from POST /v1/sessions/:id/token connects too', async () => {
  const { sessionId } = await client.createSession();
  const res = await client.post<{ token: string }>(`/v1/sessions/${sessionId}/token`, { consumerId: 'tv' });
  const raw = await RawClient.connect(edge.url, { sessionId, token: res.body.token });
  expect(raw.hellos[0]?.consumerId).toBe('tv');
  raw.close();
});

it('DELETE /v1/sessions/:id ends a connected client with session_ended', async () => {
  const { sessionId, token } = await client.createSession();
  const raw = await RawClient.connect(edge.url, { sessionId, token });
  expect(raw.hellos).toHaveLength(1);
  expect((await client.delete(`/v1/sessions/${sessionId}`)).status).toBe(204);
  expect(await raw.waitForDisconnect()).toBe('io server disconnect');
  expect(raw.notice('session_ended')).toMatchObject({ code: 'session_ended' });
  // A reconnect is refused for good.
  const again = await RawClient.connect(edge.url, { sessionId, token });
  expect(again.connectError?.message).toBe('session_ended');
});
