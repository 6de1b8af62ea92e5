import { afterAll, describe, expect, it } from 'vitest';
import { connect, type HoldfastSession } from '@holdfast/client';
import { useClientCluster } from '../../helpers/client-fixture.js';
import { SessionRecorder } from '../../helpers/client-recorder.js';
import { FaultProxy } from '../../helpers/fault-proxy.js';
import { tokenFor } from '@holdfast/testing';

const ROUNDS = 1000;
const cluster = useClientCluster();
let proxy: FaultProxy | undefined;
afterAll(async () => {
  await proxy?.close();
});

/** Resolves when the session next becomes open (at once if it is). */
function opened(session: HoldfastSession<unknown>): Promise<void> {
  if (session.state === 'open') return Promise.resolve();
  return new Promise((resolve) => {
    const off = session.on('state', ({ state }) => {
      if (state !== 'open') return;
      off();
      resolve();
    });
  });
}

describe('client under connection chaos', () => {
  it(`${ROUNDS} connection resets at random moments while publishing: every offset exactly once, in order`, async () => {
    const edge = await cluster.startEdge();
    proxy = await FaultProxy.start({ targetPort: edge.port });
    const { sessionId } = await cluster.newSession();
    const session = cluster.track(
      connect(proxy.url(), { sessionId, token: await tokenFor(sessionId), retryStrategy: () => 5 }),
    );
    // Checked in the handler itself, so a duplicate or a gap is caught the moment it happens.
    const misordered: string[] = [];
    let last = 0;
    const app = new SessionRecorder(session, ({ offset }) => {
      if (offset !== last + 1) misordered.push(`${offset} after ${last}`);
      last = offset;
    });
    const producer = cluster.startProducer(sessionId, 5, 10);
    await opened(session);

    let resetsOfOpenConnections = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Half the rounds cut an open connection (mid-batch, mid-ack); the others cut whatever is
      // there at that moment, handshakes included.
      if (round % 2 === 0) await opened(session);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10)); // a random moment
      if (session.state === 'open') resetsOfOpenConnections++;
      proxy.resetAll();
    }
    await opened(session);
    const head = await producer.stop();
    await app.waitForOffset(head, 30_000);

    expect(misordered).toEqual([]);
    app.expectExactlyOnce(1, head);
    expect(app.errors.filter((e) => e.code !== 'connection_lost')).toEqual([]);
    expect(resetsOfOpenConnections).toBeGreaterThan(ROUNDS * 0.4); // the test really cut live connections
    console.log(
      `chaos: ${ROUNDS} resets (${resetsOfOpenConnections} of open connections), ${head} messages, ` +
        `${app.states.filter((s) => s.state === 'open').length} connections opened`,
    );
  });
});
