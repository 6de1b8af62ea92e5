import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier } from '@holdfast/auth';
import type { ApiServer } from '@holdfast/api';
import { createProducer, type Producer } from '@holdfast/producer';
import { isHoldfastError } from '@holdfast/protocol';
import { TEST_TOKEN_SECRET, RedisServer } from '@holdfast/testing';
import { uniqueId } from '../../helpers/session-log-fixture.js';
import {
  ApiClient,
  startTestApi,
  type ApiResponse,
  type ErrorBody,
  type PublishBody,
} from './api-fixture.js';

let redis: RedisServer;
let api: ApiServer;
let client: ApiClient;
/** Shares the API's Redis and key prefix: both see the same sessions. */
let producer: Producer;
const verifier = createTokenVerifier({ hs256Secrets: [TEST_TOKEN_SECRET] });

beforeAll(async () => {
  redis = await RedisServer.start();
  const keyPrefix = uniqueId('api');
  api = await startTestApi(redis, { HOLDFAST_KEY_PREFIX: keyPrefix });
  client = new ApiClient(api.url);
  producer = createProducer({
    redis: redis.url,
    keyPrefix,
    token: { algorithm: 'HS256', secret: TEST_TOKEN_SECRET },
  });
  await producer.ready();
});
afterAll(async () => {
  await producer?.close();
  await api?.close();
  await redis?.destroy();
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isHoldfastError(error)) return error.code;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('createProducer', () => {
  it('creates sessions with generated ids and tokens the edges accept', async () => {
    const created = await producer.createSession({ consumerId: 'worker', tokenTtlSeconds: 90 });
    expect(created.sessionId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const verified = await verifier.verify(created.token, { sessionId: created.sessionId });
    expect(verified.consumerId).toBe('worker');
    expect(created.tokenExpiresAt).toBe(verified.expiresAt);
    // The HTTP API sees the session.
    const info = await client.get(`/v1/sessions/${created.sessionId}`);
    expect(info.body).toMatchObject({ sessionId: created.sessionId, epoch: created.epoch });
  });

  it('publishes, reads, issues tokens and ends sessions', async () => {
    const { sessionId, epoch } = await producer.createSession({ sessionId: uniqueId() });
    expect(await producer.publish(sessionId, { n: 1 })).toEqual({ epoch, offset: 1, duplicate: false });
    expect(await producer.publishBatch(sessionId, [{ data: { n: 2 } }, { data: { n: 3 } }])).toEqual({
      epoch,
      offsets: [2, 3],
      duplicates: [false, false],
    });
    const page = await producer.read(sessionId, { from: 2, limit: 1 });
    expect(page).toEqual({
      epoch,
      head: 3,
      firstAvailable: 1,
      trimmed: false,
      messages: [{ offset: 2, data: { n: 2 } }],
    });
    expect((await producer.info(sessionId)).head).toBe(3);
    const { token } = await producer.issueToken(sessionId, { consumerId: 'c2' });
    expect((await verifier.verify(token, { sessionId })).consumerId).toBe('c2');
    await producer.endSession(sessionId);
    expect(await codeOf(producer.info(sessionId))).toBe('session_ended');
  });

  it('idempotency: a key, or a message id, makes a retry return the original offsets', async () => {
    const { sessionId } = await producer.createSession();
    const first = await producer.publish(sessionId, 'a', { idempotencyKey: 'k' });
    expect(await producer.publish(sessionId, 'a', { idempotencyKey: 'k' })).toEqual({
      ...first,
      duplicate: true,
    });
    expect(await producer.publish(sessionId, 'a', { id: 'k' })).toEqual({ ...first, duplicate: true });
    // Its own id wins over the key.
    expect((await producer.publish(sessionId, 'b', { id: 'own', idempotencyKey: 'k' })).duplicate).toBe(
      false,
    );
    const batch = [{ data: 1 }, { data: 2, id: 'mine' }];
    const once = await producer.publishBatch(sessionId, batch, { idempotencyKey: 'turn' });
    const twice = await producer.publishBatch(sessionId, batch, { idempotencyKey: 'turn' });
    expect(twice).toEqual({ ...once, duplicates: [true, true] });
    expect((await producer.info(sessionId)).head).toBe(4);
  });

  it('derives the same message ids as the HTTP API, so either can retry the other', async () => {
    const { sessionId } = await producer.createSession();
    const viaHttp = await client.post<PublishBody>(
      `/v1/sessions/${sessionId}/messages`,
      { messages: [{ data: 1 }, { data: 2 }] },
      { headers: { 'idempotency-key': 'job-9' } },
    );
    const viaProducer = await producer.publishBatch(sessionId, [{ data: 1 }, { data: 2 }], {
      idempotencyKey: 'job-9',
    });
    expect(viaProducer).toEqual({ ...viaHttp.body, duplicates: [true, true] });

    const single = await producer.publish(sessionId, 'x', { idempotencyKey: 'job-10' });
    const retried = await client.post<PublishBody>(
      `/v1/sessions/${sessionId}/messages`,
      { data: 'x' },
      { headers: { 'idempotency-key': 'job-10' } },
    );
    expect(retried.body).toEqual({ epoch: single.epoch, offsets: [single.offset], duplicates: [true] });
  });

  it('without a token config it creates sessions without tokens and refuses to issue them', async () => {
    const plain = createProducer({ redis: redis.url, keyPrefix: uniqueId('p') });
    try {
      const created = await plain.createSession();
      expect(created.token).toBeUndefined();
      expect(await codeOf(plain.issueToken(created.sessionId))).toBe('invalid_options');
      expect(await codeOf(plain.createSession({ consumerId: 'x' }))).toBe('invalid_options');
    } finally {
      await plain.close();
    }
  });

  it('refuses a bad token config at once', () => {
    expect(() =>
      createProducer({ redis: redis.url, token: { algorithm: 'HS256', secret: 'short' } }),
    ).toThrow(expect.objectContaining({ code: 'invalid_options' }));
  });
});

interface ParityCase {
  name: string;
  code: string;
  http(sessionId: string): Promise<ApiResponse<ErrorBody>>;
  producer(sessionId: string): Promise<unknown>;
  /** The session the case runs against: a live one (default), an unknown one or an ended one. */
  session?: 'live' | 'unknown' | 'ended';
}

const big = 'x'.repeat(256 * 1024);
const messagesOf = (id: string) => `/v1/sessions/${id}/messages`;

const parityCases: ParityCase[] = [
  {
    name: 'publish to an unknown session',
    code: 'session_not_found',
    session: 'unknown',
    http: (id) => client.post(messagesOf(id), { data: 1 }),
    producer: (id) => producer.publish(id, 1),
  },
  {
    name: 'publish to an ended session',
    code: 'session_ended',
    session: 'ended',
    http: (id) => client.post(messagesOf(id), { messages: [{ data: 1 }] }),
    producer: (id) => producer.publishBatch(id, [{ data: 1 }]),
  },
  {
    name: 'token for an unknown session',
    code: 'session_not_found',
    session: 'unknown',
    http: (id) => client.post(`/v1/sessions/${id}/token`, {}),
    producer: (id) => producer.issueToken(id),
  },
  {
    name: 'token for an ended session',
    code: 'session_ended',
    session: 'ended',
    http: (id) => client.post(`/v1/sessions/${id}/token`, {}),
    producer: (id) => producer.issueToken(id),
  },
  {
    name: 'end an ended session',
    code: 'session_ended',
    session: 'ended',
    http: (id) => client.delete(`/v1/sessions/${id}`),
    producer: (id) => producer.endSession(id),
  },
  {
    name: 'create an existing session',
    code: 'session_exists',
    http: (id) => client.post('/v1/sessions', { sessionId: id }),
    producer: (id) => producer.createSession({ sessionId: id }),
  },
  {
    name: 'malformed session id',
    code: 'invalid_session_id',
    http: () => client.post('/v1/sessions', { sessionId: 'a{b}' }),
    producer: () => producer.createSession({ sessionId: 'a{b}' }),
  },
  {
    name: 'malformed session id in the path',
    code: 'invalid_session_id',
    http: () => client.post(messagesOf('a.b'), { data: 1 }),
    producer: () => producer.publish('a.b', 1),
  },
  {
    name: 'oversize message',
    code: 'payload_too_large',
    http: (id) => client.post(messagesOf(id), { data: big }),
    producer: (id) => producer.publish(id, big),
  },
  {
    name: 'too many messages',
    code: 'batch_too_large',
    http: (id) =>
      client.post(messagesOf(id), { messages: Array.from({ length: 1001 }, () => ({ data: 0 })) }),
    producer: (id) =>
      producer.publishBatch(
        id,
        Array.from({ length: 1001 }, () => ({ data: 0 })),
      ),
  },
  {
    name: 'empty batch',
    code: 'invalid_payload',
    http: (id) => client.post(messagesOf(id), { messages: [] }),
    producer: (id) => producer.publishBatch(id, []),
  },
  {
    name: 'malformed message id',
    code: 'invalid_message_id',
    http: (id) => client.post(messagesOf(id), { data: 1, id: 'a b' }),
    producer: (id) => producer.publish(id, 1, { id: 'a b' }),
  },
  {
    name: 'malformed idempotency key',
    code: 'invalid_message_id',
    http: (id) => client.post(messagesOf(id), { data: 1 }, { headers: { 'idempotency-key': 'a:b' } }),
    producer: (id) => producer.publish(id, 1, { idempotencyKey: 'a:b' }),
  },
  {
    name: 'idempotency key too long for a batch',
    code: 'invalid_message_id',
    http: (id) =>
      client.post(
        messagesOf(id),
        { messages: [{ data: 1 }] },
        { headers: { 'idempotency-key': 'k'.repeat(127) } },
      ),
    producer: (id) => producer.publishBatch(id, [{ data: 1 }], { idempotencyKey: 'k'.repeat(127) }),
  },
  {
    name: 'malformed consumer id',
    code: 'invalid_consumer_id',
    http: (id) => client.post(`/v1/sessions/${id}/token`, { consumerId: 'a b' }),
    producer: (id) => producer.issueToken(id, { consumerId: 'a b' }),
  },
  {
    name: 'token lifetime out of range',
    code: 'invalid_options',
    http: () => client.post('/v1/sessions', { tokenTtlSeconds: 0 }),
    producer: () => producer.createSession({ tokenTtlSeconds: 0 }),
  },
  {
    name: 'negative retention',
    code: 'invalid_options',
    http: () => client.post('/v1/sessions', { retention: { maxMessages: -1 } }),
    producer: () => producer.createSession({ retention: { maxMessages: -1 } }),
  },
  {
    name: 'negative idle expiry',
    code: 'invalid_options',
    http: () => client.post('/v1/sessions', { idleTtlMs: -1 }),
    producer: () => producer.createSession({ idleTtlMs: -1 }),
  },
  {
    name: 'negative read offset',
    code: 'invalid_offset',
    http: (id) => client.get(`${messagesOf(id)}?from=-1`),
    producer: (id) => producer.read(id, { from: -1 }),
  },
  {
    name: 'read limit out of range',
    code: 'invalid_options',
    http: (id) => client.get(`${messagesOf(id)}?limit=0`),
    producer: (id) => producer.read(id, { limit: 0 }),
  },
];

describe('the producer and the HTTP API fail alike', () => {
  it.each(parityCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const sessionId = uniqueId();
    if (c.session !== 'unknown') await producer.createSession({ sessionId });
    if (c.session === 'ended') await producer.endSession(sessionId);
    const res = await c.http(sessionId);
    expect(res.body.code).toBe(c.code);
    expect(await codeOf(c.producer(sessionId))).toBe(c.code);
    if (c.session === undefined || c.session === 'live')
      expect((await producer.info(sessionId)).head).toBe(0);
  });
});
