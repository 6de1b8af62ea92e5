import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { ErrorCode, HoldfastError, validateIntegerOption } from '@holdfast/protocol';
import {
  InboundQueue,
  bullConnection,
  MAX_INBOUND_QUEUES,
  bullPrefix,
  inboundQueueName,
  type BullConnection,
  type InboxRunJobData,
} from '@holdfast/inbound-queue';
import { SessionLog, createRedisLink, type RedisLink } from '@holdfast/session-log';
import { DeadLetterStream } from './dead-letters.js';
import { runInbox, type InboxRunDeps, type InboxRunOutcome } from './inbox-run.js';
import { InboxRunExecution } from './inbox-run-execution.js';
import { FencedError } from './fenced-error.js';
import type { InboxWorkerOptions } from './inbox-worker-options.js';
import { InboxSweep } from './inbox-sweep.js';
import { Maintenance } from './maintenance.js';
import { WorkerLinks } from './worker-links.js';
import { WorkerStoppingError } from './worker-stopping-error.js';
import { errorMessage, silentLog, type WorkerLog } from './worker-log.js';

export type { InboxWorkerOptions } from './inbox-worker-options.js';

/**
 * A stalled inbox run (its worker died or froze past its lock) is always resumed, never failed:
 * the inbox fences the old run, so running an inbox run again is safe.
 */
const MAX_STALLED_COUNT = 1_000_000;
const DEAD_LETTER_CLEANUP_EVERY_MS = 60 * 60 * 1000;
/** Sessions alive without appends are trimmed to their max age this often. */
const RETENTION_SWEEP_EVERY_MS = 10 * 60 * 1000;

function isInboxRunJobData(data: unknown): data is InboxRunJobData {
  if (typeof data !== 'object' || data === null) return false;
  const d = data as Record<string, unknown>;
  return typeof d.sessionId === 'string' && Number.isSafeInteger(d.generation);
}

/**
 * The worker process's core: a BullMQ worker on each inbound queue, whose jobs (inbox runs) each
 * hand one session's inbox to the handler (see inbox-run.ts). Per-session order comes from the inbox
 * (one inbox run per session at a time); BullMQ spreads sessions over processes and slots and
 * re-runs the inbox runs of workers that died. The job's own attempts and backoff (set by whoever
 * submits it) cover infrastructure errors only; handler errors are retried inside the job.
 */
export class InboxWorker {
  private readonly runs = new Map<string, { jobId: string; run: InboxRunExecution }>();
  private stopping = false;
  private closing: Promise<void> | undefined;
  /** One BullMQ worker per inbound queue. */
  private workers: Array<Worker<InboxRunJobData, InboxRunOutcome>> = [];
  private maintenance: Maintenance | undefined;
  private links: WorkerLinks | undefined;
  private inboxSweep: InboxSweep | undefined;
  private sweepQueue: InboundQueue | undefined;

  private constructor(
    private readonly log: SessionLog,
    private readonly redis: RedisLink,
    private readonly bull: BullConnection,
    private readonly deps: InboxRunDeps,
    private readonly shutdownGraceMs: number,
    private readonly report: WorkerLog,
  ) {}

  static async start(options: InboxWorkerOptions): Promise<InboxWorker> {
    const keyPrefix = options.keyPrefix ?? 'hf';
    const concurrency = validateIntegerOption('concurrency', options.concurrency ?? 16, { min: 1 });
    const inboundQueues = validateIntegerOption('inboundQueues', options.inboundQueues ?? 1, {
      min: 1,
      max: MAX_INBOUND_QUEUES,
    });
    const maxAttempts = validateIntegerOption('maxAttempts', options.maxAttempts ?? 3, { min: 1 });
    const retryBaseMs = validateIntegerOption('retryBaseMs', options.retryBaseMs ?? 1000, { min: 0 });
    const retryMaxMs = validateIntegerOption('retryMaxMs', options.retryMaxMs ?? 30_000, { min: 0 });
    const shutdownGraceMs = validateIntegerOption('shutdownGraceMs', options.shutdownGraceMs ?? 20_000, {
      min: 0,
    });
    const lockDuration = validateIntegerOption('lockDurationMs', options.lockDurationMs ?? 15_000, {
      min: 100,
    });
    const stalledInterval = validateIntegerOption('stalledIntervalMs', options.stalledIntervalMs ?? 5_000, {
      min: 100,
    });
    const inboxSweepEveryMs = validateIntegerOption(
      'inboxSweepEveryMs',
      options.inboxSweepEveryMs ?? 60_000,
      { min: 0 },
    );
    const deadLetterRetentionMs = validateIntegerOption(
      'deadLetterRetentionMs',
      options.deadLetterRetentionMs ?? 7 * 24 * 60 * 60 * 1000,
      { min: 1 },
    );
    const report = options.report ?? silentLog;
    if (typeof options.handler !== 'function') {
      throw new HoldfastError(ErrorCode.InvalidOptions, 'handler must be a function (ctx) => Promise<void>');
    }

    const log = new SessionLog({ ...options.sessionLog, redis: options.redisUrl, keyPrefix });
    // Dead letters: fail fast like the session log, so a Redis outage fails the job (BullMQ
    // retries it) instead of queueing writes in memory.
    const redis = createRedisLink(options.redisUrl, 'command', {
      connectionName: 'holdfast-worker',
      commandTimeout: 5_000,
      maxRetriesPerRequest: 1,
    });
    redis.on('error', () => undefined);
    const deadLetters = new DeadLetterStream(redis, keyPrefix);
    const deps: InboxRunDeps = {
      log,
      handler: options.handler,
      deadLetters,
      retry: { maxAttempts, baseMs: retryBaseMs, maxMs: retryMaxMs },
      report,
      ...(options.metrics ? { metrics: options.metrics } : {}),
    };
    const bull = bullConnection(options.redisUrl);
    const self = new InboxWorker(log, redis, bull, deps, shutdownGraceMs, report);
    const connection = bull.connection;
    try {
      await log.ready();
      for (let index = 0; index < inboundQueues; index++) {
        const worker = new Worker<InboxRunJobData, InboxRunOutcome>(
          inboundQueueName(index),
          (job, token) => self.process(job, token),
          {
            connection,
            prefix: bullPrefix(keyPrefix, bull.onCluster, index),
            // WORKER_CONCURRENCY is the process's: each queue gets its share (sessions are
            // spread evenly over queues by hash), so adding queues does not multiply it.
            concurrency: Math.ceil(concurrency / inboundQueues),
            lockDuration,
            stalledInterval,
            maxStalledCount: MAX_STALLED_COUNT,
            autorun: false,
          },
        );
        self.workers.push(worker);
        self.listen(worker);
        worker
          .run()
          .catch((error: unknown) => report('error', 'inbox worker stopped', { error: errorMessage(error) }));
      }
      self.links = new WorkerLinks(self.workers, redis, options.sessionLog?.linkProbe ?? {}, report);
      await Promise.all(self.workers.map((worker) => worker.waitUntilReady()));
      if (options.maintenance ?? true) {
        self.maintenance = await Maintenance.start({
          connection,
          keyPrefix,
          deadLetters,
          deadLetterRetentionMs,
          everyMs: DEAD_LETTER_CLEANUP_EVERY_MS,
          log,
          retentionSweepEveryMs: RETENTION_SWEEP_EVERY_MS,
          report,
        });
      }
      if (inboxSweepEveryMs > 0) {
        self.startInboxSweep(new InboundQueue(connection, keyPrefix, inboundQueues), inboxSweepEveryMs);
      }
    } catch (error) {
      await self.close();
      throw error;
    }
    return self;
  }

