/**
 * The API's Prometheus metrics, served at GET /metrics: requests by route and status, appends
 * and their batch sizes, idempotent replays, plus the producer's group-commit metrics and
 * prom-client's process defaults, all on one registry. Labels are route templates, never ids.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class ApiMetrics {
  readonly registry = new Registry();
  readonly requestDuration = new Histogram({
    name: 'holdfast_api_request_duration_seconds',
    help: 'HTTP requests by method, route template and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly messagesAppended = new Counter({
    name: 'holdfast_api_messages_appended_total',
    help: 'Messages written to session logs through POST /v1/sessions/{sessionId}/messages (replays not counted)',
    registers: [this.registry],
  });
  readonly appendBatchMessages = new Histogram({
    name: 'holdfast_api_append_batch_messages',
    help: 'Messages per publish request',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    registers: [this.registry],
  });
  readonly idempotentReplays = new Counter({
    name: 'holdfast_api_idempotent_replays_total',
    help: 'Messages of publish requests answered from an earlier write (same message id or Idempotency-Key): nothing written',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** A publish answered: `duplicates` says, per message, whether it had been written before. */
  published(duplicates: readonly boolean[]): void {
    const replays = duplicates.filter(Boolean).length;
    this.appendBatchMessages.observe(duplicates.length);
    this.messagesAppended.inc(duplicates.length - replays);
    if (replays > 0) this.idempotentReplays.inc(replays);
  }
}
