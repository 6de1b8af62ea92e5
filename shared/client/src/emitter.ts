/** Listener signatures by event name. */
export type EventMap<Events> = { [E in keyof Events]: (...args: never[]) => unknown };

type Args<F> = F extends (...args: infer A) => unknown ? A : never;

/**
 * A tiny typed event emitter that runs in browsers and Node alike (no `node:events`).
 *
 * `emit` calls listeners synchronously; an exception in one is rethrown asynchronously (an
 * uncaught error, as from a timer) so it is not lost and cannot break the caller's state.
 * `emitInOrder` awaits each listener in turn and rejects with the first failure: the session
 * uses it to run message handlers strictly one after the other.
 */
export class Emitter<Events extends EventMap<Events>> {
  private readonly listeners = new Map<keyof Events, Array<Events[keyof Events]>>();

  /** Adds a listener; returns a function that removes it again. */
  on<E extends keyof Events>(event: E, listener: Events[E]): () => void {
    const list = this.listeners.get(event) ?? [];
    this.listeners.set(event, [...list, listener]);
    return () => this.off(event, listener);
  }

  off<E extends keyof Events>(event: E, listener: Events[E]): void {
    const list = this.listeners.get(event);
    if (!list) return;
    const index = list.indexOf(listener);
    if (index >= 0) this.listeners.set(event, [...list.slice(0, index), ...list.slice(index + 1)]);
  }

  listenerCount(event: keyof Events): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  protected emit<E extends keyof Events>(event: E, ...args: Args<Events[E]>): void {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        (listener as (...a: Args<Events[E]>) => unknown)(...args);
      } catch (error) {
        setTimeout(() => {
          throw error;
        }, 0);
      }
    }
  }

  protected async emitInOrder<E extends keyof Events>(event: E, ...args: Args<Events[E]>): Promise<void> {
    // A snapshot, so a listener added or removed meanwhile does not shift the others.
    for (const listener of this.listeners.get(event) ?? []) {
      await (listener as (...a: Args<Events[E]>) => unknown)(...args);
    }
  }
}
