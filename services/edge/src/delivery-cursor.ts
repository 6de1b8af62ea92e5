import type { BatchPayload, ResetPayload } from '@holdfast/protocol';
import type { LiveNotification, ReadResult } from '@holdfast/session-log';
import { FlowWindow, type WindowLimits } from './flow-window.js';

export interface CursorDeps {
  /** Read the session's log (the stream is the truth; notifications are only hints). */
  read(from: number, limit: number, maxBytes: number): Promise<ReadResult>;
  sendBatch(batch: BatchPayload, bytes: number): void;
  sendReset(reset: ResetPayload): void;
  /** False while this connection may not deliver (lease not confirmed, closing). */
  mayDeliver(): boolean;
  /** A read failed for good (session ended, …): the connection ends. */
  onFatal(error: unknown): void;
  /** The window just filled: nothing more goes out until the client acks. */
  onWindowFull?(): void;
  /** An ack made room again after the window had filled. */
  onWindowOpen?(): void;
}

/** How long to wait before re-reading after a failed read (Redis blip). */
const READ_RETRY_MS = 250;

/**
 * Delivers one connection's session log in order, within the flow window.
 *
 * Two paths: a live notification that continues exactly where the connection is and fits the
 * window is forwarded as it came (one frame per appended batch, no read). Anything else —
 * a gap in offsets, a full window, an epoch change, a resubscription — sets the cursor
 * reading from the stream until it has caught up with the highest head it has heard of.
 * Nothing is buffered beyond what is in flight, so memory does not grow with lag.
 */
export class DeliveryCursor {
  private epoch: string;
  private nextOffset: number;
  private knownHead: number;
  private readonly window: FlowWindow;
  private reading = false;
  private readAgain = false;
  private mustRead = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private full = false;

  constructor(
    private readonly deps: CursorDeps,
    limits: WindowLimits,
    start: { epoch: string; offset: number; head: number },
  ) {
    this.epoch = start.epoch;
    this.nextOffset = start.offset;
    this.knownHead = start.head;
    this.window = new FlowWindow(limits, start.offset - 1);
  }

  get position(): {
    epoch: string;
    nextOffset: number;
    acked: number;
    inFlight: number;
    inFlightBytes: number;
  } {
    return {
      epoch: this.epoch,
      nextOffset: this.nextOffset,
      acked: this.window.lastAcked,
      inFlight: this.window.messagesInFlight,
      inFlightBytes: this.window.inFlightBytes,
    };
  }

  start(): void {
    this.pump();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
  }

  onLive(notification: LiveNotification): void {
    if (this.stopped) return;
    if (notification.kind === 'resync') {
      this.mustRead = true;
      this.pump();
      return;
    }
    if (notification.kind !== 'entries') return;
    if (notification.epoch !== this.epoch) {
      this.mustRead = true; // the read reports the new epoch and the reset to send
      this.pump();
      return;
    }
    const last = notification.from + notification.count - 1;
    if (notification.count === 0 || last < this.nextOffset) return; // already delivered
    this.knownHead = Math.max(this.knownHead, last);
    const canForward =
      !this.reading &&
      !this.mustRead &&
      notification.from === this.nextOffset &&
      this.window.fits(notification.count, notification.bytes) &&
      this.deps.mayDeliver();
    if (canForward) {
      this.send(
        { epoch: this.epoch, from: notification.from, data: notification.data() },
        notification.bytes,
      );
    } else {
      this.pump();
    }
  }

  /**
   * A cumulative ack from the client. Returns false for an ack at or before the last one;
   * throws `invalid_ack` for an offset never delivered.
   */
  onAck(offset: number): boolean {
    const advanced = this.window.recordAck(offset);
    if (advanced) {
      if (this.full && !this.windowFull()) {
        this.full = false;
        this.deps.onWindowOpen?.();
      }
      this.pump();
    }
    return advanced;
  }

  /** Deliver again after `mayDeliver` turned true (e.g. the lease was confirmed). */
  resume(): void {
    this.pump();
  }

  private send(batch: BatchPayload, bytes: number): void {
    this.window.recordSent(batch.from + batch.data.length - 1, bytes);
    this.nextOffset = batch.from + batch.data.length;
    this.deps.sendBatch(batch, bytes);
    if (!this.full && this.windowFull()) {
      this.full = true;
      this.deps.onWindowFull?.();
    }
  }

  private windowFull(): boolean {
    const room = this.window.room();
    return room.messages === 0 || room.bytes === 0;
  }

  private pump(): void {
    if (this.stopped) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    void this.readLoop();
  }

  private async readLoop(): Promise<void> {
    this.reading = true;
    try {
      do {
        this.readAgain = false;
        while (
          !this.stopped &&
          (this.mustRead || this.nextOffset <= this.knownHead) &&
          this.deps.mayDeliver()
        ) {
          const room = this.window.room();
          if (room.messages === 0) break;
          this.mustRead = false;
          const result = await this.deps.read(this.nextOffset, room.messages, Math.max(room.bytes, 1));
          if (this.stopped) return;
          this.apply(result);
        }
      } while (this.readAgain && !this.stopped);
    } catch (error) {
      if (this.stopped) return;
      if (isRetryable(error)) {
        this.mustRead = true;
        this.retryTimer = setTimeout(() => this.pump(), READ_RETRY_MS);
      } else {
        this.deps.onFatal(error);
      }
    } finally {
      this.reading = false;
    }
  }

  private apply(result: ReadResult): void {
    this.knownHead = Math.max(result.head, result.epoch === this.epoch ? this.knownHead : 0);
    if (result.epoch !== this.epoch || result.trimmed) {
      this.deps.sendReset({
        reason: result.epoch !== this.epoch ? 'epoch_changed' : 'trimmed',
        oldEpoch: this.epoch,
        newEpoch: result.epoch,
        firstAvailable: result.firstAvailable,
        resumeFrom: result.firstAvailable,
      });
      this.epoch = result.epoch;
      this.knownHead = result.head;
      this.nextOffset = result.firstAvailable;
      this.window.restart(result.firstAvailable - 1);
    }
    const entries = result.entries.filter((entry) => entry.offset >= this.nextOffset);
    const first = entries[0];
    if (!first) return;
    if (first.offset !== this.nextOffset) {
      // Cannot happen without trimming (handled above); never deliver across a gap.
      this.mustRead = true;
      return;
    }
    const data = entries.map((entry) => entry.data);
    const bytes = entries.reduce((sum, entry) => sum + entry.bytes, 0);
    this.send({ epoch: this.epoch, from: first.offset, data }, bytes);
  }
}

function isRetryable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === true;
}
