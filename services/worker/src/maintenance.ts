import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import { bullPrefix, isClusterConnection } from '@holdfast/inbound-queue';
import type { DeadLetterStream } from './dead-letters.js';
import { errorMessage, type WorkerLog } from './worker-log.js';

/**
 * Periodic housekeeping, as BullMQ job schedulers: every worker process upserts the same
 * schedulers (idempotent by id), BullMQ adds one job per period, and exactly one worker runs
 * it. Only what Redis does not already do by itself lives here: idle sessions, their logs and
 * their inboxes expire through key TTLs set by the session log's scripts (then a tombstone).
 * What is left: old dead letters, and age retention of sessions that stay alive without
 * appending (appends trim by age themselves).
 */
export const MAINTENANCE_QUEUE_NAME = 'holdfast-maintenance';
export const DEAD_LETTER_CLEANUP = 'dead-letter-cleanup';
export const RETENTION_SWEEP = 'retention-sweep';

/** What the retention sweep needs of the session log. */
export interface RetentionLog {
  scanSessions(cursor?: string): Promise<{ cursor: string; sessionIds: string[] }>;
  enforceRetention(sessionId: string): Promise<number | undefined>;
}

/** Trim every live session to its max age; returns how many sessions were visited. */
export async function sweepRetention(log: RetentionLog): Promise<number> {
  let visited = 0;
  let cursor = '0';
  do {
    const page = await log.scanSessions(cursor);
    for (const sessionId of page.sessionIds) {
      await log.enforceRetention(sessionId);
      visited += 1;
    }
    cursor = page.cursor;
  } while (cursor !== '0');
  return visited;
}

export interface MaintenanceOptions {
  readonly connection: ConnectionOptions;
  readonly keyPrefix: string;
  readonly deadLetters: DeadLetterStream;
  /** Dead letters older than this are deleted. */
  readonly deadLetterRetentionMs: number;
  /** How often the cleanup runs. */
  readonly everyMs: number;
  readonly log: RetentionLog;
  /** How often every session is trimmed to its max age. */
  readonly retentionSweepEveryMs: number;
  readonly report: WorkerLog;
}

export class Maintenance {
  private constructor(
    private readonly queue: Queue,
    private readonly worker: Worker,
  ) {}

  static async start(options: MaintenanceOptions): Promise<Maintenance> {
    const prefix = bullPrefix(options.keyPrefix, isClusterConnection(options.connection));
    const queue = new Queue(MAINTENANCE_QUEUE_NAME, { connection: options.connection, prefix });
    queue.on('error', (error) =>
      options.report('error', 'maintenance queue error', { error: errorMessage(error) }),
    );
    const worker = new Worker(
      MAINTENANCE_QUEUE_NAME,
      async (job) => {
        if (job.name === RETENTION_SWEEP) return { sessions: await sweepRetention(options.log) };
        if (job.name !== DEAD_LETTER_CLEANUP) return undefined;
        const deleted = await options.deadLetters.trim(options.deadLetterRetentionMs);
        if (deleted > 0) options.report('info', 'old dead letters deleted', { deleted });
        return { deleted };
      },
      { connection: options.connection, prefix, concurrency: 1, autorun: false },
    );
    worker.on('error', (error) =>
      options.report('error', 'maintenance worker error', { error: errorMessage(error) }),
    );
    const maintenance = new Maintenance(queue, worker);
    try {
      await queue.upsertJobScheduler(
        DEAD_LETTER_CLEANUP,
        { every: options.everyMs },
        { name: DEAD_LETTER_CLEANUP, opts: { removeOnComplete: true, removeOnFail: 100 } },
      );
      await queue.upsertJobScheduler(
        RETENTION_SWEEP,
        { every: options.retentionSweepEveryMs },
        { name: RETENTION_SWEEP, opts: { removeOnComplete: true, removeOnFail: 100 } },
      );
      worker
        .run()
        .catch((error: unknown) =>
          options.report('error', 'maintenance worker stopped', { error: errorMessage(error) }),
        );
      await worker.waitUntilReady();
    } catch (error) {
      await maintenance.close();
      throw error;
    }
    return maintenance;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.worker.close(), this.queue.close()]);
  }
}
