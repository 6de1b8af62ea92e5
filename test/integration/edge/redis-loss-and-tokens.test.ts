import { describe, expect, it } from 'vitest';
import { useEdgeEnvironment } from '../../helpers/edge-fixture.js';
import { EdgeProcess, tokenFor, waitFor } from '@holdfast/testing';
import { RawClient, assertContiguous } from '../../helpers/raw-client.js';
import { uniqueId } from '../../helpers/session-log-fixture.js';

const env = useEdgeEnvironment();

async function newSession(): Promise<string> {
  const sessionId = uniqueId();
  await env.log.createSession(sessionId);
  return sessionId;
}

async function readyStatus(): Promise<number> {
  return (await fetch(`${env.edge.url}/readyz`)).status;
}

describe('token lifetime on a live connection', () => {
  it('takes a fresh token without losing its place, and refuses one for another session', async () => {
    const sessionId = await newSession();
    const client = await RawClient.connect(env.edge.url, {
      sessionId,
      token: await tokenFor(sessionId, { ttlSeconds: 3 }),
    });
    await env.log.append(sessionId, 1);
    await client.waitForOffset(1);

    const refreshed = await client.socket.emitWithAck('token', {
      token: await tokenFor(sessionId, { ttlSeconds: 60 }),
    });
    expect(refreshed).toMatchObject({ ok: true });
    const wrong = await client.socket.emitWithAck('token', { token: await tokenFor(await newSession()) });
    expect(wrong).toMatchObject({ ok: false, code: 'token_wrong_session' });
    const garbage = await client.socket.emitWithAck('token', { token: 'not-a-jwt' });
    expect(garbage).toMatchObject({ ok: false, code: 'token_invalid' });

    // Past the first token's expiry the connection is still open and delivering.
    const firstExpiry = client.hellos[0]!.tokenExpiresAt;
    await waitFor(() => Date.now() > firstExpiry + 500, {
      timeoutMs: 6000,
      intervalMs: 100,
      what: 'first token expiry',
    });
    await env.log.append(sessionId, 2);
    await client.waitForOffset(2);
    expect(client.socket.connected).toBe(true);
    assertContiguous(client.delivered, 1, 2);
    client.close();
  });

  it('closes a connection whose token expires unrefreshed, with token_expired', async () => {
    const sessionId = await newSession();
    const client = await RawClient.connect(env.edge.url, {
      sessionId,
      token: await tokenFor(sessionId, { ttlSeconds: 1 }),
    });
    await waitFor(() => client.notice('fault'), { timeoutMs: 5000, what: 'token_expired notice' });
    expect(client.notice('fault')).toMatchObject({ code: 'token_expired' });
    expect(await client.waitForDisconnect()).toBe('io server disconnect');
  });
});

describe('losing Redis', () => {
  it('stops claiming readiness, moves its clients, and serves again when Redis is back', async () => {
    const sessionId = await newSession();
    const client = await RawClient.connect(env.edge.url, { sessionId, token: await tokenFor(sessionId) });
    await env.log.append(sessionId, 'before');
    await client.waitForOffset(1);
    expect(await readyStatus()).toBe(200);

    await env.redis.kill();
    await waitFor(async () => (await readyStatus()) === 503, { what: 'readyz to report not ready' });
    // Without Redis the edge cannot serve a current view: it tells its clients to move.
    await waitFor(() => client.notice('drain'), { timeoutMs: 10_000, what: 'drain notice' });
    await client.waitForDisconnect();

    await env.redis.restart();
    await waitFor(async () => (await readyStatus()) === 200, {
      timeoutMs: 15_000,
      what: 'readyz to recover',
    });
    // The producer retries with the same message id: applied once however often it is sent.
    await waitFor(
      () =>
        env.log.append(sessionId, 'after', { id: 'after-recovery' }).then(
          () => true,
          () => false,
        ),
      { timeoutMs: 15_000, what: 'an append after recovery' },
    );
    const resumed = await waitFor(
      async () => {
        const c = await RawClient.connect(env.edge.url, {
          sessionId,
          token: await tokenFor(sessionId),
          position: client.position!,
        });
        if (c.hellos.length > 0) return c;
        c.close();
        return undefined;
      },
      { timeoutMs: 15_000, intervalMs: 200, what: 'a connection after Redis recovered' },
    );
    await resumed.waitForOffset(2);
    expect(resumed.delivered[0]).toMatchObject({ offset: 2, data: 'after' });
    resumed.close();
  });

  it('shuts down promptly and cleanly on SIGTERM while Redis is down', async () => {
    const extra = await EdgeProcess.start({ redisUrl: env.redis.url });
    await env.redis.kill();
    try {
      extra.signal('SIGTERM');
      const started = Date.now();
      expect(await extra.waitForExit()).toEqual({ code: 0, signal: null });
      // Well inside the drain timeout: closing connections to a dead Redis is bounded.
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      await extra.kill();
      await env.redis.restart();
    }
  });
});
