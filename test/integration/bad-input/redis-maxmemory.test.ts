import { expect, it } from 'vitest';
import { ErrorCode, isHoldfastError } from '@holdfast/protocol';
import { RawClient, assertContiguous } from '../../helpers/raw-client.js';
import { tokenFor } from '@holdfast/testing';
import type { ErrorBody } from '../api/api-fixture.js';
import { useBadInputApi, useBadInputEnvironment } from './bad-input-fixture.js';

// noeviction: Redis refuses writes at maxmemory instead of dropping keys (BullMQ requires it).
const env = useBadInputEnvironment({ redis: { maxmemoryPolicy: 'noeviction' } });

const api = useBadInputApi(env);

const PAYLOAD = 'x'.repeat(4096);

it('at maxmemory, producers, the API and clients get storage_full; nothing acknowledged is lost', async () => {
  const sessionId = await env.createSession();
  const reader = await RawClient.connect(env.edge.url, { sessionId, token: await tokenFor(sessionId) });
  const sender = await env.createSession();
  const senderClient = await RawClient.connect(env.edge.url, {
    sessionId: sender,
    token: await tokenFor(sender),
  });
  const admin = env.redis.client();
  try {
    const info = await admin.info('memory');
    const used = Number(/used_memory:(\d+)/.exec(info)?.[1]);
    await admin.config('SET', 'maxmemory', String(used + 2 * 1024 * 1024));

    // Fill Redis with acknowledged appends until it refuses one.
    const acknowledged = new Map<number, number>();
    let refused: unknown;
    let i = 0;
    while (refused === undefined && i < 5000) {
      i += 1;
      try {
        const { offset } = await env.log.append(sessionId, { i, payload: PAYLOAD }, { id: `m${i}` });
        acknowledged.set(offset, i);
      } catch (error) {
        refused = error;
      }
    }
    expect(isHoldfastError(refused, ErrorCode.StorageFull)).toBe(true);
    expect((refused as { retryable: boolean }).retryable).toBe(true);
    expect(acknowledged.size).toBeGreaterThan(10);
    // Used memory moves a little (client buffers come and go): hold Redis below it from here
    // on, so every write of the next steps meets a full Redis.
    const full = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
    await admin.config('SET', 'maxmemory', String(full - 256 * 1024));

    // While full: the HTTP API, a client's send and a new handshake are each told so.
    const published = await api.http.post<ErrorBody>(`/v1/sessions/${sessionId}/messages`, {
      data: { payload: PAYLOAD },
    });
    expect(published.status).toBe(503);
    expect(published.body.code).toBe(ErrorCode.StorageFull);
    expect(published.headers.get('retry-after')).toBe('1');
    expect(
      await senderClient.socket.emitWithAck('send', { id: 'in-1', data: { payload: PAYLOAD } }),
    ).toMatchObject({
      ok: false,
      code: ErrorCode.StorageFull,
    });
    const newcomer = await RawClient.connect(env.edge.url, { sessionId, token: await tokenFor(sessionId) });
    newcomer.close();
    expect(newcomer.connectError?.data?.code).toBe(ErrorCode.StorageFull);
    // Reads still work: the connected client has everything acknowledged so far.
    await reader.waitForOffset(Math.max(...acknowledged.keys()));

    // Room again: nothing acknowledged was lost, nothing refused was half-written.
    await admin.config('SET', 'maxmemory', '0');
    const { head } = await env.log.info(sessionId);
    expect(head).toBe(Math.max(...acknowledged.keys()));
    const stored: Array<[number, number]> = [];
    while (stored.length < head) {
      const page = await env.log.read(sessionId, { from: stored.length + 1, limit: head });
      if (page.entries.length === 0) break;
      for (const entry of page.entries) stored.push([entry.offset, (entry.data as { i: number }).i]);
    }
    expect(stored).toEqual([...acknowledged]);
    // The refused append, retried with the same id, is applied once; the refused send too.
    const retried = await env.log.append(sessionId, { i, payload: PAYLOAD }, { id: `m${i}` });
    expect(retried.offset).toBe(head + 1);
    await reader.waitForOffset(head + 1);
    assertContiguous(reader.delivered, 1, head + 1);
    expect(
      await senderClient.socket.emitWithAck('send', { id: 'in-1', data: { payload: PAYLOAD } }),
    ).toMatchObject({
      ok: true,
      duplicate: false,
    });
    expect(reader.disconnectReason).toBeUndefined();
  } finally {
    await admin.config('SET', 'maxmemory', '0').catch(() => undefined);
    admin.disconnect();
    reader.close();
    senderClient.close();
  }
  await env.expectStillServing();
});
