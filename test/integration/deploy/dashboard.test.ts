import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { metricNames } from '../../helpers/prometheus-text.js';
import { uniqueId } from '../../helpers/session-log-fixture.js';
import { apiEnv } from '../api/api-fixture.js';
import { metricsIn, queries } from './monitoring-files.js';
import { ApiProcess, EdgeProcess, freePort, RedisServer, WorkerProcess } from '@holdfast/testing';

/**
 * Every metric the Grafana dashboard and the alert rules query is served by a running service:
 * an edge, the API and a worker are started as processes and each /metrics is scraped. A
 * renamed or dropped metric fails here instead of leaving an empty panel.
 */
let redis: RedisServer;
let edge: EdgeProcess;
let api: ApiProcess;
let worker: WorkerProcess;
let workerMetricsPort: number;

beforeAll(async () => {
  redis = await RedisServer.start();
  const keyPrefix = uniqueId('dash');
  workerMetricsPort = await freePort();
  [edge, api, worker] = await Promise.all([
    EdgeProcess.start({ redisUrl: redis.url, env: { HOLDFAST_KEY_PREFIX: keyPrefix } }),
    ApiProcess.start(apiEnv(redis, { HOLDFAST_KEY_PREFIX: keyPrefix })),
    WorkerProcess.start({
      redisUrl: redis.url,
      keyPrefix,
      env: { METRICS_PORT: String(workerMetricsPort), METRICS_HOST: '127.0.0.1' },
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([edge?.stop(), api?.kill(), worker?.kill()]);
  await redis?.destroy();
});

it('every metric the dashboard and the alerts query is exposed by a running service', async () => {
  const urls = [edge.url, api.url, `http://127.0.0.1:${workerMetricsPort}`];
  const exposed = new Set<string>();
  for (const url of urls) {
    const res = await fetch(`${url}/metrics`);
    expect(res.status, url).toBe(200);
    for (const name of metricNames(await res.text())) exposed.add(name);
  }
  const wanted = new Set(queries().flatMap(metricsIn));
  expect(wanted.size).toBeGreaterThan(10);
  // Histogram series (_bucket, _sum, _count) belong to the family the text declares.
  const family = (name: string): string => name.replace(/_(bucket|sum|count)$/, '');
  const missing = [...wanted].filter((name) => !exposed.has(name) && !exposed.has(family(name)));
  expect(missing).toEqual([]);
  // Names follow Prometheus conventions: our prefix, and a unit or _total where one applies.
  for (const name of exposed) {
    if (!name.startsWith('holdfast_')) continue;
    expect(name).toMatch(/^holdfast_(edge|api|worker|session_log)_[a-z0-9_]+$/);
  }
  // docs/operations.md's metrics table lists exactly what the services expose.
  const doc = readFileSync(new URL('../../../docs/operations.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## Metrics'), doc.indexOf('## Logs'));
  const documented = new Set([...section.matchAll(/^\| `(holdfast_[a-z0-9_]+)`/gm)].map((m) => m[1]!));
  const ours = [...exposed].filter((name) => name.startsWith('holdfast_'));
  expect(ours.filter((name) => !documented.has(name))).toEqual([]);
  expect([...documented].filter((name) => !exposed.has(name))).toEqual([]);
});
