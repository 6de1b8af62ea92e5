import { ErrorCode, isHoldfastError } from '@holdfast/protocol';

/** How long to wait before retrying an ack write that failed on a Redis blip. */
const RETRY_MS = 250;

/** Where a connection's acks are stored: the connection itself (methods, not closures). */
export interface AckSink {
  writeAck(epoch: string, offset: number): Promise<void>;
  /** The write was refused for good (replaced, session ended): the connection ends. */
  onFatal(error: unknown): void;
}

/**
 * Persists one connection's acks, coalesced: at most one write in flight, and only the latest
 * offset is written next. Acks are cumulative and the stored value monotonic, so skipping
 * intermediate ones loses nothing.
 */
export class AckWriter {
  private epoch = '';
  private latest = 0;
  private persisted = 0;
  private writing = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private flushWaiters: Array<() => void> = [];
  private stopped = false;
  private closing = false;

  constructor(private readonly sink: AckSink) {}

  submit(epoch: string, offset: number): void {
    if (this.closing) return;
    if (epoch !== this.epoch) {
      // A new epoch (after a reset): its offsets start over.
      this.epoch = epoch;
      this.latest = 0;
      this.persisted = 0;
    }
    if (offset <= this.latest) return;
    this.latest = offset;
    void this.writeLoop();
  }

  /** Resolves when everything submitted so far is stored, or the writer has given up. */
  flush(): Promise<void> {
    if (this.persisted >= this.latest || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push(resolve));
  }

  /**
   * The connection is gone: take no more acks, but still store the ones already taken (an ack
   * that arrived just before a disconnect is as real as any), giving up after `limitMs`.
   */
  finish(limitMs: number): void {
    this.closing = true;
    const timer = setTimeout(() => this.stop(), limitMs);
    timer.unref();
    void this.flush().then(() => {
      clearTimeout(timer);
      this.stop();
    });
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.settleWaiters();
  }

  private async writeLoop(): Promise<void> {
    if (this.writing || this.stopped) return;
    this.writing = true;
    try {
      while (this.latest > this.persisted && !this.stopped) {
        const { epoch, latest: offset } = this;
        await this.sink.writeAck(epoch, offset);
        if (epoch === this.epoch) this.persisted = Math.max(this.persisted, offset);
      }
      this.settleWaiters();
    } catch (error) {
      if (isHoldfastError(error) && error.retryable) {
        this.retryTimer = setTimeout(() => void this.writeLoop(), RETRY_MS);
      } else if (isHoldfastError(error, ErrorCode.EpochMismatch)) {
        // The epoch changed under this ack: it means nothing any more.
        this.persisted = this.latest;
        this.settleWaiters();
      } else {
        this.stopped = true;
        this.settleWaiters();
        this.sink.onFatal(error);
      }
    } finally {
      this.writing = false;
    }
  }

  private settleWaiters(): void {
    if (this.persisted < this.latest && !this.stopped) return;
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    for (const waiter of waiters) waiter();
  }
}
