import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ApiServer } from '@holdfast/api';
import { createProducer } from '@holdfast/producer';
import { Registry } from 'prom-client';
import { metricValue, parseMetrics, scrape } from '../../helpers/prometheus-text.js';
import { uniqueId } from '../../helpers/session-log-fixture.js';
import { ApiClient, startTestApi } from '../api/api-fixture.js';
import { RedisServer } from '@holdfast/testing';

let redis: RedisServer;
let api: ApiServer;

beforeAll(async () => {
  redis = await RedisServer.start();
  api = await startTestApi(redis);
});
afterAll(async () => {
  await api?.close();
  await redis?.destroy();
});

it('counts requests by route template and status, appends, batch sizes and idempotent replays', async () => {
  const client = new ApiClient(api.url);
  const { sessionId } = await client.createSession();
  const messages = `/v1/sessions/${sessionId}/messages`;
  await client.post(messages, { data: { n: 1 } });
  await client.post(messages, { messages: [{ data: 2 }, { data: 3 }, { data: 4 }] });
  const keyed = { headers: { 'idempotency-key': 'retry-me' } };
  await client.post(messages, { data: 5 }, keyed);
  await client.post(messages, { data: 5 }, keyed);
  await client.get(`/v1/sessions/not-a-session-${uniqueId()}`);

  const res = await fetch(`${api.url}/metrics`);
  expect(res.headers.get('content-type')).toContain('text/plain');
  const samples = parseMetrics(await res.text());
  const route = '/v1/sessions/:sessionId/messages';
  expect(
    metricValue(samples, 'holdfast_api_request_duration_seconds_count', {
      method: 'POST',
      route,
      status: '200',
    }),
  ).toBe(4);
  expect(
    metricValue(samples, 'holdfast_api_request_duration_seconds_count', {
      route: '/v1/sessions/:sessionId',
      status: '404',
    }),
  ).toBe(1);
  // No label carries a session id.
  expect(samples.some((s) => Object.values(s.labels).some((v) => v.includes(sessionId)))).toBe(false);
  expect(metricValue(samples, 'holdfast_api_messages_appended_total')).toBe(5);
  expect(metricValue(samples, 'holdfast_api_idempotent_replays_total')).toBe(1);
  expect(metricValue(samples, 'holdfast_api_append_batch_messages_count')).toBe(4);
  expect(metricValue(samples, 'holdfast_api_append_batch_messages_sum')).toBe(6);
  // The producer's group commit reports on the API's registry.
  expect(metricValue(samples, 'holdfast_session_log_append_batch_messages_sum')).toBeGreaterThanOrEqual(5);
  expect(metricValue(samples, 'holdfast_session_log_append_flush_seconds_count')).toBeGreaterThan(0);
  expect(metricValue(samples, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
  expect((await scrape(api.url)).length).toBeGreaterThan(0);
});

it('the producer library hands its host app a registry with the group-commit metrics', async () => {
  const own = createProducer({ redis: redis.url, keyPrefix: uniqueId('prod') });
  const shared = new Registry();
  const hosted = createProducer({ redis: redis.url, keyPrefix: uniqueId('prod'), metricsRegistry: shared });
  try {
    for (const producer of [own, hosted]) {
      const { sessionId } = await producer.createSession();
      await Promise.all([1, 2, 3].map((n) => producer.publish(sessionId, { n })));
    }
    expect(hosted.metricsRegistry).toBe(shared);
    for (const registry of [own.metricsRegistry, shared]) {
      const samples = parseMetrics(await registry.metrics());
      expect(metricValue(samples, 'holdfast_session_log_append_batch_messages_sum')).toBe(3);
    }
  } finally {
    await Promise.all([own.close(), hosted.close()]);
  }
});
