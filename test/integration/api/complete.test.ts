import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeSessionResponseSchema, type ApiServer } from '@holdfast/api';
import { RedisServer, waitFor } from '@holdfast/testing';
import { ApiClient, startTestApi } from './api-fixture.js';

let redis: RedisServer;
let api: ApiServer;
let client: ApiClient;

beforeAll(async () => {
  redis = await RedisServer.start();
  api = await startTestApi(redis);
  client = new ApiClient(api.url);
});
afterAll(async () => {
  await api?.close();
  await redis?.destroy();
});

describe('POST /v1/sessions/{id}/complete', () => {
  it('completes idempotently; later publishes get 409 session_completed; GET and reads show the end', async () => {
    const { sessionId } = await client.createSession();
    for (let i = 1; i <= 3; i++) {
      expect((await client.post(`/v1/sessions/${sessionId}/messages`, { data: { i } })).status).toBe(200);
    }
    const first = await client.post(`/v1/sessions/${sessionId}/complete`, {});
    expect(first.status).toBe(200);
    const body = completeSessionResponseSchema.parse(first.body);
    expect(body.finalOffset).toBe(3);

    const again = await client.post(`/v1/sessions/${sessionId}/complete`, {});
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);

    const late = await client.post(`/v1/sessions/${sessionId}/messages`, { data: { i: 4 } });
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ code: 'session_completed' });

    const info = await client.get(`/v1/sessions/${sessionId}`);
    expect(info.body).toMatchObject({ head: 3, length: 3, finalOffset: 3, completedAt: body.completedAt });
    const read = await client.get(`/v1/sessions/${sessionId}/messages?from=1`);
    expect(read.body).toMatchObject({ finalOffset: 3 });
    expect((read.body['messages'] as unknown[]).length).toBe(3);
  });

  it('accepts no body at all', async () => {
    const { sessionId } = await client.createSession();
    const res = await client.request('POST', `/v1/sessions/${sessionId}/complete`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ finalOffset: 0 });
  });

  it('honours a completed retention given at create, then the session expires (410)', async () => {
    const { sessionId } = await client.createSession({ completedRetentionMs: 200 });
    await client.post(`/v1/sessions/${sessionId}/messages`, { data: 'x' });
    expect((await client.post(`/v1/sessions/${sessionId}/complete`, {})).status).toBe(200);
    await waitFor(async () => (await client.get(`/v1/sessions/${sessionId}`)).status === 410, {
      timeoutMs: 5000,
      what: 'the completed session to expire',
    });
  });

  it('refuses a bad completed retention with 400 naming the field; 404 for an unknown session', async () => {
    const { sessionId } = await client.createSession();
    const bad = await client.post(`/v1/sessions/${sessionId}/complete`, { completedRetentionMs: 0 });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('completedRetentionMs');
    expect((await client.post('/v1/sessions/nope/complete', {})).status).toBe(404);
  });
});
