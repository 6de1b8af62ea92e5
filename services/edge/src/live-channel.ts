/**
 * One connection's subscription to its session's live channel, including leaving it while the
 * client is stalled. Kept apart from delivery: the channel only brings hints (the stream is the
 * truth), and when to listen is a memory question, not an ordering one.
 */
import type { LiveNotification, LiveReceiver, LiveSubscriptions } from '@holdfast/session-log';

/** A connection whose window has stayed full this long leaves its live channel (see pause). */
const LIVE_PAUSE_AFTER_MS = 1000;
/** Retry of a failed re-subscription (Redis blip) while the connection lasts. */
const LIVE_RESUBSCRIBE_RETRY_MS = 250;

/** The owner listens on the channel as itself (no closure per connection). */
export interface LiveChannelOwner extends LiveReceiver {
  onNotification(notification: LiveNotification): void;
  /** Back on the channel after a pause: what was appended meanwhile was not announced. */
  onResubscribed(): void;
  /** True once the connection stopped delivering (a pause is pointless then). */
  isClosing(): boolean;
}

export class LiveChannel {
  /** The owner is on the channel now (then leaving it takes an `unlisten`). */
  private listening = false;
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
    return this.listening;
  }

  async subscribe(): Promise<void> {
    await this.live.listen(this.channel, this.owner);
    // The connection may have closed while Redis answered: leave at once, or the subscription
    // (and this connection, as its listener) would stay behind for good.
    if (this.stopped) {
      void this.leave();
      return;
    }
    this.listening = true;
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
    if (!this.listening) return;
    this.listening = false;
    void this.leave();
  }

  private leave(): Promise<void> {
    return this.live.unlisten(this.channel, this.owner);
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
    if (this.owner.isClosing() || this.paused || !this.listening) return;
    this.paused = true;
    this.listening = false;
    void this.leave();
  }

  private async resume(): Promise<void> {
    if (!this.paused || this.resuming || this.stopped) return;
    this.resuming = true;
    try {
      await this.live.listen(this.channel, this.owner);
      if (this.stopped) {
        void this.leave();
        return;
      }
      this.listening = true;
      this.paused = false;
      this.owner.onResubscribed();
    } catch {
      setTimeout(() => void this.resume(), LIVE_RESUBSCRIBE_RETRY_MS).unref();
    } finally {
      this.resuming = false;
    }
  }
}
