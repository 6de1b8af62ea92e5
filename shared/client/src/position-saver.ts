import type { LogPosition } from '@holdfast/protocol';
import type { PositionStore } from './position-store.js';

/**
 * Writes a session's position to its store, coalesced: at most one save in flight, and the
 * next one writes only the latest position. So an async store never sees saves overtake each
 * other (an older position cannot overwrite a newer one), and a slow one is not flooded.
 */
export class PositionSaver {
  private latest: LogPosition | undefined;
  private written: LogPosition | undefined;
  private saving: Promise<void> | undefined;

  constructor(
    private readonly store: PositionStore,
    private readonly sessionId: string,
    private readonly onError: (error: unknown) => void,
  ) {}

  save(position: LogPosition): void {
    this.latest = position;
    if (this.saving || position === this.written) return;
    const saving = this.writeLoop();
    this.saving = saving;
    void saving.then(() => {
      if (this.saving !== saving) return;
      this.saving = undefined;
      if (this.latest) this.save(this.latest); // a position saved between the loop's end and now
    });
  }

  /** Resolves when everything saved so far is written (or failed and was reported). */
  async flush(): Promise<void> {
    while (this.saving) await this.saving;
  }

  private async writeLoop(): Promise<void> {
    while (this.latest && this.latest !== this.written) {
      const position = this.latest;
      try {
        await this.store.save(this.sessionId, position);
      } catch (error) {
        this.onError(error);
      }
      this.written = position;
    }
  }
}
