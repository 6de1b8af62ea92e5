import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@holdfast/protocol';
import { tokenFor } from '@holdfast/testing';
import { WireClient } from '../../bad-input/wire-client.js';
import type { ErrorBody } from '../api/api-fixture.js';
import { useBadInputApi, useBadInputEnvironment } from './bad-input-fixture.js';

const env = useBadInputEnvironment();

const api = useBadInputApi(env);

/** Ids no Holdfast id may be: Redis key syntax, control characters, broken UTF-16, sheer size. */
const HOSTILE_IDS: ReadonlyArray<readonly [string, string]> = [
  ['a glob star', 'a*b'],
  ['a hash-tag brace', 'a{b'],
  ['a closing brace', 'a}b'],
  ['a hash tag', '{a}'],
  ['a key separator', 'a:b'],
  ['a newline', 'a\nb'],
  ['a carriage return and NUL', 'a\r\u0000b'],
  ['a lone surrogate (not valid UTF-8 once encoded)', 'a\uD800b'],
  ['a space', 'a b'],
  ['an empty string', ''],
  ['10 KB', 'x'.repeat(10_000)],
];

/** A healthy session gets a message through the API, and its client receives it. */
async function expectApiStillServes(): Promise<void> {
  const created = await api.http.createSession();
  const res = await api.http.post(`/v1/sessions/${created.sessionId}/messages`, { data: { ok: true } });
  expect(res.status).toBe(200);
  await env.expectStillServing();
}

describe('hostile ids at the edge', () => {
  it.each(HOSTILE_IDS)('a session id with %s → invalid_session_id', async (_what, sessionId) => {
    const real = await env.createSession();
    await env.expectRefused({ sessionId, token: await tokenFor(real) }, ErrorCode.InvalidSessionId);
  });

  it.each(HOSTILE_IDS)('a send id with %s → invalid_message_id, nothing stored', async (_what, id) => {
    const sessionId = await env.createSession();
    const wire = await WireClient.open(env.edge.url);
    try {
      await wire.joined({ sessionId, token: await tokenFor(sessionId) });
      const ackId = wire.emit('send', [{ id, data: 1 }], true)!;
      expect(await wire.waitForAck(ackId)).toMatchObject({ ok: false, code: ErrorCode.InvalidMessageId });
      const redis = env.redis.client();
      try {
        expect(await redis.xlen(env.log.keys(sessionId).inbox)).toBe(0);
      } finally {
        redis.disconnect();
      }
      expect(wire.closed).toBeUndefined();
    } finally {
      wire.close();
    }
    await env.expectStillServing();
  });

  it('a text frame that is not UTF-8 closes that connection only (WebSocket 1007)', async () => {
    const sessionId = await env.createSession();
    const wire = await WireClient.open(env.edge.url);
    try {
      await wire.joined({ sessionId, token: await tokenFor(sessionId) });
      // ws sends a Buffer as binary; a raw text frame with invalid UTF-8 needs the low-level API.
      const bytes = Buffer.concat([
        Buffer.from('42["send",{"id":"'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}]'),
      ]);
      wire.ws.send(bytes, { binary: false });
      expect(await wire.waitForClose()).toMatchObject({ code: 1007 });
    } finally {
      wire.close();
    }
    await env.expectStillServing();
  });
});

describe('hostile ids over the HTTP API', () => {
  /** Percent-encoded for a path; a lone surrogate becomes bytes that are not UTF-8 (%ED%A0%80). */
  const enc = (id: string): string =>
    id.includes('\uD800')
      ? id.split('\uD800').map(encodeURIComponent).join('%ED%A0%80')
      : encodeURIComponent(id);

  it.each(HOSTILE_IDS)('creating a session with %s → 400 invalid_session_id', async (_what, sessionId) => {
    const res = await api.http.post<ErrorBody>('/v1/sessions', { sessionId });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe(ErrorCode.InvalidSessionId);
    await expectApiStillServes();
  });

  it.each(HOSTILE_IDS.filter(([, id]) => id !== ''))(
    'a session id with %s in the path → 400 invalid_session_id',
    async (_what, sessionId) => {
      for (const path of [
        `/v1/sessions/${enc(sessionId)}`,
        `/v1/sessions/${enc(sessionId)}/messages?from=1`,
      ]) {
        const res = await api.http.get<ErrorBody>(path);
        expect({ path: path.slice(0, 60), status: res.status, code: res.body.code }).toEqual({
          path: path.slice(0, 60),
          status: 400,
          code: ErrorCode.InvalidSessionId,
        });
      }
      const publish = await api.http.post<ErrorBody>(`/v1/sessions/${enc(sessionId)}/messages`, { data: 1 });
      expect(publish.status).toBe(400);
      expect(publish.body.code).toBe(ErrorCode.InvalidSessionId);
      await expectApiStillServes();
    },
  );

  it.each(HOSTILE_IDS)(
    'a message id with %s → 400 invalid_message_id, nothing written',
    async (_what, id) => {
      const { sessionId } = await api.http.createSession();
      const res = await api.http.post<ErrorBody>(`/v1/sessions/${sessionId}/messages`, { data: 1, id });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe(ErrorCode.InvalidMessageId);
      expect((await env.log.info(sessionId)).head).toBe(0);
      await expectApiStillServes();
    },
  );

  it.each(HOSTILE_IDS)('a consumer id with %s → 400 invalid_consumer_id', async (_what, consumerId) => {
    const { sessionId } = await api.http.createSession();
    const res = await api.http.post<ErrorBody>(`/v1/sessions/${sessionId}/token`, { consumerId });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe(ErrorCode.InvalidConsumerId);
    await expectApiStillServes();
  });

  it.each(
    HOSTILE_IDS.filter(([, id]) => /^[\x20-\x7e]+$/.test(id)), // what an HTTP header can carry at all
  )('an Idempotency-Key with %s → 400 invalid_message_id', async (_what, key) => {
    const { sessionId } = await api.http.createSession();
    const res = await api.http.post<ErrorBody>(
      `/v1/sessions/${sessionId}/messages`,
      { data: 1 },
      {
        headers: { 'idempotency-key': key },
      },
    );
    expect(res.status).toBe(400);
    expect(res.body.code).toBe(ErrorCode.InvalidMessageId);
    expect((await env.log.info(sessionId)).head).toBe(0);
    await expectApiStillServes();
  });

  it('a body that is not UTF-8 is refused with 400, not stored', async () => {
    const { sessionId } = await api.http.createSession();
    const body = Buffer.concat([
      Buffer.from('{"data":"'),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from('"}'),
    ]);
    const res = await fetch(`${api.url}/v1/sessions/${sessionId}/messages`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${(api.http as unknown as { key: string }).key}`,
        'content-type': 'application/json',
      },
      body,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).code).toBe('invalid_json');
    expect((await env.log.info(sessionId)).head).toBe(0);
    await expectApiStillServes();
  });
});
