import { afterAll, beforeAll, expect, it } from 'vitest';
import { FaultProxy } from '../../helpers/fault-proxy.js';
import { RedisServer, waitFor, ApiProcess } from '@holdfast/testing';
import { ApiClient, apiEnv } from './api-fixture.js';

/**
 * Issue 14: a link to Redis that forwards nothing and closes nothing. With the default probe
 * (PING every 1 s, 2 s deadline, two misses: 4 s) /readyz turns 503 well inside the 8 s
 * allowed here (twice the bound, for a loaded CI box); before the probe it stayed 200.
 */
const NOT_READY_WITHIN_MS = 8000;

let redis: RedisServer;
let link: FaultProxy;
let api: ApiProcess | undefined;

beforeAll(async () => {
  redis = await RedisServer.start();
  link = await FaultProxy.start({ targetPort: redis.port });
});
afterAll(async () => {
  link?.restore();
  await api?.kill();
  await link?.close();
  await redis?.destroy();
});

it('a blackholed link: /readyz 503 within the bound, requests fail fast, served again after heal', async () => {
  api = await ApiProcess.start(apiEnv({ url: link.url('redis') }));
  const client = new ApiClient(api.url);
  const { sessionId } = await client.createSession();

  link.blackhole('both');
  const cut = Date.now();
  await waitFor(async () => (await client.get('/readyz')).status === 503, {
    timeoutMs: NOT_READY_WITHIN_MS,
    intervalMs: 100,
    what: 'api not ready',
  });
  expect(Date.now() - cut).toBeLessThan(NOT_READY_WITHIN_MS);
  // The dead socket was dropped: a request fails at once instead of waiting out its timeout.
  const t0 = Date.now();
  const refused = await client.post(`/v1/sessions/${sessionId}/messages`, { data: 'during' });
  expect(Date.now() - t0).toBeLessThan(1000);
  expect(refused.status).toBe(503);
  expect(refused.body).toMatchObject({ code: 'redis_unavailable' });

  link.restore();
  await waitFor(async () => (await client.get('/readyz')).status === 200, {
    timeoutMs: 20_000,
    intervalMs: 100,
    what: 'api ready again after heal',
  });
  const published = await client.post(`/v1/sessions/${sessionId}/messages`, { data: 'after' });
  expect(published.status).toBe(200);
});
