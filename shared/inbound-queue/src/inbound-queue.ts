import { Queue, type ConnectionOptions, type RedisClient } from 'bullmq';
import { ErrorCode, HoldfastError } from '@holdfast/protocol';
import {
  INBOX_RUN_JOB_NAME,
  INBOUND_QUEUE_NAME,
  bullPrefix,
  inboxRunJobId,
  type InboxRunJobData,
} from './inbox-run-job.js';

/**
 * The edge's side of the queue: submit the inbox run an inbound message was scheduled into.
 * Infrastructure failures of the inbox run job itself (not of the handler) are retried by BullMQ
 * with backoff; a finished or failed job is removed, so its id can be reused by nothing else
 * (generations only grow) and Redis keeps no history it does not need.
 */
export class InboundQueue {
  private readonly queue: Queue<InboxRunJobData>;

  constructor(connection: ConnectionOptions, keyPrefix: string) {
    this.queue = new Queue<InboxRunJobData>(INBOUND_QUEUE_NAME, {
      connection,
      prefix: bullPrefix(keyPrefix),
    });
    this.queue.on('error', () => undefined);
  }

  async submitInboxRun(sessionId: string, generation: number): Promise<void> {
    try {
      await this.queue.add(
        INBOX_RUN_JOB_NAME,
        { sessionId, generation },
        {
          jobId: inboxRunJobId(sessionId, generation),
          attempts: 20,
          backoff: { type: 'exponential', delay: 500 },
          removeOnComplete: true,
          removeOnFail: true,
        },
      );
    } catch (error) {
      throw new HoldfastError(
        ErrorCode.RedisUnavailable,
        `could not schedule the inbox run: ${String(error)}`,
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
   * Whether the inbox run job of `generation` exists (waiting, delayed, running or being retried).
   * A finished or failed job is removed, so false means nothing will ever run it.
   */
  async inboxRunExists(sessionId: string, generation: number): Promise<boolean> {
    try {
      return (await this.queue.getJobState(inboxRunJobId(sessionId, generation))) !== 'unknown';
    } catch (error) {
      throw new HoldfastError(
        ErrorCode.RedisUnavailable,
        `could not look up the inbox run: ${String(error)}`,
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
