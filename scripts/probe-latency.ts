/**
 * Measurement, not a test: how long the Redis liveness probe's PING takes on the session log's
 * own command connection (where it queues behind appends) while producers saturate it, to set
 * REDIS_PROBE_TIMEOUT_MS well above the busy p99. Starts its own redis-server (AOF, fsync
 * always, as shipped).
 *
 *   node --conditions=source --import tsx scripts/probe-latency.ts [seconds=20] [producers=32]
 */
import type { Redis } from 'ioredis';
import { SessionLog } from '@holdfast/session-log';
import { RedisServer } from '@holdfast/testing';

const seconds = Number(process.argv[2] ?? 20);
const producers = Number(process.argv[3] ?? 32);
const payload = 'x'.repeat(1024);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const redis = await RedisServer.start();
const log = new SessionLog({ redis: redis.url });
await log.ready();
// The probe's connection is the log's own: reach into it, as the probe does from inside.
const connection = (log as unknown as { redis: Redis }).redis;
let running = true;
let appended = 0;
const load = Array.from({ length: producers }, async (_, i) => {
  const sessionId = `probe-load-${i}`;
  await log.createSession(sessionId);
  while (running) {
    await log.appendBatch(
      sessionId,
      Array.from({ length: 50 }, () => ({ data: payload })),
    );
    appended += 50;
  }
});
const samples: number[] = [];
const end = Date.now() + seconds * 1000;
while (Date.now() < end) {
  const t0 = performance.now();
  await connection.ping();
  samples.push(performance.now() - t0);
  await new Promise((resolve) => setTimeout(resolve, 100));
}
running = false;
await Promise.allSettled(load);
samples.sort((a, b) => a - b);
console.log(
  JSON.stringify({
    seconds,
    producers,
    appendsPerSecond: Math.round(appended / seconds),
    pings: samples.length,
    p50Ms: +percentile(samples, 50).toFixed(1),
    p99Ms: +percentile(samples, 99).toFixed(1),
    maxMs: +(samples.at(-1) ?? NaN).toFixed(1),
  }),
);
await log.close();
await redis.destroy();
