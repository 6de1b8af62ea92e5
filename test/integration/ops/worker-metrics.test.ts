import { afterAll, beforeAll, expect, it } from 'vitest';
import { InboundQueue } from '@holdfast/inbound-queue';
import { SessionLog } from '@holdfast/session-log';
import { WorkerMetrics, listenForMetrics } from '@holdfast/worker';
import { metricValue, scrape } from '../../helpers/prometheus-text.js';
import { uniqueId } from '../../helpers/session-log-fixture.js';
import { inboxSettled, send } from '../worker/worker-harness.js';
import { freePort, RedisServer, waitFor, WorkerProcess } from '@holdfast/testing';

let redis: RedisServer;
let log: SessionLog;
let queue: InboundQueue;
let keyPrefix: string;
let worker: WorkerProcess | undefined;
let metricsUrl: string;

beforeAll(async () => {
  redis = await RedisServer.start();
  keyPrefix = uniqueId('wm');
  log = new SessionLog({ redis: redis.url, keyPrefix });
  await log.ready();
  queue = new InboundQueue({ url: redis.url }, keyPrefix);
});
afterAll(async () => {
  await worker?.kill();
  await queue?.close();
  await log?.close();
  await redis?.destroy();
});

it('serves queue depth, handler attempts by outcome and dead letters at /metrics', async () => {
  // Queued before any worker runs: the depth and the age of the oldest waiting job show it.
  const sessionId = uniqueId();
  await log.createSession(sessionId);
  await send(log, queue, sessionId, 'good', { text: 'hello' });
  await send(log, queue, sessionId, 'bad', { nottext: 1 });

  const port = await freePort();
  metricsUrl = `http://127.0.0.1:${port}`;
  worker = await WorkerProcess.start({
    redisUrl: redis.url,
    keyPrefix,
    env: {
      METRICS_PORT: String(port),
      METRICS_HOST: '127.0.0.1',
      MAX_ATTEMPTS: '2',
      RETRY_BASE_MS: '0',
      EXAMPLE_AGENT_DELTAS: '3',
      EXAMPLE_AGENT_DELAY_MS: '0',
      WORKER_CONCURRENCY: '1',
    },
  });
  expect(worker.output).toContain(`"metricsPort":${port}`);

  await waitFor(() => inboxSettled(redis.client(), log, sessionId), { what: 'both messages handled' });
  await waitFor(
    async () => metricValue(await scrape(metricsUrl), 'holdfast_worker_dead_letters_total') === 1,
    {
      what: 'the dead letter counted',
    },
  );
  const samples = await scrape(metricsUrl);
  expect(metricValue(samples, 'holdfast_worker_handler_attempts_total', { outcome: 'ok' })).toBe(1);
  expect(metricValue(samples, 'holdfast_worker_handler_attempts_total', { outcome: 'failed' })).toBe(2);
  expect(metricValue(samples, 'holdfast_worker_handler_duration_seconds_count', { outcome: 'failed' })).toBe(
    2,
  );
  for (const state of ['wait', 'active', 'delayed', 'prioritized', 'failed']) {
    expect(samples.some((s) => s.name === 'holdfast_worker_queue_jobs' && s.labels['state'] === state)).toBe(
      true,
    );
  }
  expect(metricValue(samples, 'holdfast_worker_queue_jobs', { state: 'wait' })).toBe(0);
  expect(metricValue(samples, 'holdfast_worker_queue_oldest_job_age_seconds')).toBe(0);
  expect(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
});

it('shows a job waiting in the queue depth and its age', async () => {
  await worker?.kill();
  worker = undefined;
  // No worker runs now: a submitted inbox job waits, and the gauges read it from Redis.
  const sessionId = uniqueId();
  await log.createSession(sessionId);
  await send(log, queue, sessionId, 'waits', { text: 'anyone?' });
  const port = await freePort();
  const metrics = new WorkerMetrics({ url: redis.url }, keyPrefix);
  const listener = await listenForMetrics(metrics.registry, port, '127.0.0.1');
  try {
    await waitFor(
      async () =>
        metricValue(
          await scrape(`http://127.0.0.1:${port}`),
          'holdfast_worker_queue_oldest_job_age_seconds',
        ) > 0,
      { what: 'the waiting job to age' },
    );
    expect(
      metricValue(await scrape(`http://127.0.0.1:${port}`), 'holdfast_worker_queue_jobs', { state: 'wait' }),
    ).toBe(1);
  } finally {
    await listener.close();
    await metrics.close();
  }
});
