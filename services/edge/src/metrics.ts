import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The edge's Prometheus metrics, served at /metrics: process memory and event-loop figures
 * (prom-client's defaults) plus what an operator of Holdfast watches.
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

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
