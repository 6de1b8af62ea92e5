/**
 * Lease fencing on the edge, in one place: how every connection keeps its consumer lease
 * confirmed (LeaseKeeper), renewed for the whole edge at once (EdgeLeaseRenewer). A connection
 * delivers and acks only under a confirmed lease, so a stale connection can never overwrite a
 * newer one's progress. The rule that reads a generation that is not the connection's own is the
 * session log's (`classifyLease`, `classifyFencedAck` in lease-status.ts), beside the scripts
 * that hand generations out.
 */
import { performance } from 'node:perf_hooks';
import { classifyLease, type ConsumerLeases, type HeldLease, type LeaseStatus } from '@holdfast/session-log';

/** How a lease that is no longer this connection's was lost. */
export type LeaseLoss = Extract<LeaseStatus, 'fenced' | 'rolled_back'>;

type LeaseLinks = Pick<ConsumerLeases, 'renewLease' | 'renewLeases'>;

/** The connection a lease is kept for: methods of its own, not a closure per callback. */
export interface LeaseHolder {
  /** Confirmed again after it had run out: delivery may resume. */
  onLeaseConfirmed(): void;
  /** No longer this connection's (or its session is gone). */
  onLeaseLost(why: Exclude<LeaseStatus, 'held'>): void;
}

/**
 * Renews the leases of all the edge's connections together: one timer, and one batch renewal
 * (a few Redis calls, LEASE_RENEW_BATCH leases each; on a Redis Cluster one call per partition
 * that has leases, so every call is one slot) every third of a lease period, however many
 * connections are open. Idle connections then cost Redis a few calls per edge, not one per
 * connection. Each answer is read exactly as a single renewal would be.
 */
export class EdgeLeaseRenewer {
  private readonly keepers = new Set<LeaseKeeper>();
  private readonly timer: NodeJS.Timeout;
  private renewing = false;

  constructor(
    private readonly links: LeaseLinks,
    readonly leaseMs: number,
    /**
     * Which leases are renewed (and may fail) together. On a Redis Cluster the edge passes each
     * session's slot, so a shard that fails over stalls the renewals of its own sessions only,
     * not of every session on the edge (the session log would split one call per partition
     * anyway); on a server every lease shares one group.
     */
    private readonly groupOf: (sessionId: string) => number = () => 0,
  ) {
    this.timer = setInterval(() => void this.renewAll(), Math.max(50, Math.floor(leaseMs / 3)));
    this.timer.unref();
  }

  /** Keep `lease` confirmed from now on (the claim that returned it counts as a confirmation). */
  keep(lease: HeldLease, holder: LeaseHolder): LeaseKeeper {
    const keeper = new LeaseKeeper(lease, this, holder);
    this.keepers.add(keeper);
    return keeper;
  }

  /** Connections whose lease this edge keeps. */
  get size(): number {
    return this.keepers.size;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** @internal LeaseKeeper's: no more renewals for it. */
  release(keeper: LeaseKeeper): void {
    this.keepers.delete(keeper);
  }

  /** @internal LeaseKeeper's: one renewal, for a lease found out of date between rounds. */
  async renewOne(lease: HeldLease): Promise<LeaseStatus> {
    const current = await this.links.renewLease(
      lease.sessionId,
      lease.consumerId,
      lease.generation,
      this.leaseMs,
    );
    return classifyLease(lease.generation, current);
  }

  private async renewAll(): Promise<void> {
    // A round still waiting on Redis is enough; its leases run out if Redis never answers.
    if (this.renewing || this.keepers.size === 0) return;
    this.renewing = true;
    const groups = new Map<number, LeaseKeeper[]>();
    for (const keeper of this.keepers) {
      const group = this.groupOf(keeper.sessionId);
      const members = groups.get(group);
      if (members) members.push(keeper);
      else groups.set(group, [keeper]);
    }
    const askedAt = performance.now();
    try {
      await Promise.all([...groups.values()].map((keepers) => this.renewGroup(keepers, askedAt)));
    } finally {
      this.renewing = false;
    }
  }

  private async renewGroup(keepers: readonly LeaseKeeper[], askedAt: number): Promise<void> {
    try {
      const answers = await this.links.renewLeases(keepers, this.leaseMs);
      keepers.forEach((keeper, i) => keeper.settle(classifyLease(keeper.generation, answers[i]), askedAt));
    } catch {
      // Redis (or this group's shard) unreachable: those leases simply run out; their delivery
      // pauses until a renewal succeeds.
    }
  }
}

/**
 * Keeps one connection's consumer lease confirmed. A connection delivers only while its lease
 * was confirmed less than `leaseMs` ago, measured on the monotonic clock, which keeps running
 * while a process is stopped: an edge frozen (SIGSTOP, GC pause, VM migration) past its lease
 * wakes up unable to deliver until Redis confirms it still holds the newest generation; if a
 * newer connection took over meanwhile, it learns it is replaced instead. Confirmations come
 * from the edge's rounds, or from a renewal of its own when the lease is found out of date.
 */
export class LeaseKeeper implements HeldLease {
  /** The lease's own fields, held here rather than in an object of their own. */
  readonly sessionId: string;
  readonly consumerId: string;
  readonly generation: number;
  private confirmedAt = performance.now();
  private checking = false;
  private stopped = false;

  constructor(
    lease: HeldLease,
    private readonly renewer: EdgeLeaseRenewer,
    private readonly holder: LeaseHolder,
  ) {
    this.sessionId = lease.sessionId;
    this.consumerId = lease.consumerId;
    this.generation = lease.generation;
  }

  /** True while this connection may deliver. */
  isValid(): boolean {
    const valid = performance.now() - this.confirmedAt < this.renewer.leaseMs;
    if (!valid) void this.renewNow();
    return valid;
  }

  stop(): void {
    this.stopped = true;
    this.renewer.release(this);
  }

  /** @internal An answer about this lease, to a question asked at `askedAt` (monotonic ms). */
  settle(status: LeaseStatus, askedAt: number): void {
    if (this.stopped) return;
    if (status === 'held') {
      const wasValid = performance.now() - this.confirmedAt < this.renewer.leaseMs;
      // An older question answered late must not move the confirmation back.
      this.confirmedAt = Math.max(this.confirmedAt, askedAt);
      if (!wasValid) this.holder.onLeaseConfirmed();
      return;
    }
    this.stop();
    this.holder.onLeaseLost(status);
  }

  private async renewNow(): Promise<void> {
    if (this.checking || this.stopped) return;
    this.checking = true;
    const askedAt = performance.now();
    try {
      this.settle(await this.renewer.renewOne(this), askedAt);
    } catch {
      // Redis unreachable: the lease simply runs out; delivery pauses until a check succeeds.
    } finally {
      this.checking = false;
    }
  }
}
