import { describe, expect, it } from 'vitest';
import { connect } from '@holdfast/client';
import { useClientCluster } from '../../helpers/client-fixture.js';
import { SessionRecorder } from '../../helpers/client-recorder.js';
import { FaultProxy } from '../../helpers/fault-proxy.js';
import { tokenFor, waitFor } from '@holdfast/testing';

const cluster = useClientCluster();

describe('client failover', () => {
  it('kill -9 of its edge: resumes on the next URL with nothing lost or doubled', async () => {
    const [a, b] = [await cluster.startEdge(), await cluster.startEdge()];
    const { sessionId } = await cluster.newSession();
    const session = cluster.track(connect([a.url, b.url], { sessionId, token: await tokenFor(sessionId) }));
    const app = new SessionRecorder(session);
    const producer = cluster.startProducer(sessionId);
    await app.waitForOffset(200);
    expect(await cluster.connectionsOn(a)).toBe(1);
    const before = session.connectionId;

    await a.kill();
    await waitFor(() => session.state === 'open' && session.connectionId !== before, {
      what: 'the session to be open again',
    });
    expect(await cluster.connectionsOn(b)).toBe(1);
    const head = await producer.stop();
    await app.waitForOffset(head);

    app.expectExactlyOnce(1, head);
    expect(app.states.map((s) => `${s.state}:${s.reason ?? ''}`)).toEqual([
      'open:',
      'resuming:connection_lost',
      'open:',
    ]);
    expect(app.errors).toEqual([]);
  });

  it('drain (SIGTERM): moves to the other edge after retryAfterMs, with nothing lost or doubled', async () => {
    const a = await cluster.startEdge({ DRAIN_SPREAD_MS: '0' });
    const b = await cluster.startEdge();
    const { sessionId } = await cluster.newSession();
    const session = cluster.track(connect([a.url, b.url], { sessionId, token: await tokenFor(sessionId) }));
    const app = new SessionRecorder(session);
    let drainedAt = 0;
    let reopenedAt = 0;
    session.on('state', ({ state, reason }) => {
      if (reason === 'server_draining') drainedAt = performance.now();
      if (state === 'open' && drainedAt > 0) reopenedAt = performance.now();
    });
    const producer = cluster.startProducer(sessionId);
    await app.waitForOffset(100);

    a.signal('SIGTERM');
    expect(await a.waitForExit()).toEqual({ code: 0, signal: null });
    await waitFor(() => reopenedAt > 0, { what: 'the session to reopen on edge b' });
    expect(await cluster.connectionsOn(b)).toBe(1);
    const head = await producer.stop();
    await app.waitForOffset(head);

    app.expectExactlyOnce(1, head);
    expect(app.states.map((s) => `${s.state}:${s.reason ?? ''}`)).toEqual([
      'open:',
      'resuming:server_draining',
      'open:',
    ]);
    expect(app.states[1]!.error).toMatchObject({ code: 'server_draining', retryAfterMs: 100 });
    // The edge asked for at least 100 ms before reconnecting.
    expect(reopenedAt - drainedAt).toBeGreaterThanOrEqual(95);
    expect(app.errors).toEqual([]);
  });

  it('a half-open link (blackholed, nothing closes): noticed by heartbeat, resumed on the next URL', async () => {
    const edge = await cluster.startEdge({ PING_INTERVAL_MS: '300', PING_TIMEOUT_MS: '300' });
    const proxy = await FaultProxy.start({ targetPort: edge.port });
    try {
      const { sessionId } = await cluster.newSession();
      const session = cluster.track(
        connect([proxy.url(), edge.url], {
          sessionId,
          token: await tokenFor(sessionId),
          retryStrategy: () => 5,
        }),
      );
      const app = new SessionRecorder(session);
      const producer = cluster.startProducer(sessionId);
      await app.waitForOffset(50);

      proxy.blackhole('both');
      await waitFor(() => app.states.length >= 3 && session.state === 'open', {
        what: 'the session to notice the dead link and reopen',
      });
      const head = await producer.stop();
      await app.waitForOffset(head);

      app.expectExactlyOnce(1, head);
      expect(app.states.map((s) => `${s.state}:${s.reason ?? ''}`)).toEqual([
        'open:',
        'resuming:connection_lost',
        'open:',
      ]);
      expect(app.states[1]!.error?.message).toContain('ping timeout');
    } finally {
      await proxy.close();
    }
  });
});
