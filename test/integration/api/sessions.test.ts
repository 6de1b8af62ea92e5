import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier } from '@holdfast/auth';
import { createSessionResponseSchema, sessionInfoResponseSchema, type ApiServer } from '@holdfast/api';
import { TEST_TOKEN_SECRET, RedisServer } from '@holdfast/testing';
import { uniqueId } from '../../helpers/session-log-fixture.js';
import { ApiClient, startTestApi, type ErrorBody } from './api-fixture.js';

let redis: RedisServer;
let api: ApiServer;
let client: ApiClient;
const verifier = createTokenVerifier({ hs256Secrets: [TEST_TOKEN_SECRET] });

beforeAll(async () => {
  redis = await RedisServer.start();
  api = await startTestApi(redis);
  client = new ApiClient(api.url);
});
afterAll(async () => {
  await api?.close();
  await redis?.destroy();
});

describe('POST /v1/sessions', () => {
  it('creates a session with a generated URL-safe id and a token the edges accept', async () => {
    const res = await client.post('/v1/sessions', {});
    expect(res.status).toBe(201);
    const body = createSessionResponseSchema.parse(res.body);
    expect(body.sessionId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(body.epoch).not.toBe('');
    expect(body.tokenExpiresAt).toBeGreaterThan(Date.now() + 3500_000);
    const verified = await verifier.verify(body.token, { sessionId: body.sessionId });
    expect(verified.consumerId).toBeUndefined();
  });

  it('accepts no body at all', async () => {
    const res = await client.request('POST', '/v1/sessions');
    expect(res.status).toBe(201);
  });

  it('takes a given id, consumer, retention, idle expiry and token lifetime', async () => {
    const sessionId = uniqueId();
    const res = await client.post('/v1/sessions', {
      sessionId,
      consumerId: 'phone',
      retention: { maxMessages: 5, maxAgeMs: 60_000 },
      idleTtlMs: 120_000,
      tokenTtlSeconds: 60,
    });
    expect(res.status).toBe(201);
    expect(res.body['sessionId']).toBe(sessionId);
    expect(res.body['tokenExpiresAt']).toBeLessThanOrEqual(Date.now() + 61_000);
    const verified = await verifier.verify(res.body['token'], { sessionId });
    expect(verified.consumerId).toBe('phone');
    const info = await client.get(`/v1/sessions/${sessionId}`);
    expect(info.body).toMatchObject({ retention: { maxMessages: 5, maxAgeMs: 60_000 }, idleTtlMs: 120_000 });
  });

  it('refuses an existing id with 409 session_exists, and an ended one with 410', async () => {
    const { sessionId } = await client.createSession();
    const again = await client.post<ErrorBody>('/v1/sessions', { sessionId });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('session_exists');
    expect((await client.delete(`/v1/sessions/${sessionId}`)).status).toBe(204);
    const revived = await client.post<ErrorBody>('/v1/sessions', { sessionId });
    expect(revived.status).toBe(410);
    expect(revived.body.code).toBe('session_ended');
  });

  it.each([
    [{ sessionId: 'has space' }, 'invalid_session_id'],
    [{ sessionId: 'x'.repeat(65) }, 'invalid_session_id'],
    [{ sessionId: 42 }, 'invalid_session_id'],
    [{ consumerId: 'a:b' }, 'invalid_consumer_id'],
    [{ retention: { maxMessages: -1 } }, 'invalid_options'],
    [{ retention: { maxAgeMs: 1.5 } }, 'invalid_options'],
    [{ idleTtlMs: -5 }, 'invalid_options'],
    [{ tokenTtlSeconds: 0 }, 'invalid_options'],
    [{ tokenTtlSeconds: 31 * 86_400 }, 'invalid_options'],
    [{ sessionid: 'typo' }, 'invalid_request'],
    [[], 'invalid_request'],
    ['a string', 'invalid_request'],
  ])('refuses %j with 400 %s and creates nothing', async (body, code) => {
    const res = await client.post<ErrorBody>('/v1/sessions', body);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe(code);
    expect(res.body.message).not.toBe('');
  });

  it('leaves no session behind when the token options are bad', async () => {
    const sessionId = uniqueId();
    const res = await client.post<ErrorBody>('/v1/sessions', { sessionId, tokenTtlSeconds: 0 });
    expect(res.body.code).toBe('invalid_options');
    expect((await client.get<ErrorBody>(`/v1/sessions/${sessionId}`)).body.code).toBe('session_not_found');
  });
});

describe('POST /v1/sessions/:id/token', () => {
  it('issues a token for the session and consumer', async () => {
    const { sessionId } = await client.createSession();
    const res = await client.post(`/v1/sessions/${sessionId}/token`, {
      consumerId: 'laptop',
      ttlSeconds: 120,
    });
    expect(res.status).toBe(200);
    const verified = await verifier.verify(res.body['token'], { sessionId });
    expect(verified.consumerId).toBe('laptop');
    expect(res.body['tokenExpiresAt']).toBe(verified.expiresAt);
    expect((await client.request('POST', `/v1/sessions/${sessionId}/token`)).status).toBe(200);
  });

  it('answers 404 for an unknown session and 410 for an ended one', async () => {
    const unknown = await client.post<ErrorBody>(`/v1/sessions/${uniqueId()}/token`, {});
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('session_not_found');
    const { sessionId } = await client.createSession();
    await client.delete(`/v1/sessions/${sessionId}`);
    const ended = await client.post<ErrorBody>(`/v1/sessions/${sessionId}/token`, {});
    expect(ended.status).toBe(410);
    expect(ended.body).toMatchObject({ code: 'session_ended', details: { reason: 'deleted' } });
  });

  it('refuses bad input', async () => {
    const { sessionId } = await client.createSession();
    const badTtl = await client.post<ErrorBody>(`/v1/sessions/${sessionId}/token`, { ttlSeconds: 'long' });
    expect([badTtl.status, badTtl.body.code]).toEqual([400, 'invalid_options']);
    const badConsumer = await client.post<ErrorBody>(`/v1/sessions/${sessionId}/token`, { consumerId: '' });
    expect([badConsumer.status, badConsumer.body.code]).toEqual([400, 'invalid_consumer_id']);
    const badId = await client.post<ErrorBody>('/v1/sessions/bad%20id/token', {});
    expect([badId.status, badId.body.code]).toEqual([400, 'invalid_session_id']);
  });
});

describe('GET /v1/sessions/:id', () => {
  it('reports the session state', async () => {
    const { sessionId, epoch } = await client.createSession({ retention: { maxMessages: 3 } });
    for (let i = 0; i < 5; i++) await client.post(`/v1/sessions/${sessionId}/messages`, { data: i });
    const res = await client.get(`/v1/sessions/${sessionId}`);
    expect(res.status).toBe(200);
    const info = sessionInfoResponseSchema.parse(res.body);
    expect(info).toMatchObject({ sessionId, epoch, head: 5, firstAvailable: 3, length: 3, acks: {} });
    expect(info.retention.maxMessages).toBe(3);
    expect(info.durable).toBe(true); // the test Redis runs appendfsync always
    expect(info.lastActiveAt).toBeGreaterThanOrEqual(info.createdAt);
    expect(Object.keys(res.body).sort()).toEqual(Object.keys(sessionInfoResponseSchema.shape).sort());
  });

  it('answers 404, 410 and 400', async () => {
    expect((await client.get<ErrorBody>(`/v1/sessions/${uniqueId()}`)).body.code).toBe('session_not_found');
    const { sessionId } = await client.createSession();
    await client.delete(`/v1/sessions/${sessionId}`);
    const ended = await client.get<ErrorBody>(`/v1/sessions/${sessionId}`);
    expect([ended.status, ended.body.code]).toEqual([410, 'session_ended']);
    for (const id of ['x'.repeat(65), 'x'.repeat(300), 'a%7Bb%7D', 'a%3Ab']) {
      const bad = await client.get<ErrorBody>(`/v1/sessions/${id}`);
      expect([bad.status, bad.body.code], id).toEqual([400, 'invalid_session_id']);
    }
  });
});

describe('DELETE /v1/sessions/:id', () => {
  it('ends the session once: 204, then 410; unknown sessions are 404', async () => {
    const { sessionId } = await client.createSession();
    const res = await client.delete(`/v1/sessions/${sessionId}`);
    expect(res.status).toBe(204);
    expect(res.body).toBeUndefined();
    const again = await client.delete<ErrorBody>(`/v1/sessions/${sessionId}`);
    expect([again.status, again.body.code]).toEqual([410, 'session_ended']);
    const publish = await client.post<ErrorBody>(`/v1/sessions/${sessionId}/messages`, { data: 1 });
    expect([publish.status, publish.body.code]).toEqual([410, 'session_ended']);
    const unknown = await client.delete<ErrorBody>(`/v1/sessions/${uniqueId()}`);
    expect([unknown.status, unknown.body.code]).toEqual([404, 'session_not_found']);
  });
});
