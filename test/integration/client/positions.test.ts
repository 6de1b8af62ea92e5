import { describe, expect, it } from 'vitest';
import { connect, type LogPosition, type PositionStore } from '@holdfast/client';
import { useClientCluster } from '../../helpers/client-fixture.js';
import { SessionRecorder } from '../../helpers/client-recorder.js';
import { tokenFor, waitFor } from '@holdfast/testing';

const cluster = useClientCluster();

/** A persistent store as an app would write one: async, backed by a Map that outlives sessions. */
function mapStore(): PositionStore & { readonly map: Map<string, LogPosition> } {
  const map = new Map<string, LogPosition>();
  return {
    map,
    load: async (sessionId) => map.get(sessionId),
    save: async (sessionId, position) => {
      map.set(sessionId, position);
    },
  };
}

describe('client positions', () => {
  it('a restart with the same persisted store resumes where it stopped, without duplicates', async () => {
    const edge = await cluster.sharedEdge();
    const { sessionId, epoch } = await cluster.newSession();
    const store = mapStore();
    const token = await tokenFor(sessionId);
    await cluster.publish(sessionId, 1, 150);

    const first = connect(edge.url, { sessionId, token, store });
    const firstApp = new SessionRecorder(first);
    await firstApp.waitForOffset(150);
    await first.close();
    expect(store.map.get(sessionId)).toEqual({ epoch, offset: 150 });

    await cluster.publish(sessionId, 151, 100); // while no client runs
    const second = cluster.track(connect(edge.url, { sessionId, token, store }));
    const secondApp = new SessionRecorder(second);
    await secondApp.waitForOffset(250);
    await cluster.publish(sessionId, 251, 50);
    await secondApp.waitForOffset(300);

    firstApp.expectExactlyOnce(1, 150);
    secondApp.expectExactlyOnce(151, 300);
    expect(secondApp.resets).toEqual([]);
    await waitFor(() => store.map.get(sessionId)?.offset === 300, { what: 'position 300 saved' });
  });

  it('the stored position decides where delivery starts, not the consumer acknowledged offset', async () => {
    const edge = await cluster.sharedEdge();
    const { sessionId, epoch } = await cluster.newSession();
    const token = await tokenFor(sessionId);
    await cluster.publish(sessionId, 1, 100);
    const reader = connect(edge.url, { sessionId, token });
    await new SessionRecorder(reader).waitForOffset(100);
    await waitFor(async () => (await cluster.log.info(sessionId)).acks['default'] === 100, {
      what: 'the consumer ack at 100',
    });
    await reader.close();

    // This device had only handled up to 40 (say, the app crashed before rendering the rest).
    const store = mapStore();
    store.map.set(sessionId, { epoch, offset: 40 });
    const session = cluster.track(connect(edge.url, { sessionId, token, store }));
    const app = new SessionRecorder(session);
    await app.waitForOffset(100);
    app.expectExactlyOnce(41, 100);
  });

  it("from: 'start' rebuilds the whole retained log, then continues live", async () => {
    const edge = await cluster.sharedEdge();
    const { sessionId, epoch } = await cluster.newSession();
    const token = await tokenFor(sessionId);
    await cluster.publish(sessionId, 1, 80);
    // A store and a consumer ack that both say "done up to 80": 'start' ignores them.
    const store = mapStore();
    store.map.set(sessionId, { epoch, offset: 80 });
    const reader = connect(edge.url, { sessionId, token });
    await new SessionRecorder(reader).waitForOffset(80);
    await reader.close();

    const session = cluster.track(connect(edge.url, { sessionId, token, store, from: 'start' }));
    const events: string[] = [];
    session.on('reset', () => void events.push('reset'));
    session.on('message', () => void events.push('message'));
    expect(session.position).toBeUndefined();
    const app = new SessionRecorder(session);
    await app.waitForOffset(80);
    await cluster.publish(sessionId, 81, 20);
    await app.waitForOffset(100);

    app.expectExactlyOnce(1, 100);
    expect(app.resets).toEqual([
      { reason: 'epoch_changed', oldEpoch: null, newEpoch: epoch, firstAvailable: 1, resumeFrom: 1 },
    ]);
    expect(events.indexOf('reset')).toBe(0);
    expect(events.lastIndexOf('reset')).toBe(0);
    expect(session.position).toEqual({ epoch, offset: 100 });
    expect(app.errors).toEqual([]);
  });

  it("from: 'start' on a trimmed log starts at the oldest retained message, and the reset says so", async () => {
    const edge = await cluster.sharedEdge();
    const { sessionId, epoch } = await cluster.newSession({ retention: { maxMessages: 20 } });
    await cluster.publish(sessionId, 1, 100, 10);
    const { firstAvailable } = await cluster.log.info(sessionId);
    expect(firstAvailable).toBeGreaterThan(1);

    const session = cluster.track(
      connect(edge.url, { sessionId, token: await tokenFor(sessionId), from: 'start' }),
    );
    const app = new SessionRecorder(session);
    await app.waitForOffset(100);
    app.expectExactlyOnce(firstAvailable, 100);
    expect(app.resets).toEqual([
      {
        reason: 'epoch_changed',
        oldEpoch: null,
        newEpoch: epoch,
        firstAvailable,
        resumeFrom: firstAvailable,
      },
    ]);
  });

  it('from: N resumes after offset N of the stored epoch (a replay), and as from the start without one', async () => {
    const edge = await cluster.sharedEdge();
    const { sessionId, epoch } = await cluster.newSession();
    const token = await tokenFor(sessionId);
    await cluster.publish(sessionId, 1, 60);
    const store = mapStore();
    store.map.set(sessionId, { epoch, offset: 60 });

    const replay = connect(edge.url, { sessionId, token, store, from: 25 });
    const replayApp = new SessionRecorder(replay);
    await replayApp.waitForOffset(60);
    await replay.close();
    replayApp.expectExactlyOnce(26, 60);
    expect(replayApp.resets).toEqual([]);

    const fresh = cluster.track(connect(edge.url, { sessionId, token, from: 25 }));
    const freshApp = new SessionRecorder(fresh);
    await freshApp.waitForOffset(60);
    freshApp.expectExactlyOnce(1, 60);
    expect(freshApp.resets).toMatchObject([{ oldEpoch: null, newEpoch: epoch, resumeFrom: 1 }]);
  });
});
