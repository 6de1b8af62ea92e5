import { describe, expect, it } from 'vitest';
import { connect, type ClientMessage, type HoldfastSession, type ResetPayload } from '@holdfast/client';
import { useClientCluster } from '../../helpers/client-fixture.js';
import { SessionRecorder } from '../../helpers/client-recorder.js';
import { type EdgeProcess, tokenFor, waitFor } from '@holdfast/testing';
import { FaultProxy } from '../../helpers/fault-proxy.js';

/**
 * Two data losses in a row, as the chaos suite's long profile has them (issue 14): Redis without
 * AOF, restarted from a snapshot older than what it had acknowledged, twice. Each restart gives
 * the session a new epoch; the client's app must get a `reset` for each, then every message of
 * the new epoch in order, whatever the client was doing at the time (connected, reconnecting,
 * still replaying the previous epoch) and however far its acks were beyond the restored head.
 */
const cluster = useClientCluster({ appendonly: false, save: '' });
const EDGE_ENV = { LEASE_MS: '1500', PING_INTERVAL_MS: '500', PING_TIMEOUT_MS: '1000' };
let sharedEdge: Promise<EdgeProcess> | undefined;
/** One edge for the file: starting one costs seconds of CPU on a busy 2-core box. */
function edgeForFile(): Promise<EdgeProcess> {
  sharedEdge ??= cluster.startEdge(EDGE_ENV);
  return sharedEdge;
}

/** SAVE: the dump a restart without AOF loads; everything written after it is lost by a crash. */
async function snapshot(): Promise<void> {
  const admin = cluster.redis.client({ maxRetriesPerRequest: 0 });
  try {
    await admin.save();
  } finally {
    admin.disconnect();
  }
}

/** kill -9 and restart: Redis comes back with the last snapshot only. */
async function crashToSnapshot(): Promise<void> {
  await cluster.redis.kill();
  await cluster.redis.restart();
}

/** The first append after a restart runs the epoch rule; retried while the log reconnects. */
async function appendAfterRestart(sessionId: string, n: number): Promise<{ epoch: string; offset: number }> {
  return waitFor(() => cluster.log.append(sessionId, { n }, { id: `after-${n}` }).catch(() => undefined), {
    timeoutMs: 20_000,
    intervalMs: 50,
    what: 'an append after the restart',
  });
}

interface Watched {
  readonly session: HoldfastSession<{ n: number }>;
  readonly app: SessionRecorder<{ n: number }>;
  /** What the app was handed, in order: `reset <epoch>@<resumeFrom>` or `<epoch>:<offset>`. */
  readonly order: string[];
  /** The proxy between the client and its edge, when there is one. */
  readonly proxy?: FaultProxy;
}

function watch(urls: string | string[], sessionId: string, handlerDelayMs = 0): Watched {
  const session = cluster.track(
    connect<{ n: number }>(urls, {
      sessionId,
      getToken: () => tokenFor(sessionId),
      retryStrategy: () => 50,
      ackEveryMessages: 10,
      ackEveryMs: 50,
    }),
  );
  const order: string[] = [];
  session.on(
    'reset',
    (reset: ResetPayload) => void order.push(`reset ${reset.newEpoch}@${reset.resumeFrom}`),
  );
  const app = new SessionRecorder(session, async (m: ClientMessage<{ n: number }>) => {
    order.push(`${m.epoch}:${m.offset}`);
    if (handlerDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, handlerDelayMs)); // a slow app
  });
  return { session, app, order };
}

async function waitForPosition(w: Watched, epoch: string, offset: number): Promise<void> {
  await waitFor(() => w.session.position?.epoch === epoch && w.session.position.offset >= offset, {
    timeoutMs: 30_000,
    what: `the app to handle ${epoch}:${offset}`,
  }).catch((error: Error) => {
    throw new Error(
      `${error.message}; now ${w.app.describe()}, position ${JSON.stringify(w.session.position)}`,
    );
  });
}

/** What the app must have been handed: each epoch's log from its first offset, after its reset. */
function expectedOrder(epochs: Array<{ epoch: string; head: number; reset: boolean }>): string[] {
  return epochs.flatMap(({ epoch, head, reset }) => [
    ...(reset ? [`reset ${epoch}@1`] : []),
    ...Array.from({ length: head }, (_, i) => `${epoch}:${i + 1}`),
  ]);
}

async function headOf(sessionId: string): Promise<{ epoch: string; head: number }> {
  const info = await cluster.log.info(sessionId);
  return { epoch: info.epoch, head: info.head };
}

