/**
 * Lease fencing on the edge, in one place: how a connection keeps its consumer lease confirmed
 * (LeaseKeeper) and how it asks Redis (leaseRenewal). A connection delivers and acks only under a
 * confirmed lease, so a stale connection can never overwrite a newer one's progress. The rule
 * that reads a generation that is not the connection's own is the session log's
 * (`classifyLease`, `classifyFencedAck` in lease-status.ts), beside the scripts that hand
 * generations out.
 */
import { performance } from 'node:perf_hooks';
import { classifyLease, type ConsumerLeases, type LeaseStatus } from '@holdfast/session-log';

/** How a lease that is no longer this connection's was lost. */
export type LeaseLoss = Extract<LeaseStatus, 'fenced' | 'rolled_back'>;

/** The lease a connection claimed in its handshake. */
export interface ClaimedLease {
  readonly sessionId: string;
  readonly consumerId: string;
  readonly generation: number;
}

/** One renewal of `lease` in Redis, read as a LeaseStatus. */
export function leaseRenewal(
  log: Pick<ConsumerLeases, 'renewLease'>,
  lease: ClaimedLease,
  leaseMs: number,
): () => Promise<LeaseStatus> {
  return async () =>
    classifyLease(
      lease.generation,
      await log.renewLease(lease.sessionId, lease.consumerId, lease.generation, leaseMs),
    );
}

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
    private readonly check: () => Promise<LeaseStatus>,
    private readonly onConfirmed: () => void,
    private readonly onLost: (why: Exclude<LeaseStatus, 'held'>) => void,
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
