/**
 * One connection's subscription to its session's live channel, including leaving it while the
 * client is stalled. Kept apart from delivery: the channel only brings hints (the stream is the
 * truth), and when to listen is a memory question, not an ordering one.
 */
import type { LiveNotification, LiveSubscriptions } from '@holdfast/session-log';

/** A connection whose window has stayed full this long leaves its live channel (see pause). */
const LIVE_PAUSE_AFTER_MS = 1000;
/** Retry of a failed re-subscription (Redis blip) while the connection lasts. */
const LIVE_RESUBSCRIBE_RETRY_MS = 250;

export interface LiveChannelOwner {
  onNotification(notification: LiveNotification): void;
  /** Back on the channel after a pause: what was appended meanwhile was not announced. */
  onResubscribed(): void;
  /** True once the connection stopped delivering (a pause is pointless then). */
  isClosing(): boolean;
}

export class LiveChannel {
  private unsubscribe: (() => Promise<void>) | undefined;
  private pauseTimer: NodeJS.Timeout | undefined;
  /** Off the channel while the window stays full (a stalled client). */
  private paused = false;
  private resuming = false;
  private stopped = false;

  constructor(
    private readonly live: LiveSubscriptions,
    private readonly channel: string,
    private readonly owner: LiveChannelOwner,
  ) {}

  /** On the channel now (not paused, not stopped): an `ended` notice can still reach us. */
  get subscribed(): boolean {
    return this.unsubscribe !== undefined;
  }

  async subscribe(): Promise<void> {
    const unsubscribe = await this.subscribeOnce();
    // The connection may have closed while Redis answered: leave at once, or the subscription
    // (and this connection, through its listener) would stay behind for good.
    if (this.stopped) {
      void unsubscribe();
      return;
    }
    this.unsubscribe = unsubscribe;
  }

  /** The window just filled: leave the channel if it stays full for LIVE_PAUSE_AFTER_MS. */
  onWindowFull(): void {
    this.pauseTimer ??= setTimeout(() => this.pause(), LIVE_PAUSE_AFTER_MS);
    this.pauseTimer.unref();
  }

  /** An ack made room: stay on the channel, or come back to it. */
  onWindowOpen(): void {
    clearTimeout(this.pauseTimer);
    this.pauseTimer = undefined;
    if (this.paused) void this.resume();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.pauseTimer);
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = undefined;
    void unsubscribe?.();
  }

  private subscribeOnce(): Promise<() => Promise<void>> {
    return this.live.subscribe(this.channel, (n) => this.owner.onNotification(n));
  }

  /**
   * A client whose window has stayed full needs no live notifications: none could be
   * forwarded, and receiving and dropping every appended batch for a stalled client is what
   * made an edge's memory grow with the backlog. So the connection leaves its live channel
   * until an ack makes room, then subscribes again and reads the stream from where it is,
   * as at start (nothing appended meanwhile is missed: the read comes after the subscription).
   */
  private pause(): void {
    this.pauseTimer = undefined;
    const unsubscribe = this.unsubscribe;
    if (this.owner.isClosing() || this.paused || !unsubscribe) return;
    this.paused = true;
    this.unsubscribe = undefined;
    void unsubscribe();
  }

  private async resume(): Promise<void> {
    if (!this.paused || this.resuming || this.stopped) return;
    this.resuming = true;
    try {
      const unsubscribe = await this.subscribeOnce();
      if (this.stopped) {
        void unsubscribe();
        return;
      }
      this.unsubscribe = unsubscribe;
      this.paused = false;
      this.owner.onResubscribed();
    } catch {
      setTimeout(() => void this.resume(), LIVE_RESUBSCRIBE_RETRY_MS).unref();
    } finally {
      this.resuming = false;
    }
  }
}
