import { afterEach, describe, expect, it, vi } from 'vitest';
import { SignJWT } from 'jose';
import { connect, type HoldfastSession } from '@holdfast/client';
import { useClientCluster } from '../../helpers/client-fixture.js';
import { CountingProxy } from '../../helpers/client-counting-proxy.js';
import { SessionRecorder } from '../../helpers/client-recorder.js';
import { TEST_TOKEN_SECRET, tokenFor, waitFor } from '@holdfast/testing';
import { RawClient } from '../../helpers/raw-client.js';

const cluster = useClientCluster();
const proxies: CountingProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
});

/** A relay in front of the shared edge that counts connection attempts. */
async function countingProxy(): Promise<CountingProxy> {
  const proxy = await CountingProxy.start((await cluster.sharedEdge()).port);
  proxies.push(proxy);
  return proxy;
}

/**
 * After a stop, nothing may happen: watch the relay for a while (a reconnect with the 5 ms
 * retry strategy used below would show within a few milliseconds).
 */
async function expectNoFurtherAttempts(proxy: CountingProxy, attempts: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 500)); // observing that nothing happens
  expect(proxy.accepted).toBe(attempts);
}

function signedToken(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(TEST_TOKEN_SECRET));
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

function stateTrail(session: HoldfastSession<unknown>, app: SessionRecorder<unknown>): string[] {
  return [...app.states.map((s) => `${s.state}:${s.reason ?? ''}`), `now:${session.state}`];
}

describe('codes that stop the session', () => {
  it('replaced: a newer connection of the same consumer closes this one for good, no reconnect', async () => {
    const proxy = await countingProxy();
    const { sessionId } = await cluster.newSession();
    const token = await tokenFor(sessionId, { consumerId: 'phone' });
    const session = cluster.track(connect(proxy.url, { sessionId, token, retryStrategy: () => 5 }));
    const app = new SessionRecorder(session);
    await app.waitForState('open');

    const newer = await RawClient.connect((await cluster.sharedEdge()).url, { sessionId, token });
    try {
      await app.waitForState('closed');
      expect(app.states.at(-1)).toMatchObject({ state: 'closed', reason: 'replaced' });
      await expectNoFurtherAttempts(proxy, 1);
      expect(newer.socket.connected).toBe(true);
      expect(app.errors).toEqual([]); // a normal end, not an error
    } finally {
      newer.close();
    }
  });

  it('session_ended on a live connection: closed, no reconnect', async () => {
    const proxy = await countingProxy();
    const { sessionId } = await cluster.newSession();
    const session = cluster.track(
      connect(proxy.url, { sessionId, token: await tokenFor(sessionId), retryStrategy: () => 5 }),
    );
    const app = new SessionRecorder(session);
    await cluster.publish(sessionId, 1, 3);
    await app.waitForOffset(3);

    await cluster.log.endSession(sessionId);
    await app.waitForState('closed');
    expect(stateTrail(session, app)).toEqual(['open:', 'closed:session_ended', 'now:closed']);
    await expectNoFurtherAttempts(proxy, 1);
    app.expectExactlyOnce(1, 3);
  });

  it.each([
    {
      code: 'session_not_found',
      options: async () => ({ sessionId: 'never-created', token: await tokenFor('never-created') }),
    },
    {
      code: 'token_invalid',
      options: async (sessionId: string) => ({ sessionId, token: 'not-a-token' }),
    },
    {
      code: 'token_wrong_session',
      options: async (sessionId: string) => ({ sessionId, token: await tokenFor(`${sessionId}x`) }),
    },
    {
      code: 'token_missing',
      options: async (sessionId: string) => ({ sessionId, token: '' }),
    },
    {
      code: 'token_expired',
      // Without getToken there is no way to get a fresh token: stop.
      options: async (sessionId: string) => ({
        sessionId,
        token: await signedToken({ sid: sessionId, aud: 'holdfast', exp: nowSeconds() - 60 }),
      }),
    },
  ])('$code at the handshake: closed after one attempt, error reported', async ({ code, options }) => {
    const proxy = await countingProxy();
    const { sessionId } = await cluster.newSession();
    const session = cluster.track(
      connect(proxy.url, { ...(await options(sessionId)), retryStrategy: () => 5 }),
    );
    const app = new SessionRecorder(session);
    await app.waitForState('closed');
    expect(stateTrail(session, app)).toEqual([`closed:${code}`, 'now:closed']);
    expect(app.errors.map((e) => [e.code, e.action])).toEqual([
      [code, code === 'token_expired' ? 'refresh_token' : 'stop'],
    ]);
    await expectNoFurtherAttempts(proxy, 1);
  });

  it('a token that expires on a live connection without getToken: closed with token_expired', async () => {
    const { sessionId } = await cluster.newSession();
    const edge = await cluster.sharedEdge();
    const session = cluster.track(
      connect(edge.url, {
        sessionId,
        token: await tokenFor(sessionId, { ttlSeconds: 2 }),
        retryStrategy: () => 5,
      }),
    );
    const app = new SessionRecorder(session);
    await app.waitForState('open');
    await app.waitForState('closed', 5000);
    expect(stateTrail(session, app)).toEqual(['open:', 'closed:token_expired', 'now:closed']);
    expect(app.errors.map((e) => e.code)).toEqual(['token_expired']);
  });

  it('origin_not_allowed (visible in Node as HTTP 403): closed; the right Origin via socketOptions connects', async () => {
    const edge = await cluster.startEdge({
      ALLOWED_ORIGINS: 'https://app.example',
      ALLOW_MISSING_ORIGIN: 'false',
    });
    const { sessionId } = await cluster.newSession();
    const token = await tokenFor(sessionId);
    const refused = cluster.track(connect(edge.url, { sessionId, token, retryStrategy: () => 5 }));
    const refusedApp = new SessionRecorder(refused);
    await refusedApp.waitForState('closed');
    expect(stateTrail(refused, refusedApp)).toEqual(['closed:origin_not_allowed', 'now:closed']);

    const allowed = cluster.track(
      connect(edge.url, {
        sessionId,
        token,
        socketOptions: { extraHeaders: { origin: 'https://app.example' } },
      }),
    );
    const allowedApp = new SessionRecorder(allowed);
    await cluster.publish(sessionId, 1, 1);
    await allowedApp.waitForOffset(1);
  });
});

