/**
 * A client's attempt that an edge claims for late must not fence the client's newer attempt
 * accepted by another edge. The race (docs/reliability.md): attempt A reaches edge X, whose
 * Redis link stalls after A's claim was sent; the client gives up on A (`helloTimeoutMs`) and
 * is accepted by edge Y as B; then X's link catches up and A's claim lands after B's. Before
 * protocol 4 that claim took a higher generation, fenced B, and the client was told `replaced`
 * (a final stop) by its own abandoned attempt. Now the claim carries the client's instance and
 * attempt number, and the claim (lib-session.lua hf_claim) refuses the older attempt with `superseded`.
 *
 * Real edges, the SDK and one real Redis; X reaches Redis through a fault proxy that holds
 * X's commands (loses none) until the test releases them, so the order is certain, no sleeps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type HoldfastSession } from '@holdfast/client';
import { DEFAULT_CONSUMER_ID } from '@holdfast/protocol';
import { SessionLog } from '@holdfast/session-log';
import { EdgeProcess, RedisServer, tokenFor, waitFor } from '@holdfast/testing';
import { SessionRecorder } from '../../helpers/client-recorder.js';
import { FaultProxy } from '../../helpers/fault-proxy.js';
import { metricValue, scrape } from '../../helpers/prometheus-text.js';
import { uniqueId } from '../../helpers/session-log-fixture.js';

let redis: RedisServer;
let proxy: FaultProxy;
let log: SessionLog;
let stalled: EdgeProcess;
let healthy: EdgeProcess;
const sessions: Array<HoldfastSession<unknown>> = [];

beforeAll(async () => {
  redis = await RedisServer.start();
  proxy = await FaultProxy.start({ targetPort: redis.port });
  log = new SessionLog({ redis: redis.url });
  await log.ready();
  [stalled, healthy] = await Promise.all([
    // The held link must look slow, not dead: its probe would drop the connection (and fail
    // the held claim) long before the test releases it.
    EdgeProcess.start({
      redisUrl: `redis://127.0.0.1:${proxy.port}`,
      env: { REDIS_PROBE_TIMEOUT_MS: '60000' },
    }),
    EdgeProcess.start({ redisUrl: redis.url }),
  ]);
});

afterAll(async () => {
  await Promise.all(sessions.map((session) => session.close()));
  proxy?.restore();
  await Promise.all([stalled?.stop(), healthy?.stop()]);
  await proxy?.close();
  await log?.close();
  await redis?.destroy();
});

/** The consumer's current lease generation (a renewal with generation 0 only reads it). */
function currentGeneration(sessionId: string): Promise<number | undefined> {
  return log.renewLease(sessionId, DEFAULT_CONSUMER_ID, 0, 1);
}

async function rejections(edge: EdgeProcess, code: string): Promise<number> {
  return metricValue(await scrape(edge.url), 'holdfast_edge_handshake_rejections_total', { code });
}

describe("a late claim of a client's abandoned attempt on another edge", () => {
  it('is refused as superseded; the newer connection stays and is never told replaced', async () => {
    const sessionId = uniqueId();
    await log.createSession(sessionId);
    await log.appendBatch(sessionId, [{ data: { n: 1 } }, { data: { n: 2 } }]);

    // Everything the stalled edge sends to Redis from now on waits in the proxy.
    proxy.hold('upstream');
    const session = connect([stalled.url, healthy.url], {
      sessionId,
      token: await tokenFor(sessionId),
      helloTimeoutMs: 1000,
      retryStrategy: () => 10,
    });
    sessions.push(session);
    const app = new SessionRecorder(session);

    // Attempt A: the stalled edge checked its token and sent its claim, which waits; the client
    // gives up on it after helloTimeoutMs and attempt B is accepted by the healthy edge.
    await app.waitForOffset(2);
    const generation = await currentGeneration(sessionId);
    expect(generation).toBe(1);
    expect(await rejections(stalled, 'superseded')).toBe(0);

    // A's claim reaches Redis now, after B's.
    proxy.release('upstream');
    // Answered either way: refused (superseded), or (before protocol 4) a new generation.
    await waitFor(
      async () =>
        (await rejections(stalled, 'superseded')) > 0 || (await currentGeneration(sessionId)) !== generation,
      { timeoutMs: 15_000, what: "the stalled edge's late claim to reach Redis" },
    );

    expect(await currentGeneration(sessionId)).toBe(generation);
    expect(await rejections(stalled, 'superseded')).toBe(1);
    // B still delivers: a message appended after the late claim arrives on it.
    await log.append(sessionId, { n: 3 });
    await app.waitForOffset(3);
    expect(session.state).toBe('open');
    expect(app.states.map((s) => `${s.state}:${s.reason ?? ''}`)).toEqual(['open:']);
    expect(app.errors.map((e) => e.code)).not.toContain('replaced');
  }, 60_000);
});
