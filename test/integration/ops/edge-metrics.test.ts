import { describe, expect, it } from 'vitest';
import { useEdgeEnvironment } from '../../helpers/edge-fixture.js';
import { metricValue, scrape } from '../../helpers/prometheus-text.js';
import { RawClient } from '../../helpers/raw-client.js';
import { tokenFor, waitFor } from '@holdfast/testing';

const WINDOW = 5;
const env = useEdgeEnvironment({ edgeEnv: { WINDOW_MESSAGES: String(WINDOW) } });

async function figure(name: string, labels: Record<string, string> = {}): Promise<number> {
  return metricValue(await scrape(env.edge.url), name, labels);
}

describe('edge metrics at /metrics', () => {
  it('a client that stops acking shows in the stall gauge and the lag histogram, and leaves them when it acks', async () => {
    const { sessionId, token } = await env.newSession();
    const client = await RawClient.connect(env.edge.url, { sessionId, token, autoAck: false });
    const latencyBefore = await figure('holdfast_edge_delivery_latency_seconds_count');
    for (let i = 1; i <= 30; i++) await env.log.append(sessionId, { n: i });
    await client.waitForOffset(WINDOW);

    await waitFor(async () => (await figure('holdfast_edge_connections_stalled')) === 1, {
      what: 'the stalled connection in holdfast_edge_connections_stalled',
    });
    const samples = await scrape(env.edge.url);
    // One connection, 30 behind: in the le=100 bucket and not in le=10.
    expect(metricValue(samples, 'holdfast_edge_consumer_lag_messages_count')).toBe(1);
    expect(metricValue(samples, 'holdfast_edge_consumer_lag_messages_bucket', { le: '10' })).toBe(0);
    expect(metricValue(samples, 'holdfast_edge_consumer_lag_messages_bucket', { le: '100' })).toBe(1);
    expect(metricValue(samples, 'holdfast_edge_consumer_lag_messages_sum')).toBe(30);
    // The live deliveries were timed from their notifications.
    expect(metricValue(samples, 'holdfast_edge_delivery_latency_seconds_count')).toBeGreaterThanOrEqual(
      latencyBefore + WINDOW,
    );

    // Acking opens the window again, a window at a time, until the client has everything.
    while (client.lastOffset < 30) {
      const acked = client.lastOffset;
      client.ack(acked);
      await client.waitForOffset(acked + 1);
    }
    client.ack(30);
    await waitFor(
      async () => {
        const now = await scrape(env.edge.url);
        return (
          metricValue(now, 'holdfast_edge_connections_stalled') === 0 &&
          metricValue(now, 'holdfast_edge_consumer_lag_messages_sum') === 0
        );
      },
      { what: 'no stalled connection and no lag once everything is acked' },
    );
    client.close();
    await waitFor(async () => (await figure('holdfast_edge_consumer_lag_messages_count')) === 0, {
      what: 'the closed connection to leave the lag histogram',
    });
  });

  it('counts resumes by outcome: resumed, reset with its reason, refused with its code', async () => {
    const { sessionId, token } = await env.newSession();
    await env.log.append(sessionId, { n: 1 });
    const first = await RawClient.connect(env.edge.url, { sessionId, token });
    await first.waitForOffset(1);
    const epoch = first.hellos[0]!.epoch;
    first.close();
    await first.waitForDisconnect();

    const resumedBefore = await figure('holdfast_edge_resumes_total', { outcome: 'resumed' });
    const resumed = await RawClient.connect(env.edge.url, {
      sessionId,
      token,
      position: { epoch, offset: 1 },
    });
    expect(resumed.resets).toEqual([]);
    resumed.close();
    await resumed.waitForDisconnect();
    expect(await figure('holdfast_edge_resumes_total', { outcome: 'resumed' })).toBe(resumedBefore + 1);

    const resetBefore = await figure('holdfast_edge_resumes_total', {
      outcome: 'reset',
      reason: 'epoch_changed',
    });
    const reset = await RawClient.connect(env.edge.url, {
      sessionId,
      token,
      position: { epoch: 'an-older-epoch', offset: 1 },
    });
    // The reset follows the hello.
    await waitFor(() => reset.resets.length > 0, { what: 'the reset after the hello' });
    expect(reset.resets[0]?.reason).toBe('epoch_changed');
    reset.close();
    await reset.waitForDisconnect();
    expect(await figure('holdfast_edge_resumes_total', { outcome: 'reset', reason: 'epoch_changed' })).toBe(
      resetBefore + 1,
    );

    const other = await tokenFor(`${sessionId}-other`);
    const refused = await RawClient.connect(env.edge.url, {
      sessionId,
      token: other,
      position: { epoch, offset: 1 },
    });
    const code = refused.connectError?.data?.code;
    expect(code).toBeDefined();
    expect(await figure('holdfast_edge_resumes_total', { outcome: 'refused', reason: String(code) })).toBe(1);
  });

  it('counts a connection replaced by a newer one of the same consumer', async () => {
    const { sessionId, token } = await env.newSession();
    const before = await figure('holdfast_edge_connections_replaced_total');
    const older = await RawClient.connect(env.edge.url, { sessionId, token });
    const newer = await RawClient.connect(env.edge.url, { sessionId, token });
    await older.waitForDisconnect();
    expect(await figure('holdfast_edge_connections_replaced_total')).toBe(before + 1);
    newer.close();
  });
});
