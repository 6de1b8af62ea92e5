import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishResponseSchema, readResponseSchema, type ApiServer } from '@holdfast/api';
import { RedisServer } from '@holdfast/testing';
import { uniqueId } from '../../helpers/session-log-fixture.js';
import { ApiClient, startTestApi, type ErrorBody, type PublishBody } from './api-fixture.js';

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

const messagesOf = (sessionId: string) => `/v1/sessions/${sessionId}/messages`;

describe('POST /v1/sessions/:id/messages', () => {
  it('appends one message, then a batch, at consecutive offsets', async () => {
    const { sessionId, epoch } = await client.createSession();
    const one = await client.post<PublishBody>(messagesOf(sessionId), { data: { text: 'hi' } });
    expect(one.status).toBe(200);
    expect(publishResponseSchema.parse(one.body)).toEqual({ epoch, offsets: [1], duplicates: [false] });
    const batch = await client.post<PublishBody>(messagesOf(sessionId), {
      messages: [{ data: 'a' }, { data: null }, { data: [1, 2] }],
    });
    expect(batch.body).toEqual({ epoch, offsets: [2, 3, 4], duplicates: [false, false, false] });
    const read = await client.get(`${messagesOf(sessionId)}?from=1`);
    expect(read.body['messages']).toEqual([
      { offset: 1, data: { text: 'hi' } },
      { offset: 2, data: 'a' },
      { offset: 3, data: null },
      { offset: 4, data: [1, 2] },
    ]);
  });

  it('a retry with the same Idempotency-Key returns the same offset (single message)', async () => {
    const { sessionId } = await client.createSession();
    const headers = { 'idempotency-key': 'reply-7' };
    const first = await client.post<PublishBody>(messagesOf(sessionId), { data: 'x' }, { headers });
    await client.post(messagesOf(sessionId), { data: 'other' });
    const retry = await client.post<PublishBody>(messagesOf(sessionId), { data: 'x' }, { headers });
    expect(first.body.offsets).toEqual([1]);
    expect(retry.body).toEqual({ ...first.body, duplicates: [true] });
    // The key became the message id: publishing with that id is a duplicate too.
    const sameId = await client.post<PublishBody>(messagesOf(sessionId), { data: 'x', id: 'reply-7' });
    expect(sameId.body.offsets).toEqual([1]);
    expect((await client.get(`/v1/sessions/${sessionId}`)).body['head']).toBe(2);
  });

  it('a retry with the same Idempotency-Key returns the same offsets (batch)', async () => {
    const { sessionId } = await client.createSession();
    const headers = { 'Idempotency-Key': 'turn-3' };
    const body = { messages: [{ data: 1 }, { data: 2, id: 'own-id' }, { data: 3 }] };
    const first = await client.post<PublishBody>(messagesOf(sessionId), body, { headers });
    const retry = await client.post<PublishBody>(messagesOf(sessionId), body, { headers });
    expect(first.body.offsets).toEqual([1, 2, 3]);
    expect(retry.body).toEqual({ ...first.body, duplicates: [true, true, true] });
    // Message i got `${key}.${i}` unless it had its own id.
    const probe = await client.post<PublishBody>(messagesOf(sessionId), {
      messages: [
        { data: 0, id: 'turn-3.0' },
        { data: 0, id: 'own-id' },
        { data: 0, id: 'turn-3.2' },
      ],
    });
    expect(probe.body).toEqual({ ...first.body, duplicates: [true, true, true] });
    // A batch that grew on retry appends only the new tail.
    const grown = await client.post<PublishBody>(
      messagesOf(sessionId),
      { messages: [...body.messages, { data: 4 }] },
      { headers },
    );
    expect(grown.body.offsets).toEqual([1, 2, 3, 4]);
    expect(grown.body.duplicates).toEqual([true, true, true, false]);
  });

  it('concurrent retries of one keyed publish write it once', async () => {
    const { sessionId } = await client.createSession();
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        client.post<PublishBody>(
          messagesOf(sessionId),
          { data: 'once' },
          { headers: { 'idempotency-key': 'k1' } },
        ),
      ),
    );
    expect(new Set(results.map((r) => r.body.offsets[0]))).toEqual(new Set([1]));
    expect(results.filter((r) => !r.body.duplicates[0])).toHaveLength(1);
  });

  it('refuses a message over the session log limit with 413 payload_too_large, writing nothing', async () => {
    const { sessionId } = await client.createSession();
    const big = 'x'.repeat(256 * 1024);
    const single = await client.post<ErrorBody>(messagesOf(sessionId), { data: big });
    expect(single.status).toBe(413);
    expect(single.body).toMatchObject({ code: 'payload_too_large', details: { limit: 256 * 1024 } });
    const batch = await client.post<ErrorBody>(messagesOf(sessionId), {
      messages: [{ data: 'small' }, { data: big }],
    });
    expect([batch.status, batch.body.code]).toEqual([413, 'payload_too_large']);
    expect((await client.get(`/v1/sessions/${sessionId}`)).body['head']).toBe(0);
  });

  it('refuses a batch over 1000 messages with 413 batch_too_large', async () => {
    const { sessionId } = await client.createSession();
    const res = await client.post<ErrorBody>(messagesOf(sessionId), {
      messages: Array.from({ length: 1001 }, (_, i) => ({ data: i })),
    });
    expect([res.status, res.body.code]).toEqual([413, 'batch_too_large']);
  });

  it.each([
    [{}, 'invalid_request'],
    [{ data: 1, messages: [{ data: 2 }] }, 'invalid_request'],
    [{ messages: [{ data: 1 }], id: 'x' }, 'invalid_request'],
    [{ data: 1, extra: true }, 'invalid_request'],
    [{ messages: 'no' }, 'invalid_request'],
    [{ messages: [] }, 'invalid_payload'],
    [{ messages: [{ id: 'no-data' }] }, 'invalid_payload'],
    [{ data: 1, id: 'bad id' }, 'invalid_message_id'],
    [{ messages: [{ data: 1, id: 'x'.repeat(129) }] }, 'invalid_message_id'],
  ])('refuses %j with 400 %s', async (body, code) => {
    const { sessionId } = await client.createSession();
    const res = await client.post<ErrorBody>(messagesOf(sessionId), body);
    expect([res.status, res.body.code]).toEqual([400, code]);
    expect((await client.get(`/v1/sessions/${sessionId}`)).body['head']).toBe(0);
  });

  it('refuses a bad Idempotency-Key with invalid_message_id', async () => {
    const { sessionId } = await client.createSession();
    const spaced = await client.post<ErrorBody>(
      messagesOf(sessionId),
      { data: 1 },
      { headers: { 'idempotency-key': 'a b' } },
    );
    expect([spaced.status, spaced.body.code]).toEqual([400, 'invalid_message_id']);
    // 127 characters is a valid id, but `${key}.${i}` would not be.
    const long = 'k'.repeat(127);
    const single = await client.post<PublishBody>(
      messagesOf(sessionId),
      { data: 1 },
      { headers: { 'idempotency-key': long } },
    );
    expect(single.status).toBe(200);
    const batch = await client.post<ErrorBody>(
      messagesOf(sessionId),
      { messages: [{ data: 1 }] },
      { headers: { 'idempotency-key': long } },
    );
    expect([batch.status, batch.body.code]).toEqual([400, 'invalid_message_id']);
    expect(batch.body.message).toContain('at most 126');
  });

  it('answers 404 for an unknown session and 410 for an ended one', async () => {
    const unknown = await client.post<ErrorBody>(messagesOf(uniqueId()), { data: 1 });
    expect([unknown.status, unknown.body.code]).toEqual([404, 'session_not_found']);
    const { sessionId } = await client.createSession();
    await client.delete(`/v1/sessions/${sessionId}`);
    const ended = await client.post<ErrorBody>(messagesOf(sessionId), { messages: [{ data: 1 }] });
    expect([ended.status, ended.body.code]).toEqual([410, 'session_ended']);
  });
});

