/**
 * The "stall" toggle. The SDK acknowledges a message once the app's listener has returned, so a
 * listener that waits here stops acks: the edge keeps sending until the flow window is full, then
 * waits, and the log keeps growing in Redis. Releasing the gate lets the waiting message through
 * and everything behind it follows, from exactly where it stopped.
 */
export class StallGate {
  #stalled: Promise<void> | undefined;
  #release: (() => void) | undefined;

  get stalled(): boolean {
    return this.#stalled !== undefined;
  }

  set(stalled: boolean): void {
    if (stalled && !this.#stalled) {
      this.#stalled = new Promise((resolve) => (this.#release = resolve));
    } else if (!stalled && this.#release) {
      this.#release();
      this.#stalled = this.#release = undefined;
    }
  }

  /** Resolves at once while open; while stalled, once the gate is released. */
  async passed(): Promise<void> {
    while (this.#stalled) await this.#stalled;
  }
}
