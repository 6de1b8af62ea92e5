/**
 * Lease fencing on the edge, in one place: how a connection keeps its consumer lease confirmed
 * (LeaseKeeper), how it asks Redis (leaseRenewal), and the one rule that reads a generation that
 * is not its own (fencedBy). A connection delivers and acks only under a confirmed lease, so a
 * stale connection can never overwrite a newer one's progress.
 */
import { performance } from 'node:perf_hooks';
import type { SessionLog } from '@holdfast/session-log';

/**
 * `lost`: a newer connection of the consumer took over (a higher generation). `rolled_back`: the
 * generation went back, below this connection's own: Redis lost the claim (restored from an
 * older snapshot or AOF), nobody took over.
 */
export type LeaseCheck = 'held' | 'lost' | 'rolled_back' | 'session_gone';
export type LeaseLoss = 'lost' | 'rolled_back';

/** The lease a connection claimed in its handshake. */
export interface ClaimedLease {
  readonly sessionId: string;
  readonly consumerId: string;
  readonly generation: number;
}

/**
 * THE edge's fencing rule, for a generation Redis reports instead of the connection's own (a
 * lease renewal or a fenced ack): generations only grow, so a lower one means Redis lost writes,
 * not a takeover; anything else (higher, or unknown) means a newer connection took over.
 */
export function fencedBy(own: number, current: unknown): LeaseLoss {
  return typeof current === 'number' && current < own ? 'rolled_back' : 'lost';
}

/** One renewal of `lease` in Redis, read as a LeaseCheck. */
export function leaseRenewal(
  log: SessionLog,
  lease: ClaimedLease,
  leaseMs: number,
): () => Promise<LeaseCheck> {
  return async () => {
    const generation = await log.renewLease(lease.sessionId, lease.consumerId, lease.generation, leaseMs);
    if (generation === undefined) return 'session_gone';
    if (generation === lease.generation) return 'held';
    return fencedBy(lease.generation, generation);
  };
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
