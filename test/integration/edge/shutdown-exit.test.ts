import { afterAll, beforeAll, expect, it } from 'vitest';
import { EdgeProcess, RedisServer } from '@holdfast/testing';

/**
 * The edge's exit code when its drain outlives DRAIN_TIMEOUT_MS: 1, like every service whose stop
 * runs out of time (runService in @holdfast/config). A clean drain exits 0 (edge/failover.test.ts).
 *
 * Redis is frozen (SIGSTOP) before the signal, so the drain's last step, closing its Redis
 * connections, waits out its own 2 s bound: far longer than the 200 ms DRAIN_TIMEOUT_MS here.
 */
let redis: RedisServer;

beforeAll(async () => {
  redis = await RedisServer.start();
});

afterAll(async () => {
  await redis?.destroy();
});

it('exits 1 when the drain runs past DRAIN_TIMEOUT_MS', async () => {
  const edge = await EdgeProcess.start({ redisUrl: redis.url, env: { DRAIN_TIMEOUT_MS: '200' } });
  try {
    await redis.pause();
    edge.signal('SIGTERM');
    expect(await edge.waitForExit()).toEqual({ code: 1, signal: null });
    expect(edge.output).toContain('"msg":"edge draining"');
    expect(edge.output).toContain('"msg":"drain timeout: exiting with connections open"');
    expect(edge.output).not.toContain('"msg":"edge stopped"');
  } finally {
    if (redis.paused) await redis.resume();
    await edge.kill();
  }
});
