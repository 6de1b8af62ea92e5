import { describe, expect, it } from 'vitest';
import { connect } from '@holdfast/client';
import { useClientCluster } from '../../helpers/client-fixture.js';
import { SessionRecorder } from '../../helpers/client-recorder.js';
import { tokenFor, waitFor } from '@holdfast/testing';

// appendfsync everysec: a restart after losing the AOF tail changes the session's epoch.
const cluster = useClientCluster({ appendfsync: 'everysec' });

describe('client resets', () => {
  it('a real epoch change: the app gets reset, then the log of the new epoch, reused offsets included', async () => {
    const edge = await cluster.sharedEdge();
    const { sessionId, epoch: oldEpoch } = await cluster.newSession();
    // No acks, so the AOF ends with the appends that the truncation below loses.
    const session = cluster.track(
      connect(edge.url, {
        sessionId,
        getToken: () => tokenFor(sessionId),
        ackEveryMessages: 10_000,
        ackEveryMs: 600_000,
        retryStrategy: () => 50,
      }),
    );
    const order: string[] = [];
    session.on('reset', (reset) => void order.push(`reset ${reset.newEpoch}`));
    session.on('message', (m) => void order.push(`${m.epoch}:${m.offset}`));
    const app = new SessionRecorder(session);
    await cluster.publish(sessionId, 1, 10, 10);
    for (let n = 11; n <= 20; n++) await cluster.publish(sessionId, n, 1);
    await app.waitForOffset(20);
    expect(session.position).toEqual({ epoch: oldEpoch, offset: 20 });

    await cluster.redis.kill();
    await cluster.redis.truncateAofTail(200);
    await cluster.redis.restart();
    // An append after the restart runs the epoch rule and is announced in the new epoch, whether
    // the edge kept the connection (and resets it in place) or the client had to reconnect.
    const appended = await waitFor(
      () => cluster.log.append(sessionId, { after: 'restart' }, { id: 'after' }),
      {
        timeoutMs: 15_000,
        what: 'an append after the restart',
      },
    );
    expect(appended.epoch).not.toBe(oldEpoch);
    const newEpoch = appended.epoch;
    await waitFor(() => session.position?.epoch === newEpoch && session.position.offset === appended.offset, {
      timeoutMs: 20_000,
      what: `position ${appended.offset} in the new epoch`,
    }).catch((error: Error) => {
      throw new Error(`${error.message}; now ${app.describe()}`);
    });
    expect(app.resets).toEqual([
      { reason: 'epoch_changed', oldEpoch, newEpoch, firstAvailable: 1, resumeFrom: 1 },
    ]);

    // Offsets 1..20 of the new epoch are at or below the position the app had in the old one:
    // none may be mistaken for a repeat.
    const expected = [
      ...Array.from({ length: 20 }, (_, i) => `${oldEpoch}:${i + 1}`),
      `reset ${newEpoch}`,
      ...Array.from({ length: appended.offset }, (_, i) => `${newEpoch}:${i + 1}`),
    ];
    expect(order).toEqual(expected);
    expect(app.handled.at(-1)?.data).toEqual({ after: 'restart' });
    expect(app.errors.filter((e) => e.code === 'protocol_violation' || e.code === 'listener_failed')).toEqual(
      [],
    );
  });
});
