import type { HoldfastClientError } from './client-error.js';
import { nextRetryWait, type RetryStrategy } from './retry-strategy.js';

type Timer = ReturnType<typeof setTimeout>;

/**
 * When and where the session connects next: rotates through the edge URLs, counts failures in
 * a row for the retry strategy (reset by progress, not merely by a connection opening: a
 * connection that opens and fails the same message again must keep backing off), and keeps the
 * one pending retry timer.
 */
export class ReconnectSchedule {
  private attempts = 0;
  /** Consecutive failures without progress: the retry strategy's `attempt`. */
  private failures = 0;
  /** A listener or the delivery contract failed and the app has not made progress since. */
  private stalled = false;
  private everOpen = false;
  private timer: Timer | undefined;

  constructor(
    private readonly urls: readonly string[],
    private readonly strategy: RetryStrategy,
    private readonly strategyThrew: (error: unknown) => void,
  ) {}

  /** The URL for the next attempt (round robin). */
  nextUrl(): string {
    return this.urls[this.attempts++ % this.urls.length] as string;
  }

  /** What the session is while it waits: it had a connection before, or never. */
  get waitingState(): 'resuming' | 'connecting' {
    return this.everOpen ? 'resuming' : 'connecting';
  }

  opened(): void {
    if (!this.stalled) this.failures = 0;
    this.everOpen = true;
  }

  /** The app handled something: whatever failed before is behind us. */
  progressed(): void {
    this.stalled = false;
    this.failures = 0;
  }

  /** The connection was dropped over something the app has not got past yet. */
  stall(): void {
    this.stalled = true;
  }

  /** Schedules `connect` after the strategy's wait for `cause`; false when the strategy gave up. */
  retry(cause: HoldfastClientError, connect: () => void): boolean {
    const wait = nextRetryWait(this.strategy, ++this.failures, cause, this.strategyThrew);
    if (wait === null) return false;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      connect();
    }, wait);
    return true;
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
