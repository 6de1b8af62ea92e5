import { Queue, type ConnectionOptions, type RedisClient } from 'bullmq';
import { ErrorCode, HoldfastError } from '@holdfast/protocol';
import {
  DRAIN_JOB_NAME,
  INBOUND_QUEUE_NAME,
  bullPrefix,
  drainJobId,
  type DrainJobData,
} from './drain-job.js';

/**
 * The edge's side of the queue: submit the drain an inbound message was scheduled into.
 * Infrastructure failures of the drain job itself (not of the handler) are retried by BullMQ
 * with backoff; a finished or failed job is removed, so its id can be reused by nothing else
 * (generations only grow) and Redis keeps no history it does not need.
 */
export class InboundQueue {
  private readonly queue: Queue<DrainJobData>;

  constructor(connection: ConnectionOptions, keyPrefix: string) {
    this.queue = new Queue<DrainJobData>(INBOUND_QUEUE_NAME, { connection, prefix: bullPrefix(keyPrefix) });
    this.queue.on('error', () => undefined);
  }

  async submitDrain(sessionId: string, generation: number): Promise<void> {
    try {
      await this.queue.add(
        DRAIN_JOB_NAME,
        { sessionId, generation },
        {
          jobId: drainJobId(sessionId, generation),
          attempts: 20,
          backoff: { type: 'exponential', delay: 500 },
          removeOnComplete: true,
          removeOnFail: true,
        },
      );
    } catch (error) {
      throw new HoldfastError(
        ErrorCode.RedisUnavailable,
        `could not schedule the inbox drain: ${String(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  /** The queue's own Redis connection, so the service can probe its liveness (issue 14). */
  connection(): Promise<RedisClient> {
    return this.queue.client;
  }

  /**
   * Whether the drain job of `generation` exists (waiting, delayed, running or being retried).
   * A finished or failed job is removed, so false means nothing will ever run it.
   */
  async drainExists(sessionId: string, generation: number): Promise<boolean> {
    try {
      return (await this.queue.getJobState(drainJobId(sessionId, generation))) !== 'unknown';
    } catch (error) {
      throw new HoldfastError(
        ErrorCode.RedisUnavailable,
        `could not look up the inbox drain: ${String(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
