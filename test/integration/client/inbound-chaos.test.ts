import { afterAll, describe, expect, it } from 'vitest';
import { connect, type HoldfastSession, type ReplyEvent } from '@holdfast/client';
import { useClientCluster } from '../../helpers/client-fixture.js';
import { FaultProxy } from '../../helpers/fault-proxy.js';
import { tokenFor, waitFor, WorkerProcess } from '@holdfast/testing';
import { readEnvelopes } from '../worker/worker-harness.js';

const SENDS = 1000;
/**
 * The run's length is set by the machine (each accepted send costs a reconnect or two through
 * four processes: about 25 s on a quiet machine, over 90 s at a load average of 10 on two
 * cores), so what fails it is a stall: no send accepted for this long, whatever the load.
 */
const STALL_MS = 20_000;
const ECHO_HANDLER = './test/fixtures/worker-echo-handler.ts';
const cluster = useClientCluster();
let proxy: FaultProxy | undefined;
let worker: WorkerProcess | undefined;
afterAll(async () => {
  await worker?.kill();
  await proxy?.close();
});

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

describe('client sends under connection chaos', () => {
  it(`${SENDS} sends while connections are reset at random moments: each handled once, in send order`, async () => {
    const startedAt = Date.now();
    const edge = await cluster.startEdge();
    worker = await WorkerProcess.start({
      redisUrl: cluster.redis.url,
      keyPrefix: 'hf',
      env: { HANDLER_MODULE: ECHO_HANDLER },
    });
    proxy = await FaultProxy.start({ targetPort: edge.port });
    const { sessionId } = await cluster.newSession();
    const session = cluster.track(
      connect(proxy.url(), { sessionId, token: await tokenFor(sessionId), retryStrategy: () => 5 }),
    );
    const replies: ReplyEvent[] = [];
    session.on('reply', (reply) => void replies.push(reply));
    await opened(session);

    const ids = Array.from({ length: SENDS }, (_, n) => `m${n}`);
    let accepted = 0;
    let progressAt = Date.now();
    const sends = ids.map((id, n) =>
      session.send({ n }, { id }).then((result) => {
        accepted++;
        progressAt = Date.now();
        return result;
      }),
    );
    let done = false;
    const all = Promise.all(sends).finally(() => (done = true));
    let resets = 0;
    let resetsOfOpenConnections = 0;
    while (!done) {
      if (Date.now() - progressAt > STALL_MS) {
        throw new Error(
          `stalled: no send accepted for ${STALL_MS} ms (${accepted} of ${SENDS} accepted, ` +
            `${resets} resets, session ${session.state})`,
        );
      }
      // Two of three resets hit an open connection at a random moment of its life; the third
      // hits wherever the client is (often mid-handshake). Counting from the open keeps the
      // pace set by connections, not by how fast a loaded machine completes a handshake.
      if (resets % 3 !== 2) await Promise.race([opened(session), new Promise((r) => setTimeout(r, 2000))]);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 15)); // a random moment
      if (done) break;
      if (session.state === 'open') resetsOfOpenConnections++;
      resets++;
      proxy.resetAll();
    }
    const results = await all;
    const acceptedAt = Date.now();
    expect(results.map((r) => r.id)).toEqual(ids);
    expect(results.map((r) => r.seq)).toEqual(ids.map((_, n) => n + 1)); // accepted in send order
    expect(session.pendingSends).toBe(0);

    // The worker's outputs in the log: exactly one reply per message, in send order.
    await waitFor(async () => (await readEnvelopes(cluster.log, sessionId)).length >= SENDS, {
      timeoutMs: 30_000,
      what: `${SENDS} replies in the log`,
    });
    const envelopes = await readEnvelopes(cluster.log, sessionId);
    expect(envelopes.map((e) => `${e.$holdfast}:${e.messageId}`)).toEqual(ids.map((id) => `reply:${id}`));
    expect(envelopes.map((e) => (e.$holdfast === 'reply' ? e.data : undefined))).toEqual(
      ids.map((_, n) => ({ echo: { n } })),
    );
    // The client, reset all the while, saw each reply once and in order too.
    await waitFor(() => replies.length >= SENDS, {
      timeoutMs: 30_000,
      what: 'the client to get every reply',
    });
    expect(replies.map((r) => r.messageId)).toEqual(ids);
    expect(resetsOfOpenConnections).toBeGreaterThan(10);
    console.log(
      `inbound chaos: ${SENDS} sends accepted in ${acceptedAt - startedAt} ms (setup included), ` +
        `${resets} resets (${resetsOfOpenConnections} of open connections), ` +
        `${results.filter((r) => r.duplicate).length} answered duplicate, total ${Date.now() - startedAt} ms`,
    );
  }, 300_000); // only a backstop: a stall (STALL_MS) fails the run first
});
