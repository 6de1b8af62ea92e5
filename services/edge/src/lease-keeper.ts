import { performance } from 'node:perf_hooks';

/**
 * `lost`: a newer connection of the consumer took over (a higher generation). `rolled_back`: the
 * generation went back, below this connection's own: Redis lost the claim (restored from an
 * older snapshot or AOF), nobody took over.
 */
export type LeaseCheck = 'held' | 'lost' | 'rolled_back' | 'session_gone';

/**
 * Keeps one connection's consumer lease confirmed. A connection delivers only while its lease
 * was confirmed less than `leaseMs` ago, measured on the monotonic clock, which keeps running
 * while a process is stopped: an edge frozen (SIGSTOP, GC pause, VM migration) past its lease
 * wakes up unable to deliver until Redis confirms it still holds the newest generation; if a
 * newer connection took over meanwhile, it learns it is replaced instead.
 */
export class LeaseKeeper {
  private confirmedAt: number;
  private readonly timer: NodeJS.Timeout;
  private checking = false;

  constructor(
    private readonly leaseMs: number,
    private readonly check: () => Promise<LeaseCheck>,
    private readonly onConfirmed: () => void,
    private readonly onLost: (why: Exclude<LeaseCheck, 'held'>) => void,
  ) {
    this.confirmedAt = performance.now();
    this.timer = setInterval(() => void this.renew(), Math.max(50, Math.floor(leaseMs / 3)));
    this.timer.unref();
  }

  /** True while this connection may deliver. */
  isValid(): boolean {
    const valid = performance.now() - this.confirmedAt < this.leaseMs;
    if (!valid) void this.renew();
    return valid;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async renew(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    const askedAt = performance.now();
    try {
      const result = await this.check();
      if (result === 'held') {
        const wasValid = performance.now() - this.confirmedAt < this.leaseMs;
        this.confirmedAt = askedAt;
        if (!wasValid) this.onConfirmed();
      } else {
        this.stop();
        this.onLost(result);
      }
    } catch {
      // Redis unreachable: the lease simply runs out; delivery pauses until a check succeeds.
    } finally {
      this.checking = false;
    }
  }
}
