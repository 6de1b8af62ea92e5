type Timer = ReturnType<typeof setTimeout>;

/**
 * Decides when to acknowledge: after `everyMessages` handled messages, or `everyMs` after the
 * first one not yet acknowledged, whichever comes first. Acks are cumulative, so the flush
 * callback just sends the latest handled position; nothing is queued here.
 */
export class AckBatcher {
  private count = 0;
  private limit: number;
  private timer: Timer | undefined;
  private stopped = false;
  private held = false;

  constructor(
    private readonly flush: () => void,
    private readonly everyMessages: number,
    private readonly everyMs: number,
  ) {
    this.limit = everyMessages;
  }

  /**
   * The edge stops sending when `windowMessages` are unacknowledged: ack at least every half
   * window, so delivery never waits for the timer.
   */
  setWindow(windowMessages: number): void {
    this.limit = Math.max(1, Math.min(this.everyMessages, Math.floor(windowMessages / 2)));
  }

  noteHandled(messages = 1): void {
    if (this.stopped) return;
    this.count += messages;
    if (this.held) return;
    if (this.count >= this.limit) this.flushNow();
    else this.timer ??= setTimeout(() => this.flushNow(), this.everyMs);
  }

  /** The edge dropped an event for its rate limit: send nothing for `ms`, then flush. */
  holdFor(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.held = true;
    this.timer = setTimeout(() => {
      this.held = false;
      this.flushNow();
    }, ms);
  }

  flushNow(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.held = false;
    this.count = 0;
    this.flush();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
