/**
 * Runs work items strictly one after the other, in arrival order: the next starts when the
 * previous one's promise settled. `clear()` drops what has not started (the connection it came
 * from is gone, and the edge delivers it again on the next one); the item running finishes.
 * The handler must not throw: it reports its own failures.
 */
export class DeliveryQueue<Item> {
  private items: Item[] = [];
  private running: Promise<void> | undefined;

  constructor(private readonly handle: (item: Item) => Promise<void>) {}

  push(items: readonly Item[]): void {
    this.items.push(...items);
    if (this.running || this.items.length === 0) return;
    // Cleared by the promise itself, never by the loop: a loop that ends synchronously would
    // clear the field before it is set and leave a settled promise behind.
    const running = this.drain();
    this.running = running;
    void running.then(() => {
      if (this.running !== running) return;
      this.running = undefined;
      this.push([]); // items pushed between the loop's end and now
    });
  }

  clear(): void {
    this.items = [];
  }

  /** Resolves once nothing is running (after `clear()`, once the item in progress finished). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    for (let item = this.items.shift(); item !== undefined; item = this.items.shift()) {
      try {
        await this.handle(item);
      } catch {
        // The handler reports its own failures; one that escapes must not stop the queue.
      }
    }
  }
}
