import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LiveSubscriptions, SessionLog, type LiveNotification } from '@holdfast/session-log';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { RedisServer, waitFor } from '@holdfast/testing';
import { falseSamples } from '../helpers/false-samples.js';

/**
 * The Redis liveness probe, in process, one connection behind its own fault proxy: that is how
 * a silent link on the subscriber alone (or the command connection alone) is reproduced.
 * Defaults: PING every 1 s, 2 s deadline, 2 misses: dead within 4 s of the silence. The waits
 * allow 8 s: twice the bound, for a loaded 2-core CI box, and still far below the 120 s and
 * more it took before the probe (ioredis alone never notices).
 */
const DEAD_WITHIN_MS = 8000;

let redis: RedisServer;
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  redis = await RedisServer.start();
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});
afterAll(async () => {
  await redis?.destroy();
});

async function proxy(): Promise<FaultProxy> {
  const p = await FaultProxy.start({ targetPort: redis.port });
  closers.push(() => p.close());
  return p;
}

describe('Redis link probe', () => {
  it('notices a blackholed subscriber link, reconnects after heal and resubscribes', async () => {
    const link = await proxy();
    const live = new LiveSubscriptions(link.url('redis'));
    closers.push(() => live.close());
    const got: LiveNotification[] = [];
    await waitFor(() => live.connected, { what: 'subscriber connected' });
    await live.subscribe('probe-test', (n) => got.push(n));

    const publisher = redis.client();
    closers.push(() => publisher.quit());
    link.blackhole('both');
    const started = Date.now();
    await waitFor(() => !live.connected, { timeoutMs: DEAD_WITHIN_MS, what: 'subscriber declared dead' });
    expect(Date.now() - started).toBeLessThan(DEAD_WITHIN_MS);

    link.restore();
    await waitFor(() => live.connected, { timeoutMs: 15_000, what: 'subscriber alive again' });
    await waitFor(() => got.some((n) => n.kind === 'resync'), { what: 'resync after reconnect' });
    await waitFor(
      async () => {
        await publisher.spublish('probe-test', '{"ended":"deleted"}');
        return got.some((n) => n.kind === 'ended');
      },
      { intervalMs: 200, what: 'a message on the resubscribed channel' },
    );
  });

  it('notices a blackholed command connection; commands then fail fast; heal restores it', async () => {
    const link = await proxy();
    const log = new SessionLog({ redis: link.url('redis') });
    closers.push(() => log.close());
    await log.ready();
    await log.createSession('probe-cmd');

    link.blackhole('both');
    await waitFor(() => !log.connected, { timeoutMs: DEAD_WITHIN_MS, what: 'command link declared dead' });
    // Dropped and reconnecting: a command is refused at once instead of waiting out its timeout.
    const t0 = Date.now();
    await expect(log.append('probe-cmd', 'x')).rejects.toMatchObject({ code: 'redis_unavailable' });
    expect(Date.now() - t0).toBeLessThan(1000);

    link.restore();
    await waitFor(() => log.connected, { timeoutMs: 15_000, what: 'command link alive again' });
    await waitFor(async () => (await log.append('probe-cmd', 'y')).offset > 0, {
      intervalMs: 200,
      what: 'an append after heal',
    });
  });

  it('does not flap under latency below the deadline (1.2 s per PING, deadline 2 s)', async () => {
    const link = await proxy();
    const log = new SessionLog({ redis: link.url('redis') });
    const live = new LiveSubscriptions(link.url('redis'));
    closers.push(
      () => log.close(),
      () => live.close(),
    );
    await log.ready();
    await waitFor(() => live.connected);
    link.setLatency(600); // each way: a PING round trip takes 1.2 s
    expect(await falseSamples(() => log.connected && live.connected, 8000)).toBe(0);
  });

  it('does not flap while Redis is paused (CLIENT PAUSE) for less than the bound', async () => {
    const log = new SessionLog({ redis: redis.url });
    closers.push(() => log.close());
    await log.ready();
    const admin = redis.client();
    closers.push(() => admin.quit());
    // PING is not a write, so pause ALL: every command waits 2.5 s, over one deadline but not two.
    await admin.call('CLIENT', 'PAUSE', '2500', 'ALL');
    expect(await falseSamples(() => log.connected, 5000)).toBe(0);
  });
});
