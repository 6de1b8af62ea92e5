import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ErrorCode, isHoldfastError, type LogPosition, type StartFrom } from '@holdfast/protocol';

/**
 * The edge's Prometheus metrics, served at /metrics: process memory and event-loop figures
 * (prom-client's defaults, `nodejs_eventloop_lag_*` among them) plus what an operator of
 * Holdfast watches. No label ever holds a session, consumer or connection id: those are
 * unbounded, and belong in logs. docs/operations.md lists every metric and what it means.
 */
export class EdgeMetrics {
  readonly registry = new Registry();
  readonly connections = new Gauge({
    name: 'holdfast_edge_connections',
    help: 'Session connections open on this edge',
    registers: [this.registry],
  });
  readonly messagesDelivered = new Counter({
    name: 'holdfast_edge_messages_delivered_total',
    help: 'Messages sent to clients (in batches)',
    registers: [this.registry],
  });
  readonly resets = new Counter({
    name: 'holdfast_edge_resets_total',
    help: 'Resets sent to clients, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly handshakeRejections = new Counter({
    name: 'holdfast_edge_handshake_rejections_total',
    help: 'Refused connections, by code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly handshakesAbandoned = new Counter({
    name: 'holdfast_edge_handshakes_abandoned_total',
    help: 'Handshakes whose client left before the lease claim (they claim nothing)',
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'holdfast_edge_rate_limited_total',
    help: 'Client events refused for exceeding the per-connection rate',
    registers: [this.registry],
  });
  readonly engineConnections = new Gauge({
    name: 'holdfast_edge_engine_connections',
    help: 'Engine.IO connections open on this edge, joined to a session or not',
    registers: [this.registry],
  });
  readonly clientAddresses = new Gauge({
    name: 'holdfast_edge_client_addresses',
    help: 'Client addresses holding at least one WebSocket to this edge',
    registers: [this.registry],
  });
  readonly ready = new Gauge({
    name: 'holdfast_edge_ready',
    help: '1 while the edge accepts connections (Redis reachable, not draining)',
    registers: [this.registry],
  });
  readonly deliveryLatency = new Histogram({
    name: 'holdfast_edge_delivery_latency_seconds',
    help: 'From the live notification of an append (sent by the append script as it stores the entry) to the frame carrying the entry written to the client',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly consumerLag = new Histogram({
    name: 'holdfast_edge_consumer_lag_messages',
    help: 'Per open connection, messages appended but not yet acknowledged by its client (head - acked), sampled at each scrape',
    buckets: [0, 1, 10, 100, 1000, 10_000, 100_000],
    registers: [this.registry],
  });
  readonly stalled = new Gauge({
    name: 'holdfast_edge_connections_stalled',
    help: 'Open connections whose flow window is full: delivery waits for the client to ack',
    registers: [this.registry],
  });
  readonly resumes = new Counter({
    name: 'holdfast_edge_resumes_total',
    help: 'Connections that presented a position, by outcome (resumed, reset, refused) and reason (the reset reason or the refusal code)',
    labelNames: ['outcome', 'reason'] as const,
    registers: [this.registry],
  });
  readonly replaced = new Counter({
    name: 'holdfast_edge_connections_replaced_total',
    help: 'Connections closed because a newer connection of the same consumer took over',
    registers: [this.registry],
  });
  readonly drained = new Counter({
    name: 'holdfast_edge_connections_drained_total',
    help: 'Connections told to move to another edge because this one is draining',
    registers: [this.registry],
  });
  readonly redisErrors = new Counter({
    name: 'holdfast_edge_redis_errors_total',
    help: 'Redis commands of a connection that failed (unreachable or timed out), by code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly catchUpReads = new Counter({
    name: 'holdfast_edge_catchup_reads_total',
    help: 'Reads of the session log (catch-up after a resume, a gap or a full window)',
    registers: [this.registry],
  });
  readonly catchUpMessages = new Counter({
    name: 'holdfast_edge_catchup_read_messages_total',
    help: 'Messages returned by catch-up reads',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Set the per-connection figures from the connections open now (at each scrape). */
  sampleConnections(connections: Iterable<{ readonly lag: number; readonly stalled: boolean }>): void {
    this.consumerLag.reset();
    let stalled = 0;
    for (const connection of connections) {
      this.consumerLag.observe(connection.lag);
      if (connection.stalled) stalled += 1;
    }
    this.stalled.set(stalled);
  }
}

/** Failures that came from Redis (unreachable, or too slow), counted by code. */
export function countRedisError(metrics: EdgeMetrics, error: unknown): void {
  if (!isHoldfastError(error)) return;
  if (error.code === ErrorCode.RedisUnavailable || error.code === ErrorCode.Timeout) {
    metrics.redisErrors.inc({ code: error.code });
  }
}

/** A connection that presented a position resumed, or was reset (with the reason). */
export function countResume(
  metrics: EdgeMetrics,
  position: LogPosition | StartFrom | undefined,
  resetReason: string | undefined,
): void {
  if (position === undefined || position === 'oldest') return;
  metrics.resumes.inc(
    resetReason === undefined
      ? { outcome: 'resumed', reason: '' }
      : { outcome: 'reset', reason: resetReason },
  );
}
