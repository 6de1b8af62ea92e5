import { describe, expect, it } from 'vitest';
import { connect, memoryStore, type HoldfastSession } from '@holdfast/client';
import { useClientCluster } from '../../helpers/client-fixture.js';
import { CountingProxy } from '../../helpers/client-counting-proxy.js';
import { tokenFor, waitFor } from '@holdfast/testing';

const cluster = useClientCluster();

/** What the app saw, in order: handled offsets, `complete`, state changes. */
function record(session: HoldfastSession<unknown>, handlerMs = 0): string[] {
  const log: string[] = [];
  session.on('message', async ({ offset }) => {
    if (handlerMs > 0) await new Promise((resolve) => setTimeout(resolve, handlerMs)); // slow app work
    log.push(`m${offset}`);
  });
  session.on('complete', ({ finalOffset }) => log.push(`complete ${finalOffset}`));
  session.on('state', ({ state, reason }) => log.push(`${state}:${reason ?? ''}`));
  return log;
}

describe('session completion through the client', () => {
  it('complete while handlers still run: complete comes after the last message, position saved, no reconnect, sends reject', async () => {
    const edge = await cluster.sharedEdge();
    const proxy = await CountingProxy.start(edge.port);
    try {
      const { sessionId } = await cluster.newSession();
      const store = memoryStore();
      const session = cluster.track(
        connect(proxy.url, { sessionId, token: await tokenFor(sessionId), retryStrategy: () => 5, store }),
      );
      const log = record(session, 20);
      await waitFor(() => session.state === 'open', { what: 'open' });
      await cluster.publish(sessionId, 1, 10);
      const { finalOffset } = await cluster.log.completeSession(sessionId);
      expect(finalOffset).toBe(10);
      await waitFor(() => session.state === 'closed', { what: 'closed' });
      expect(log.filter((line) => line.startsWith('m'))).toEqual(
        Array.from({ length: 10 }, (_, i) => `m${i + 1}`),
      );
      expect(log.slice(-3)).toEqual(['m10', 'complete 10', 'closed:session_completed']);
      expect(await store.load(sessionId)).toMatchObject({ offset: 10 });
      await expect(session.send({ n: 1 })).rejects.toMatchObject({ code: 'session_completed' });
      await new Promise((resolve) => setTimeout(resolve, 300)); // observing that no reconnect happens
      expect(proxy.accepted).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  it('a reconnect after completion resumes from the stored position, gets the rest, then complete', async () => {
    const { sessionId } = await cluster.newSession();
    await cluster.publish(sessionId, 1, 6);
    await cluster.log.completeSession(sessionId);
    const store = memoryStore();
    const { epoch } = await cluster.log.info(sessionId);
    await store.save(sessionId, { epoch, offset: 4 });
    const session = cluster.track(
      connect((await cluster.sharedEdge()).url, {
        sessionId,
        token: await tokenFor(sessionId),
        retryStrategy: () => 5,
        store,
      }),
    );
    const log = record(session);
    await waitFor(() => session.state === 'closed', { what: 'closed' });
    expect(log).toEqual(['open:', 'm5', 'm6', 'complete 6', 'closed:session_completed']);
  });
});
