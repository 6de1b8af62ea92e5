import { partitionOf } from './keys.js';
import { planLeaseBatches } from './lease-batches.js';
import { toHoldfastError } from './redis-errors.js';
import type { ScriptRunner } from './script-runner.js';

/** One caller's request in a batch: its session, and how to fail it. */
export interface BatchedRequest {
  readonly sessionId: string;
  readonly reject: (error: unknown) => void;
}

export interface TickBatcherOptions<T extends BatchedRequest> {
  readonly runner: ScriptRunner;
  /** Most requests in one script call. */
  readonly maxPerCall: number;
  /** Flushes in flight at once, each of at most maxPerCall requests. */
  readonly flushesInFlight: number;
  /**
   * Send one script call for these requests (all of one partition where keys must share a
   * slot) and settle each of them. Must write the call before it first awaits, so calls go out
   * in the order of the requests (see flush).
   */
  readonly call: (requests: T[]) => Promise<void>;
  /**
   * Flush this long after the first waiting request instead of on the next turn, so a call
   * carries what arrives over that time. Only for writes no caller's progress waits on (acks:
   * the connection's flow window moved when the edge took the ack, before it is stored).
   */
  readonly lingerMs?: number;
}

/**
 * A small group commit for per-session script calls that arrive together (a storm of
 * handshakes on one edge): what arrives in one event-loop turn goes out on the next, at most
 * maxPerCall requests per call, and, where a call's keys must share a slot (Redis Cluster),
 * only requests of one partition share a call (lease-batches.ts). While flushesInFlight are
 * out, requests wait and go together in the next ones.
 *
 * Order: requests are queued, flushed and sent in arrival order (flushes start in order and
 * each sends its calls without awaiting anything but the one cached cluster check), and an edge's
 * calls share one Redis connection; so Redis runs requests of one session in arrival order.
 */
export class TickBatcher<T extends BatchedRequest> {
  private readonly queue: T[] = [];
  private scheduled = false;
  private inFlight = 0;
  /** The pending flush's timer, while requests linger (TickBatcherOptions.lingerMs). */
  private lingerTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: TickBatcherOptions<T>) {}

  submit(request: T): void {
    this.queue.push(request);
    this.schedule();
  }

  /** Flush on the next turn (what else arrives in this one joins), when a flush slot is free. */
  private schedule(): void {
    if (this.scheduled || this.queue.length === 0 || this.inFlight >= this.options.flushesInFlight) return;
    this.scheduled = true;
    const flushNow = (): void => {
      this.scheduled = false;
      this.lingerTimer = undefined;
      void this.flush();
    };
    const { lingerMs } = this.options;
    if (lingerMs) this.lingerTimer = setTimeout(flushNow, lingerMs);
    else setImmediate(flushNow);
  }

  /**
   * Send everything waiting now, without its linger and past the flushesInFlight bound, and
   * resolve once those calls are answered: the connection is about to close, and a call written
   * after its QUIT would fail. Calls still go in request order.
   */
  async flushLingering(): Promise<void> {
    const flushes: Array<Promise<void>> = [];
    while (this.queue.length > 0) flushes.push(this.flush());
    this.cancelLinger();
    await Promise.all(flushes);
  }

  private cancelLinger(): void {
    if (this.lingerTimer === undefined) return;
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    this.scheduled = false;
  }

  private async flush(): Promise<void> {
    const { runner, maxPerCall, call } = this.options;
    const pending = this.queue.splice(0, maxPerCall);
    this.inFlight++;
    this.schedule(); // the rest of the queue, if a slot is free
    try {
      const onePartition = await runner.onePartitionPerCall();
      const { partitions } = runner.options;
      const batches = planLeaseBatches(
        pending.map((request) => partitionOf(request.sessionId, partitions)),
        maxPerCall,
        onePartition,
      );
      // On a cluster a flush may be a call per partition: all sent at once.
      await Promise.all(batches.map((batch) => call(batch.map((i) => pending[i] as T))));
    } catch (error) {
      const failure = toHoldfastError(error);
      for (const request of pending) request.reject(failure);
    } finally {
      this.inFlight--;
      this.schedule();
    }
  }
}