describe('two restores from older snapshots', () => {
  it('a connected client gets a reset for each, then every message of each new epoch', async () => {
    const edge = await edgeForFile();
    const { sessionId, epoch: e1 } = await cluster.newSession();
    const w = watch(edge.url, sessionId);

    await cluster.publish(sessionId, 1, 50, 10);
    await waitForPosition(w, e1, 50);
    await snapshot();
    await cluster.publish(sessionId, 51, 30, 10); // acknowledged beyond what the snapshot has
    await waitForPosition(w, e1, 80);

    await crashToSnapshot();
    const { epoch: e2 } = await appendAfterRestart(sessionId, 1001);
    expect(e2).not.toBe(e1);
    await cluster.publish(sessionId, 1002, 40, 10);
    const second = await headOf(sessionId);
    await waitForPosition(w, e2, second.head);
    await snapshot();
    await cluster.publish(sessionId, 1042, 30, 10);
    await waitForPosition(w, e2, second.head + 30);

    await crashToSnapshot();
    const { epoch: e3 } = await appendAfterRestart(sessionId, 2001);
    await cluster.publish(sessionId, 2002, 40, 10);
    const third = await headOf(sessionId);
    expect(third.epoch).toBe(e3);
    await waitForPosition(w, e3, third.head);

    expect(w.app.resets.map((r) => [r.reason, r.oldEpoch, r.newEpoch])).toEqual([
      ['epoch_changed', e1, e2],
      ['epoch_changed', e2, e3],
    ]);
    expect(w.order).toEqual(
      expectedOrder([
        { epoch: e1, head: 80, reset: false },
        { epoch: e2, head: second.head + 30, reset: true },
        { epoch: e3, head: third.head, reset: true },
      ]),
    );
  });

  it('a slow client still replaying the first new epoch when the second loss comes', async () => {
    const edge = await edgeForFile();
    const { sessionId, epoch: e1 } = await cluster.newSession();
    const w = watch(edge.url, sessionId, 2);

    await cluster.publish(sessionId, 1, 300, 50);
    await waitForPosition(w, e1, 300);
    await snapshot();
    await cluster.publish(sessionId, 301, 50, 10);
    await waitForPosition(w, e1, 350);

    await crashToSnapshot();
    const { epoch: e2 } = await appendAfterRestart(sessionId, 1001);
    // The second loss comes at once: the app is replaying e2 (300 messages at 2 ms each).
    await snapshot();
    await cluster.publish(sessionId, 1002, 20, 10);
    await crashToSnapshot();
    const { epoch: e3 } = await appendAfterRestart(sessionId, 2001);
    await cluster.publish(sessionId, 2002, 30, 10);
    const third = await headOf(sessionId);
    expect(third.epoch).toBe(e3);
    await waitForPosition(w, e3, third.head);

    const resets = w.app.resets.map((r) => [r.oldEpoch, r.newEpoch]);
    expect(resets.at(-1)?.[1]).toBe(e3);
    expect(resets[0]).toEqual([e1, resets[0]?.[1]]);
    // Whatever the app saw of e2 (possibly nothing), e3 comes whole and in order after its reset.
    const e3Start = w.order.indexOf(`reset ${e3}@1`);
    expect(e3Start).toBeGreaterThan(0);
    expect(w.order.slice(e3Start)).toEqual(expectedOrder([{ epoch: e3, head: third.head, reset: true }]));
    expect(w.order.filter((o) => o.startsWith('reset')).length).toBe(resets.length);
    expect(e2).not.toBe(e3);
  });

  it('a client reconnecting during each restore, its lease generation rolled back', async () => {
    const edge = await edgeForFile();
    // The client reaches the edge through a proxy, which cuts its connection when told to.
    const proxy = await FaultProxy.start({ targetPort: edge.port });
    try {
      await reconnectingThroughRestores(proxy);
    } finally {
      await proxy.close();
    }
  });
});

/** Resets the client's connection; it reconnects at once as a new connection (lease generation + 1). */
async function reconnect(w: Watched): Promise<void> {
  const before = w.session.connectionId;
  w.proxy?.resetAll();
  await waitFor(() => w.session.state === 'open' && w.session.connectionId !== before, {
    timeoutMs: 15_000,
    what: 'the client to reconnect',
  });
}

async function reconnectingThroughRestores(proxy: FaultProxy): Promise<void> {
  const { sessionId, epoch: e1 } = await cluster.newSession();
  const w = { ...watch(proxy.url(), sessionId), proxy };
  await cluster.publish(sessionId, 1, 40, 10);
  await waitForPosition(w, e1, 40);
  await snapshot();

  // Reconnects after the snapshot raise the consumer's lease generation beyond the one it has.
  for (let round = 0; round < 3; round++) {
    await reconnect(w);
    await cluster.publish(sessionId, 41 + round * 10, 10, 10);
    await waitForPosition(w, e1, 50 + round * 10);
  }

  // The client is away (its connection cut, new ones refused) while Redis restarts.
  proxy.refuseNew(true);
  proxy.resetAll();
  await crashToSnapshot();
  proxy.refuseNew(false);
  const { epoch: e2 } = await appendAfterRestart(sessionId, 1001);
  await cluster.publish(sessionId, 1002, 20, 10);
  const second = await headOf(sessionId);
  await waitForPosition(w, e2, second.head);

  await snapshot();
  for (let round = 0; round < 2; round++) {
    await reconnect(w);
    await cluster.publish(sessionId, 1100 + round * 10, 10, 10);
    await waitForPosition(w, e2, (await headOf(sessionId)).head);
  }
  await crashToSnapshot(); // this time the client stays connected through it
  const { epoch: e3 } = await appendAfterRestart(sessionId, 2001);
  await cluster.publish(sessionId, 2002, 30, 10);
  const third = await headOf(sessionId);
  expect(third.epoch).toBe(e3);
  await waitForPosition(w, e3, third.head);

  expect(w.app.resets.map((r) => [r.reason, r.oldEpoch, r.newEpoch])).toEqual([
    ['epoch_changed', e1, e2],
    ['epoch_changed', e2, e3],
  ]);
  const e3Start = w.order.indexOf(`reset ${e3}@1`);
  expect(w.order.slice(e3Start)).toEqual(expectedOrder([{ epoch: e3, head: third.head, reset: true }]));
}
