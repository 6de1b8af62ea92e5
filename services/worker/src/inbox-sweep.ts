import { resubmitOrphanedInboxRuns, type OrphanSweepDeps } from './orphaned-inbox-runs.js';
import { errorMessage, type WorkerLog } from './worker-log.js';

/**
 * Runs the orphaned-inbox-run sweep (orphaned-inbox-runs.ts) every `everyMs` (± 20 %, so workers that
 * started together do not sweep in step) in this process, until stopped.
 *
 * A plain timer in every worker rather than a BullMQ job scheduler like the other housekeeping:
 * the sweep exists to repair what a Redis data loss leaves behind, and a scheduler is itself
 * state in Redis that the same loss can roll back. Several workers sweeping is harmless (the
 * sweep is idempotent); it costs one SCAN of the sessions per worker per period.
 */
export class InboxSweep {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private suspects: ReadonlySet<string> = new Set();

  constructor(
    private readonly deps: OrphanSweepDeps,
    private readonly everyMs: number,
    private readonly report: WorkerLog,
  ) {}

  start(): void {
    this.schedule();
  }

  /** Stops the timer and waits for a pass in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    const delay = this.everyMs * (0.8 + 0.4 * Math.random());
    this.timer = setTimeout(() => {
      this.running = this.pass().finally(() => {
        this.running = undefined;
        this.schedule();
      });
    }, delay);
    this.timer.unref();
  }

  private async pass(): Promise<void> {
    try {
      const { resubmitted, suspects } = await resubmitOrphanedInboxRuns(this.deps, this.suspects);
      this.suspects = suspects;
      for (const orphan of resubmitted) {
        this.report('warn', 'orphaned inbox run re-submitted', { ...orphan });
      }
    } catch (error) {
      // Redis down or slow: the next pass tries again.
      this.report('warn', 'inbox sweep failed', { error: errorMessage(error) });
    }
  }
}