  /** Inbox runs running in this process right now. */
  get activeInboxRuns(): number {
    return this.runs.size;
  }

  /**
   * Stop: take no new inbox run; let each running one finish its current message (at most
   * `shutdownGraceMs`, then its handler is aborted) and hand the rest of its inbox back to the
   * queue for another worker; then close every connection.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopping = true;
      this.links?.stop();
      for (const { run } of this.runs.values()) run.requestStop();
      const grace = setTimeout(() => {
        for (const { run } of this.runs.values()) run.abort(new WorkerStoppingError());
      }, this.shutdownGraceMs);
      try {
        // Resolves once every running job has returned (BullMQ waits for them).
        await Promise.all(this.workers.map((worker) => worker.close()));
      } finally {
        clearTimeout(grace);
      }
      await this.inboxSweep?.stop();
      await this.sweepQueue?.close();
      await this.maintenance?.close();
      await this.log.close();
      await this.bull.close();
      await this.redis.quit().catch(() => this.redis.disconnect());
    })();
    return this.closing;
  }

  private startInboxSweep(queue: InboundQueue, everyMs: number): void {
    this.sweepQueue = queue;
    this.inboxSweep = new InboxSweep(
      {
        scanSessions: (cursor) => this.log.scanSessions(cursor),
        inboxProgress: async (sessionId) => {
          const [seq, done, sched] = await this.redis.hmget(
            this.log.keys(sessionId).inboxState,
            'seq',
            'done',
            'sched',
          );
          if (seq === null) return undefined;
          return { seq: Number(seq), done: Number(done ?? 0), scheduled: Number(sched ?? 0) };
        },
        inboxRunExists: (sessionId, generation) => queue.inboxRunExists(sessionId, generation),
        submitInboxRun: (sessionId, generation) => queue.submitInboxRun(sessionId, generation),
      },
      everyMs,
      this.report,
    );
    this.inboxSweep.start();
  }

  private async process(
    job: Job<InboxRunJobData, InboxRunOutcome>,
    token: string | undefined,
  ): Promise<InboxRunOutcome> {
    if (!isInboxRunJobData(job.data)) {
      throw new UnrecoverableError(`inbox run job ${String(job.id)} has malformed data`);
    }
    const run = new InboxRunExecution();
    this.runs.set(run.token, { jobId: job.id ?? '', run });
    if (this.stopping) run.requestStop();
    try {
      const outcome = await runInbox(job.data, run, this.deps);
      if (outcome === 'stopped') {
        // Back to the queue for another worker; this does not count as a failed job attempt.
        await job.moveToWait(token);
        this.report('info', 'inbox run handed back to the queue', { jobId: job.id });
        throw new WaitingError();
      }
      return outcome;
    } finally {
      this.runs.delete(run.token);
    }
  }

  private listen(worker: Worker<InboxRunJobData, InboxRunOutcome>): void {
    const report = this.report;
    worker.on('error', (error) => report('error', 'inbox worker error', { error: errorMessage(error) }));
    worker.on('failed', (job, error) =>
      report('warn', 'inbox run job failed (infrastructure); BullMQ retries it while attempts remain', {
        jobId: job?.id,
        error: errorMessage(error),
      }),
    );
    worker.on('stalled', (jobId) => report('warn', 'stalled inbox run job resumed', { jobId }));
    // Our lock is gone: the stalled check will hand the inbox run to another execution, which fences this
    // one at its next step anyway. Stop now rather than publish into a lost cause.
    worker.on('lockRenewalFailed', (jobIds) => {
      for (const { jobId, run } of this.runs.values()) {
        if (jobIds.includes(jobId))
          run.abort(new FencedError('this worker lost the lock of the inbox run job'));
      }
    });
  }
}
