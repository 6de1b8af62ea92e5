import { UnrecoverableError, WaitingError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { ErrorCode, HoldfastError } from '@holdfast/protocol';
import { INBOUND_QUEUE_NAME, InboundQueue, bullPrefix, type DrainJobData } from '@holdfast/inbound-queue';
import { SessionLog, type SessionLogOptions } from '@holdfast/session-log';
import { DeadLetterStream } from './dead-letters.js';
import { drainInbox, type DrainDeps, type DrainOutcome } from './drain.js';
import { DrainRun } from './drain-run.js';
import { FencedError } from './fenced-error.js';
import type { Handler } from './handler.js';
import { InboxSweep } from './inbox-sweep.js';
import { Maintenance } from './maintenance.js';
import { WorkerLinks } from './worker-links.js';
import { WorkerStoppingError } from './worker-stopping-error.js';
import { errorMessage, silentLog, type WorkerLog } from './worker-log.js';
import type { AttemptSink } from './worker-metrics.js';

export interface DrainWorkerOptions {
  /** The Redis holding the session logs and the inbound queue. */
  redisUrl: string;
  /**
   * Prefix of every Holdfast key (BullMQ's keys use `<prefix>-bull`).
   * @default 'hf'
   */
  keyPrefix?: string;
  handler: Handler;
  /**
   * Sessions drained at once by this process (one message at a time within each).
   * @default 16
   */
  concurrency?: number;
  /**
   * Attempts per message, however each ends (handler error, crash, shutdown); then the
   * message is dead-lettered.
   * @default 3
   */
  maxAttempts?: number;
  /**
   * Backoff before the second attempt after a handler error; doubles for each further one.
   * @default 1000
   */
  retryBaseMs?: number;
  /** @default 30_000 */
  retryMaxMs?: number;
  /**
   * On `close()`, running handlers get this long to finish their message; then their signal
   * aborts and the message is resumed, as a new attempt, by another worker.
   * @default 20_000
   */
  shutdownGraceMs?: number;
  /**
   * BullMQ job lock, renewed every half of it while the job runs. A worker that died is noticed
   * (its drain resumed elsewhere) about this long plus up to two stalled intervals later.
   * @default 15_000
   */
  lockDurationMs?: number;
  /** How often some worker checks for drains whose lock expired. @default 5_000 */
  stalledIntervalMs?: number;
  /**
   * Dead letters older than this are deleted by the hourly maintenance job.
   * @default 604_800_000 (7 days)
   */
  deadLetterRetentionMs?: number;
  /**
   * Run the maintenance job scheduler (dead-letter cleanup) in this process.
   * @default true
   */
  maintenance?: boolean;
  /**
   * How often this process looks for inboxes holding messages whose drain job is gone (lost
   * with Redis data, or failed for good) and re-submits it; 0 turns the sweep off. See
   * orphaned-drains.ts.
   * @default 60_000
   */
  inboxSweepEveryMs?: number;
  /** Further options for the session log this worker opens. */
  sessionLog?: Omit<SessionLogOptions, 'redis' | 'keyPrefix'>;
  /** @default silent */
  report?: WorkerLog;
  /** Where handler attempts and dead letters are counted (see worker-metrics.ts); @default none */
  metrics?: AttemptSink;
}

/**
 * A stalled drain (its worker died or froze past its lock) is always resumed, never failed:
 * the inbox fences the old run, so running a drain again is safe.
 */
const MAX_STALLED_COUNT = 1_000_000;
const DEAD_LETTER_CLEANUP_EVERY_MS = 60 * 60 * 1000;
/** Sessions alive without appends are trimmed to their max age this often. */
const RETENTION_SWEEP_EVERY_MS = 10 * 60 * 1000;

function intAtLeast(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new HoldfastError(
      ErrorCode.InvalidOptions,
      `${name} must be an integer >= ${min}, got ${String(value)}`,
    );
  }
  return value;
}

function isDrainJobData(data: unknown): data is DrainJobData {
  if (typeof data !== 'object' || data === null) return false;
  const d = data as Record<string, unknown>;
  return typeof d.sessionId === 'string' && Number.isSafeInteger(d.generation);
}

/**
 * The worker process's core: a BullMQ worker on the inbound queue whose jobs each drain one
 * session's inbox through the handler (see drain.ts). Per-session order comes from the inbox
 * (one drain per session at a time); BullMQ spreads sessions over processes and slots and
 * re-runs the drains of workers that died. The job's own attempts and backoff (set by whoever
 * submits it) cover infrastructure errors only; handler errors are retried inside the job.
 */
export class DrainWorker {
  private readonly runs = new Map<string, { jobId: string; run: DrainRun }>();
  private stopping = false;
  private closing: Promise<void> | undefined;
  private worker: Worker<DrainJobData, DrainOutcome> | undefined;
  private maintenance: Maintenance | undefined;
  private links: WorkerLinks | undefined;
  private inboxSweep: InboxSweep | undefined;
  private sweepQueue: InboundQueue | undefined;

  private constructor(
    private readonly log: SessionLog,
    private readonly redis: Redis,
    private readonly deps: DrainDeps,
    private readonly shutdownGraceMs: number,
    private readonly report: WorkerLog,
  ) {}

