import { describe, expect, it, vi } from 'vitest';
import { Socket } from 'socket.io-client';
import { connect, type ClientMessage } from '@holdfast/client';
import { useClientCluster } from '../../helpers/client-fixture.js';
import { SessionRecorder } from '../../helpers/client-recorder.js';
import { tokenFor, waitFor } from '@holdfast/testing';

const cluster = useClientCluster();

async function storedAck(sessionId: string): Promise<number> {
  return (await cluster.log.info(sessionId)).acks['default'] ?? 0;
}

describe('client delivery', () => {
  it('hands backlog and live messages to the app once each, in order, and acks what it handled', async () => {
    const edge = await cluster.sharedEdge();
    const { sessionId, epoch } = await cluster.newSession();
    await cluster.publish(sessionId, 1, 300);
    const session = cluster.track(connect(edge.url, { sessionId, token: await tokenFor(sessionId) }));
    const app = new SessionRecorder(session);
    await app.waitForOffset(300);
    await cluster.publish(sessionId, 301, 200, 7);
    await app.waitForOffset(500);

    app.expectExactlyOnce(1, 500);
    expect(app.handled[0]).toEqual({ epoch, offset: 1, data: { n: 1 } });
    expect(session.state).toBe('open');
    expect(session.position).toEqual({ epoch, offset: 500 });
    expect(app.states).toEqual([{ state: 'open', reason: undefined }]);
    await waitFor(async () => (await storedAck(sessionId)) === 500, { what: 'ack 500 stored' });
    expect(app.errors).toEqual([]);
  });

  it('runs async handlers one at a time, in order, and acks only what they finished', async () => {
    const edge = await cluster.sharedEdge();
    const { sessionId } = await cluster.newSession();
    let running = 0;
    let maxRunning = 0;
    let release: (() => void) | undefined;
    const session = cluster.track(
      connect(edge.url, { sessionId, token: await tokenFor(sessionId), ackEveryMessages: 1, ackEveryMs: 1 }),
    );
    const app = new SessionRecorder(session, async (message: ClientMessage) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      // Offset 3 waits until the test releases it; the others yield a few times.
      if (message.offset === 3) await new Promise<void>((resolve) => (release = resolve));
      else for (let i = 0; i < 3; i++) await Promise.resolve();
      running--;
    });
    await cluster.publish(sessionId, 1, 10);
    await waitFor(() => release, { what: 'the handler of offset 3 to start' });
    expect(app.calls).toEqual([1, 2, 3]);
    await waitFor(async () => (await storedAck(sessionId)) === 2, { what: 'ack 2 stored' });
    // Nothing past the message in progress is handed over or acknowledged meanwhile.
    await cluster.publish(sessionId, 11, 1);
    const probe = await cluster.newSession();
    const probeSession = cluster.track(
      connect(edge.url, { sessionId: probe.sessionId, token: await tokenFor(probe.sessionId) }),
    );
    const probeApp = new SessionRecorder(probeSession);
    await cluster.publish(probe.sessionId, 1, 1);
    await probeApp.waitForOffset(1);
    expect(app.calls).toEqual([1, 2, 3]);
    expect(await storedAck(sessionId)).toBe(2);

    release?.();
    await app.waitForOffset(11);
    app.expectExactlyOnce(1, 11);
    expect(maxRunning).toBe(1);
    await waitFor(async () => (await storedAck(sessionId)) === 11, { what: 'ack 11 stored' });
  });

  it('a handler that throws: error reported, message not acked, redelivered and then processed', async () => {
    const edge = await cluster.sharedEdge();
    const { sessionId } = await cluster.newSession();
    const boom = new Error('handler failed once');
    const ackSeenByHandler: number[] = [];
    const session = cluster.track(
      connect(edge.url, {
        sessionId,
        token: await tokenFor(sessionId),
        ackEveryMessages: 1,
        retryStrategy: () => 5,
      }),
    );
    const app = new SessionRecorder(session, async (message: ClientMessage) => {
      if (message.offset !== 5) return;
      // While offset 5 is being handled, nobody may have acknowledged it.
      ackSeenByHandler.push(await storedAck(sessionId));
      if (ackSeenByHandler.length === 1) throw boom;
    });
    await cluster.publish(sessionId, 1, 10, 10);
    await app.waitForOffset(10);

    app.expectExactlyOnce(1, 10);
    expect(app.calls).toEqual([1, 2, 3, 4, 5, 5, 6, 7, 8, 9, 10]);
    expect(ackSeenByHandler).toHaveLength(2);
    expect(Math.max(...ackSeenByHandler)).toBeLessThan(5);
    expect(app.errors).toHaveLength(1);
    expect(app.errors[0]).toMatchObject({ code: 'listener_failed', action: 'retry', cause: boom });
    expect(app.states.map((s) => `${s.state}:${s.reason ?? ''}`)).toEqual([
      'open:',
      'resuming:listener_failed',
      'open:',
    ]);
    await waitFor(async () => (await storedAck(sessionId)) === 10, { what: 'ack 10 stored' });
  });

  it('a failing handler is retried with backoff, not in a tight loop', async () => {
    const edge = await cluster.sharedEdge();
    const { sessionId } = await cluster.newSession();
    const attempts: number[] = [];
    let calls = 0;
    const session = cluster.track(
      connect(edge.url, {
        sessionId,
        token: await tokenFor(sessionId),
        retryStrategy: (attempt, error) => {
          if (error?.code === 'listener_failed') attempts.push(attempt);
          return 5;
        },
      }),
    );
    const app = new SessionRecorder(session, (message: ClientMessage) => {
      if (message.offset === 2 && ++calls <= 4) throw new Error(`failure ${calls}`);
    });
    await cluster.publish(sessionId, 1, 3, 3);
    await app.waitForOffset(3);
    app.expectExactlyOnce(1, 3);
    // The hello of each new connection does not count as progress: only a handled message does.
    expect(attempts).toEqual([1, 2, 3, 4]);
  });

  it('close() emits the last ack, then the disconnect', async () => {
    const edge = await cluster.sharedEdge();
    const { sessionId } = await cluster.newSession();
    const wire: string[] = [];
    const realEmit = Socket.prototype.emit;
    const realDisconnect = Socket.prototype.disconnect;
    const emitSpy = vi.spyOn(Socket.prototype, 'emit').mockImplementation(function (this: Socket, ...args) {
      const [event, payload] = args as [string, { offset?: number } | undefined];
      if (event === 'ack') wire.push(`ack ${payload?.offset}`);
      return realEmit.apply(this, args);
    });
    const disconnectSpy = vi.spyOn(Socket.prototype, 'disconnect').mockImplementation(function (
      this: Socket,
    ) {
      wire.push('disconnect');
      return realDisconnect.apply(this);
    });
    try {
      const session = connect(edge.url, {
        sessionId,
        token: await tokenFor(sessionId),
        ackEveryMessages: 1000,
        ackEveryMs: 60_000,
      });
      const app = new SessionRecorder(session);
      await cluster.publish(sessionId, 1, 20, 20);
      await app.waitForOffset(20);
      expect(wire).toEqual([]);
      await session.close();
      expect(wire).toEqual(['ack 20', 'disconnect']);
      expect(app.states.at(-1)).toEqual({ state: 'closed', reason: 'closed_by_app' });
    } finally {
      emitSpy.mockRestore();
      disconnectSpy.mockRestore();
    }
  });

  it('the edge stores the last ack of close() even when it reads it together with the disconnect', async () => {
    // The edge is frozen while close() sends the ack and the disconnect, so it reads both at once.
    // How the edge then processes them varies, so five sessions close this way; each must count.
    const edge = await cluster.sharedEdge();
    const stored: number[] = [];
    for (let round = 0; round < 5; round++) {
      const { sessionId } = await cluster.newSession();
      const session = connect(edge.url, {
        sessionId,
        token: await tokenFor(sessionId),
        ackEveryMessages: 1000,
        ackEveryMs: 60_000,
      });
      const app = new SessionRecorder(session);
      await cluster.publish(sessionId, 1, 20, 20);
      await app.waitForOffset(20);
      await cluster.freeze(edge, true);
      try {
        await session.close();
      } finally {
        await cluster.freeze(edge, false);
      }
      await waitFor(async () => (await cluster.connectionsOn(edge)) === 0, {
        what: 'the edge to see the disconnect',
      });
      // Give a late write every chance: the edge answers /readyz before Redis confirms.
      await waitFor(async () => (await storedAck(sessionId)) === 20, { timeoutMs: 1000 }).catch(() => false);
      stored.push(await storedAck(sessionId));
    }
    expect(stored, 'the final ack of each of five sessions').toEqual([20, 20, 20, 20, 20]);
  });

  // Freezes the one redis-server: standalone only (on a cluster the other tests of this file run).
  it.skipIf(cluster.onCluster)(
    'an app that handles a burst and closes at once (page unload): the edge stores its last ack',
    async () => {
      // Acks go out per message. Redis is frozen while they do, so the edge's first ack write is
      // still in flight when the later acks and then the disconnect arrive: the last ack, received
      // before the disconnect, must still be stored once Redis answers again.
      const edge = await cluster.sharedEdge();
      const { sessionId } = await cluster.newSession();
      let openGate: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (openGate = resolve));
      const session = connect(edge.url, { sessionId, token: await tokenFor(sessionId), ackEveryMessages: 1 });
      const app = new SessionRecorder(session, () => gate);
      await cluster.publish(sessionId, 1, 200, 200);
      await waitFor(() => app.calls.length === 1, { what: 'the batch to arrive' });

      await cluster.redis.pause();
      try {
        openGate();
        await app.waitForOffset(200);
        await session.close();
        await waitFor(async () => (await cluster.connectionsOn(edge)) === 0, {
          what: 'the edge to see the disconnect',
        });
      } finally {
        await cluster.redis.resume();
      }
      let stored = 0;
      await waitFor(async () => (stored = await storedAck(sessionId)) === 200, {
        timeoutMs: 3000,
        what: 'the last ack (200), sent before the disconnect, to be stored',
      }).catch((error: Error) => {
        throw new Error(`${error.message}; the stored ack stayed at ${stored}`);
      });
    },
  );

  it('acks the edge drops for its event rate limit are sent again: delivery never stalls', async () => {
    // 5 events/s and a window of 10: with an ack per message most acks are dropped (rate_limited).
    const edge = await cluster.startEdge({
      EVENTS_PER_SECOND: '5',
      EVENTS_BURST: '5',
      WINDOW_MESSAGES: '10',
    });
    const { sessionId } = await cluster.newSession();
    const session = cluster.track(
      connect(edge.url, { sessionId, token: await tokenFor(sessionId), ackEveryMessages: 1 }),
    );
    const app = new SessionRecorder(session);
    await cluster.publish(sessionId, 1, 100, 100);
    await app.waitForOffset(100);
    app.expectExactlyOnce(1, 100);
    await waitFor(async () => (await storedAck(sessionId)) === 100, { what: 'ack 100 stored' });
    expect(session.state).toBe('open');
    expect(app.states).toEqual([{ state: 'open', reason: undefined }]);
  });
});