describe('codes that refresh the token', () => {
  it.each([
    { code: 'token_expired', claims: () => ({ exp: nowSeconds() - 60 }) },
    { code: 'token_not_yet_valid', claims: () => ({ nbf: nowSeconds() + 3600, exp: nowSeconds() + 7200 }) },
  ])('$code at the handshake: getToken() is called, then the session connects', async ({ claims }) => {
    const { sessionId } = await cluster.newSession();
    const edge = await cluster.sharedEdge();
    const getToken = vi.fn(() => tokenFor(sessionId));
    const token = await signedToken({ sid: sessionId, aud: 'holdfast', iat: nowSeconds(), ...claims() });
    const session = cluster.track(connect(edge.url, { sessionId, token, getToken, retryStrategy: () => 5 }));
    const app = new SessionRecorder(session);
    await cluster.publish(sessionId, 1, 5);
    await app.waitForOffset(5);
    expect(getToken).toHaveBeenCalledTimes(1);
    expect(stateTrail(session, app)).toEqual(['open:', 'now:open']);
    app.expectExactlyOnce(1, 5);
  });

  it('refreshes a live token before it expires: same connection, position kept, nothing lost', async () => {
    const { sessionId } = await cluster.newSession();
    const edge = await cluster.sharedEdge();
    const getToken = vi.fn(() => tokenFor(sessionId, { ttlSeconds: 3 }));
    const session = cluster.track(
      connect(edge.url, { sessionId, getToken, tokenRefreshMarginMs: 2000, retryStrategy: () => 5 }),
    );
    const app = new SessionRecorder(session);
    await app.waitForState('open');
    const connectionId = session.connectionId;
    expect(connectionId).toEqual(expect.any(String));
    const producer = cluster.startProducer(sessionId, 2, 20);
    // Each 3 s token is refreshed after 1-1.5 s: by 3 refreshes the first token is long expired.
    await waitFor(() => getToken.mock.calls.length >= 4, { timeoutMs: 10_000, what: 'three refreshes' });
    const head = await producer.stop();
    await app.waitForOffset(head);

    expect(session.connectionId).toBe(connectionId);
    expect(stateTrail(session, app)).toEqual(['open:', 'now:open']);
    expect(app.errors).toEqual([]);
    app.expectExactlyOnce(1, head);
  });
});
