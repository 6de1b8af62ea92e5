import { afterEach, describe, expect, it } from 'vitest';
import { connect, HoldfastClientError, memoryStore } from '@holdfast/client';
import { useClientCluster } from '../../helpers/client-fixture.js';
import { CountingProxy } from '../../helpers/client-counting-proxy.js';
import { SessionRecorder } from '../../helpers/client-recorder.js';
import { RawClient } from '../../helpers/raw-client.js';
import { tokenFor, waitFor } from '@holdfast/testing';

const cluster = useClientCluster();
const proxies: CountingProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
});

/** A relay in front of the shared edge that counts connection attempts: a loop shows there. */
async function countingProxy(): Promise<CountingProxy> {
  const proxy = await CountingProxy.start((await cluster.sharedEdge()).port);
  proxies.push(proxy);
  return proxy;
}

/** Above the edge's default frame limit (1 MiB): the edge cannot answer it, it closes the transport. */
const HUGE = { blob: 'z'.repeat(5 * 2 ** 20) };
/** Above the message limit (256 KiB) but within the frame limit. */
const LARGE = { blob: 'z'.repeat(300 * 1024) };

describe('size limits', () => {
  it('the edge announces its limits in hello', async () => {
    const { sessionId } = await cluster.newSession();
    const raw = await RawClient.connect((await cluster.sharedEdge()).url, {
      sessionId,
      token: await tokenFor(sessionId),
    });
    try {
      expect(raw.hellos[0]?.limits).toEqual({ maxPayloadBytes: 256 * 1024, maxFrameBytes: 1024 * 1024 });
    } finally {
      raw.close();
    }
  });

  it('an oversize send is rejected at once with payload_too_large, and later sends flow on the same connection', async () => {
    const proxy = await countingProxy();
    const { sessionId } = await cluster.newSession();
    const session = cluster.track(
      connect(proxy.url, { sessionId, token: await tokenFor(sessionId), retryStrategy: () => 5 }),
    );
    const app = new SessionRecorder(session);
    await app.waitForState('open');

    await expect(session.send(HUGE, { id: 'huge' })).rejects.toMatchObject({ code: 'payload_too_large' });
    await expect(session.send(LARGE, { id: 'large' })).rejects.toMatchObject({ code: 'payload_too_large' });
    expect(session.pendingSends).toBe(0);
    await expect(session.send({ n: 1 }, { id: 'small' })).resolves.toMatchObject({ id: 'small', seq: 1 });
    expect(proxy.accepted).toBe(1); // never reconnected
    expect(session.state).toBe('open');
  });

  it('a persisted oversize outbox head is settled at the first connection and does not block the entries behind it', async () => {
    const proxy = await countingProxy();
    const { sessionId } = await cluster.newSession();
    const store = memoryStore();
    await store.saveOutbox!(sessionId, [
      { id: 'huge', data: HUGE },
      { id: 'after', data: { n: 1 } },
    ]);
    const session = cluster.track(
      connect(proxy.url, { sessionId, token: await tokenFor(sessionId), retryStrategy: () => 5, store }),
    );
    const app = new SessionRecorder(session);
    await expect(session.send({ n: 2 }, { id: 'later' })).resolves.toMatchObject({ id: 'later', seq: 2 });
    expect(session.pendingSends).toBe(0);
    expect(await store.loadOutbox!(sessionId)).toBeUndefined();
    expect(app.errors.map((e) => e.code)).toContain('payload_too_large');
    expect(proxy.accepted).toBe(1);
  });

  it('an outbox entry the edge refuses for good is settled and removed; the next one is accepted', async () => {
    const { sessionId } = await cluster.newSession();
    const store = memoryStore();
    // The edge refuses prototype-poisoning keys with invalid_payload (fix_request: never accepted).
    await store.saveOutbox!(sessionId, [
      { id: 'poison', data: JSON.parse('{"__proto__":{"x":1}}') as unknown },
    ]);
    const session = cluster.track(
      connect((await cluster.sharedEdge()).url, {
        sessionId,
        token: await tokenFor(sessionId),
        retryStrategy: () => 5,
        store,
      }),
    );
    const app = new SessionRecorder(session);
    await expect(session.send({ n: 1 }, { id: 'next' })).resolves.toMatchObject({ id: 'next', seq: 1 });
    expect(app.errors.map((e) => e.code)).toContain('invalid_payload');
    expect(await store.loadOutbox!(sessionId)).toBeUndefined();
  });
});

describe('a failing getToken', () => {
  it('throwing an error with a stop code closes the session at once with that code', async () => {
    const { sessionId } = await cluster.newSession();
    let calls = 0;
    const session = cluster.track(
      connect((await cluster.sharedEdge()).url, {
        sessionId,
        retryStrategy: () => 5,
        getToken: () => {
          calls++;
          throw new HoldfastClientError('session_not_found', 'the API answered 404 session_not_found');
        },
      }),
    );
    const app = new SessionRecorder(session);
    await app.waitForState('closed');
    expect(app.states.at(-1)).toMatchObject({ state: 'closed', reason: 'session_not_found' });
    expect(calls).toBe(1);
  });

  it('failing again and again: a state event each time, then closed with token_unavailable after maxTokenFailures', async () => {
    const { sessionId } = await cluster.newSession();
    let calls = 0;
    const session = cluster.track(
      connect((await cluster.sharedEdge()).url, {
        sessionId,
        retryStrategy: () => 5,
        maxTokenFailures: 3,
        getToken: () => {
          calls++;
          return Promise.reject(new Error('token service answered 503'));
        },
      }),
    );
    const app = new SessionRecorder(session);
    await waitFor(() => session.state === 'closed', { what: 'the session closed' });
    expect(app.states.map((s) => `${s.state}:${s.reason ?? ''}`)).toEqual([
      'connecting:token_unavailable',
      'connecting:token_unavailable',
      'closed:token_unavailable',
    ]);
    expect(calls).toBe(3);
    const last = app.states.at(-1)?.error as HoldfastClientError | undefined;
    expect(last?.message).toMatch(/3 times in a row/);
  });
});