  static async start(options: DrainWorkerOptions): Promise<DrainWorker> {
    const keyPrefix = options.keyPrefix ?? 'hf';
    const concurrency = intAtLeast('concurrency', options.concurrency ?? 16, 1);
    const maxAttempts = intAtLeast('maxAttempts', options.maxAttempts ?? 3, 1);
    const retryBaseMs = intAtLeast('retryBaseMs', options.retryBaseMs ?? 1000, 0);
    const retryMaxMs = intAtLeast('retryMaxMs', options.retryMaxMs ?? 30_000, 0);
    const shutdownGraceMs = intAtLeast('shutdownGraceMs', options.shutdownGraceMs ?? 20_000, 0);
    const lockDuration = intAtLeast('lockDurationMs', options.lockDurationMs ?? 15_000, 100);
    const stalledInterval = intAtLeast('stalledIntervalMs', options.stalledIntervalMs ?? 5_000, 100);
    const inboxSweepEveryMs = intAtLeast('inboxSweepEveryMs', options.inboxSweepEveryMs ?? 60_000, 0);
    const deadLetterRetentionMs = intAtLeast(
      'deadLetterRetentionMs',
      options.deadLetterRetentionMs ?? 7 * 24 * 60 * 60 * 1000,
      1,
    );
    const report = options.report ?? silentLog;
    if (typeof options.handler !== 'function') {
      throw new HoldfastError(ErrorCode.InvalidOptions, 'handler must be a function (ctx) => Promise<void>');
    }

    const log = new SessionLog({ ...options.sessionLog, redis: options.redisUrl, keyPrefix });
    // Dead letters: fail fast like the session log, so a Redis outage fails the job (BullMQ
    // retries it) instead of queueing writes in memory.
    const redis = new Redis(options.redisUrl, {
      connectionName: 'holdfast-worker',
      commandTimeout: 5_000,
      maxRetriesPerRequest: 1,
    });
    redis.on('error', () => undefined);
    const deadLetters = new DeadLetterStream(redis, keyPrefix);
    const deps: DrainDeps = {
      log,
      handler: options.handler,
      deadLetters,
      retry: { maxAttempts, baseMs: retryBaseMs, maxMs: retryMaxMs },
      report,
      ...(options.metrics ? { metrics: options.metrics } : {}),
    };
    const self = new DrainWorker(log, redis, deps, shutdownGraceMs, report);
    const connection: ConnectionOptions = { url: options.redisUrl };
    try {
      await log.ready();
      const worker = new Worker<DrainJobData, DrainOutcome>(
        INBOUND_QUEUE_NAME,
        (job, token) => self.process(job, token),
        {
          connection,
          prefix: bullPrefix(keyPrefix),
          concurrency,
          lockDuration,
          stalledInterval,
          maxStalledCount: MAX_STALLED_COUNT,
          autorun: false,
        },
      );
      self.worker = worker;
      self.links = new WorkerLinks(worker, redis, options.sessionLog?.linkProbe ?? {}, report);
      self.listen(worker);
      worker
        .run()
        .catch((error: unknown) => report('error', 'drain worker stopped', { error: errorMessage(error) }));
      await worker.waitUntilReady();
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
      if (inboxSweepEveryMs > 0) self.startInboxSweep(connection, keyPrefix, inboxSweepEveryMs);
    } catch (error) {
      await self.close();
      throw error;
    }
    return self;
  }

  /** Drains running in this process right now. */
  get activeDrains(): number {
    return this.runs.size;
  }

  /**
   * Stop: take no new drain; let each running one finish its current message (at most
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
        await this.worker?.close();
      } finally {
        clearTimeout(grace);
      }
      await this.inboxSweep?.stop();
      await this.sweepQueue?.close();
      await this.maintenance?.close();
      await this.log.close();
      await this.redis.quit().catch(() => this.redis.disconnect());
    })();
    return this.closing;
  }

  private startInboxSweep(connection: ConnectionOptions, keyPrefix: string, everyMs: number): void {
    const queue = new InboundQueue(connection, keyPrefix);
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
        drainExists: (sessionId, generation) => queue.drainExists(sessionId, generation),
        submitDrain: (sessionId, generation) => queue.submitDrain(sessionId, generation),
      },
      everyMs,
      this.report,
    );
    this.inboxSweep.start();
  }

  private async process(
    job: Job<DrainJobData, DrainOutcome>,
    token: string | undefined,
  ): Promise<DrainOutcome> {
    if (!isDrainJobData(job.data)) {
      throw new UnrecoverableError(`drain job ${String(job.id)} has malformed data`);
    }
    const run = new DrainRun();
    this.runs.set(run.token, { jobId: job.id ?? '', run });
    if (this.stopping) run.requestStop();
    try {
      const outcome = await drainInbox(job.data, run, this.deps);
      if (outcome === 'stopped') {
        // Back to the queue for another worker; this does not count as a failed job attempt.
        await job.moveToWait(token);
        this.report('info', 'drain handed back to the queue', { jobId: job.id });
        throw new WaitingError();
      }
      return outcome;
    } finally {
      this.runs.delete(run.token);
    }
  }

  private listen(worker: Worker<DrainJobData, DrainOutcome>): void {
    const report = this.report;
    worker.on('error', (error) => report('error', 'drain worker error', { error: errorMessage(error) }));
    worker.on('failed', (job, error) =>
      report('warn', 'drain job failed (infrastructure); BullMQ retries it while attempts remain', {
        jobId: job?.id,
        error: errorMessage(error),
      }),
    );
    worker.on('stalled', (jobId) => report('warn', 'stalled drain job resumed', { jobId }));
    // Our lock is gone: the stalled check will hand the drain to another run, which fences this
    // one at its next step anyway. Stop now rather than publish into a lost cause.
    worker.on('lockRenewalFailed', (jobIds) => {
      for (const { jobId, run } of this.runs.values()) {
        if (jobIds.includes(jobId)) run.abort(new FencedError('this worker lost the lock of the drain job'));
      }
    });
  }
}
