import { Queue, type ConnectionOptions, type RedisClient } from 'bullmq';
import { ErrorCode, HoldfastError, validateIntegerOption } from '@holdfast/protocol';
import {
  DEFAULT_INBOUND_QUEUES,
  INBOX_RUN_JOB_NAME,
  MAX_INBOUND_QUEUES,
  bullPrefix,
  inboundQueueName,
  inboundQueueOf,
  inboxRunJobId,
  type InboxRunJobData,
} from './inbox-run-job.js';
import { isClusterConnection } from './bull-connection.js';

/**
 * The edge's side of the queue: submit the inbox run an inbound message was scheduled into.
 * Infrastructure failures of the inbox run job itself (not of the handler) are retried by BullMQ
 * with backoff; a finished or failed job is removed, so its id can be reused by nothing else
 * (generations only grow) and Redis keeps no history it does not need.
 *
 * With several inbound queues (`queues`, see inbox-run-job.ts) each session's jobs go to its
 * own queue; a queue's BullMQ client is opened the first time a session of it needs one.
 */
export class InboundQueue {
  private readonly opened = new Map<number, Queue<InboxRunJobData>>();
  private readonly onCluster: boolean;
  readonly queues: number;

  constructor(
    private readonly connection: ConnectionOptions,
    private readonly keyPrefix: string,
    queues: number = DEFAULT_INBOUND_QUEUES,
  ) {
    this.queues = validateIntegerOption('inboundQueues', queues, { min: 1, max: MAX_INBOUND_QUEUES });
    this.onCluster = isClusterConnection(connection);
    this.queueOf(0);
  }

  private queueOf(index: number): Queue<InboxRunJobData> {
    let queue = this.opened.get(index);
    if (!queue) {
      queue = new Queue<InboxRunJobData>(inboundQueueName(index), {
        connection: this.connection,
        prefix: bullPrefix(this.keyPrefix, this.onCluster, index),
      });
      queue.on('error', () => undefined);
      this.opened.set(index, queue);
    }
    return queue;
  }

  private queueOfSession(sessionId: string): Queue<InboxRunJobData> {
    return this.queueOf(inboundQueueOf(sessionId, this.queues));
  }

  async submitInboxRun(sessionId: string, generation: number): Promise<void> {
    try {
      await this.queueOfSession(sessionId).add(
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

  /**
   * The first queue's own Redis connection, so the service can probe its liveness (issue 14).
   * On a cluster every queue shares the one Cluster client; on a server, the queues after the
   * first have connections of their own to the same server, not probed separately.
   */
  firstConnection(): Promise<RedisClient> {
    return this.queueOf(0).client;
  }

  /**
   * Whether the inbox run job of `generation` exists (waiting, delayed, running or being retried).
   * A finished or failed job is removed, so false means nothing will ever run it.
   */
  async inboxRunExists(sessionId: string, generation: number): Promise<boolean> {
    try {
      const queue = this.queueOfSession(sessionId);
      return (await queue.getJobState(inboxRunJobId(sessionId, generation))) !== 'unknown';
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
    await Promise.all([...this.opened.values()].map((queue) => queue.close()));
  }
}