describe('GET /v1/sessions/:id/messages', () => {
  it('pages through the log with from and limit', async () => {
    const { sessionId, epoch } = await client.createSession();
    await client.post(messagesOf(sessionId), {
      messages: Array.from({ length: 10 }, (_, i) => ({ data: i + 1 })),
    });
    const page = await client.get(`${messagesOf(sessionId)}?from=4&limit=3`);
    expect(page.status).toBe(200);
    expect(readResponseSchema.parse(page.body)).toEqual({
      epoch,
      head: 10,
      firstAvailable: 1,
      trimmed: false,
      messages: [4, 5, 6].map((n) => ({ offset: n, data: n })),
    });
    const all = await client.get(messagesOf(sessionId));
    expect((all.body['messages'] as unknown[]).length).toBe(10);
    const past = await client.get(`${messagesOf(sessionId)}?from=11`);
    expect(past.body).toMatchObject({ head: 10, trimmed: false, messages: [] });
  });

  it('reports trimmed when retention dropped the start', async () => {
    const { sessionId } = await client.createSession({ retention: { maxMessages: 3 } });
    for (let i = 1; i <= 6; i++) await client.post(messagesOf(sessionId), { data: i });
    const res = await client.get(`${messagesOf(sessionId)}?from=2`);
    expect(res.body).toMatchObject({ head: 6, firstAvailable: 4, trimmed: true });
    expect(res.body['messages']).toEqual([4, 5, 6].map((n) => ({ offset: n, data: n })));
    const fromKept = await client.get(`${messagesOf(sessionId)}?from=4`);
    expect(fromKept.body['trimmed']).toBe(false);
  });

  it.each([
    ['from=-1', 'invalid_offset'],
    ['from=abc', 'invalid_offset'],
    ['from=1.5', 'invalid_offset'],
    ['limit=0', 'invalid_options'],
    ['limit=10001', 'invalid_options'],
    ['cursor=1', 'invalid_request'],
  ])('refuses ?%s with 400 %s', async (query, code) => {
    const { sessionId } = await client.createSession();
    const res = await client.get<ErrorBody>(`${messagesOf(sessionId)}?${query}`);
    expect([res.status, res.body.code]).toEqual([400, code]);
  });

  it('answers 404 for an unknown session and 410 for an ended one', async () => {
    expect((await client.get<ErrorBody>(messagesOf(uniqueId()))).status).toBe(404);
    const { sessionId } = await client.createSession();
    await client.delete(`/v1/sessions/${sessionId}`);
    const ended = await client.get<ErrorBody>(messagesOf(sessionId));
    expect([ended.status, ended.body.code]).toEqual([410, 'session_ended']);
  });
});
