/**
 * The worker's Prometheus metrics: the inbound queues as BullMQ holds them (depth by state, age
 * of the oldest waiting job, summed over every inbound queue and read from Redis at each scrape), handler attempts by outcome and their
 * duration, and dead letters, plus prom-client's process defaults. Served by metrics-listener.ts.
 */
import { Queue, type ConnectionOptions } from 'bullmq';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { bullPrefix, inboundQueueName, isClusterConnection } from '@holdfast/inbound-queue';

/** How a handler attempt ended: returned, threw, or was cut off by shutdown or fencing. */
export type AttemptOutcome = 'ok' | 'failed' | 'aborted';

/** What an inbox run reports, when the worker counts (see InboxWorkerOptions.metrics). */
export interface AttemptSink {
  attemptEnded(outcome: AttemptOutcome, seconds: number): void;
  deadLettered(): void;
}

const QUEUE_STATES = ['wait', 'active', 'delayed', 'prioritized', 'failed'] as const;

export class WorkerMetrics implements AttemptSink {
  readonly registry = new Registry();
  private readonly queues: Queue[] = [];
  readonly handlerDuration = new Histogram({
    name: 'holdfast_worker_handler_duration_seconds',
    help: 'Handler attempts by outcome (ok, failed, aborted), from the call to its return',
    labelNames: ['outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });
  readonly attempts = new Counter({
    name: 'holdfast_worker_handler_attempts_total',
    help: 'Handler attempts by outcome: ok, failed (it threw; retried or dead-lettered), aborted (shutdown or fencing)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly deadLetters = new Counter({
    name: 'holdfast_worker_dead_letters_total',
    help: 'Inbound messages given up on after their last attempt (an error envelope went to the session)',
    registers: [this.registry],
  });

  constructor(connection: ConnectionOptions, keyPrefix: string, inboundQueues = 1) {
    collectDefaultMetrics({ register: this.registry });
    for (let index = 0; index < inboundQueues; index++) {
      const queue = new Queue(inboundQueueName(index), {
        connection,
        prefix: bullPrefix(keyPrefix, isClusterConnection(connection), index),
      });
      queue.on('error', () => undefined);
      this.queues.push(queue);
    }
    const queues = this.queues;
    new Gauge({
      name: 'holdfast_worker_queue_jobs',
      help: 'Inbox jobs in the inbound queues, by BullMQ state (wait, active, delayed, prioritized, failed)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        const counts = await Promise.all(queues.map((queue) => queue.getJobCounts(...QUEUE_STATES)));
        for (const state of QUEUE_STATES) {
          this.set(
            { state },
            counts.reduce((sum, c) => sum + (c[state] ?? 0), 0),
          );
        }
      },
    });
    new Gauge({
      name: 'holdfast_worker_queue_oldest_job_age_seconds',
      help: 'Age of the oldest job waiting in any inbound queue (0 when none waits)',
      registers: [this.registry],
      async collect() {
        const heads = await Promise.all(queues.map((queue) => queue.getJobs(['wait'], 0, 0, true)));
        const oldest = Math.min(...heads.flatMap(([job]) => (job ? [job.timestamp] : [])));
        this.set(Number.isFinite(oldest) ? Math.max(0, (Date.now() - oldest) / 1000) : 0);
      },
    });
  }

  attemptEnded(outcome: AttemptOutcome, seconds: number): void {
    this.attempts.inc({ outcome });
    this.handlerDuration.observe({ outcome }, seconds);
  }

  deadLettered(): void {
    this.deadLetters.inc();
  }

  async close(): Promise<void> {
    await Promise.all(this.queues.map((queue) => queue.close()));
  }
}
