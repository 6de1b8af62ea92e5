import type { BatchPayload, CompletePayload, ResetPayload } from '@holdfast/protocol';
import type { LiveNotification, ReadResult } from '@holdfast/session-log';
import { FlowWindow, type WindowLimits } from './flow-window.js';
import { HeldNotifications } from './held-notifications.js';
import { decideAfterRead } from './start-point.js';

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
  /**
   * The session is completed and every message up to its final offset has been sent (and
   * flushed): called once, after the last batch.
   */
  onComplete?(complete: CompletePayload): void;
}

/** How long to wait before re-reading after a failed read (Redis blip). */
const READ_RETRY_MS = 250;
/**
 * While messages are in flight, a catch-up read waits until this share of the window is free:
 * clients ack every few dozen messages, and a read per ack would replay a backlog in slivers
 * (a script call and a frame per 50 messages instead of per several hundred).
 */
const MIN_READ_SHARE = 4;

/** Batches handed to `send` in one event-loop turn, merged into one frame when contiguous. */
interface PendingFrame {
  readonly epoch: string;
  readonly from: number;
  readonly chunks: Array<readonly unknown[]>;
  count: number;
  bytes: number;
}

/**
 * Delivers one connection's session log in order, within the flow window.
 *
 * Two paths: a live notification that continues exactly where the connection is and fits the
 * window is forwarded as it came (no read). Anything else — a gap in offsets, a full window,
 * an epoch change, a resubscription — sets the cursor reading from the stream until it has
 * caught up with the highest head it has heard of. Nothing is buffered beyond what is in
 * flight, so memory does not grow with lag.
 *
 * What one event-loop turn sends goes out as one frame: a busy edge reads many notifications
 * per socket read, and a frame (Socket.IO encoding, WebSocket framing, a `writev`) per appended
 * batch was the largest cost per message. A quiet edge sends each at once (the next turn), so
 * batching grows with load and costs no latency without it.
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
  private pending: PendingFrame | undefined;
  private flushScheduled = false;
  private readonly minReadMessages: number;
  private readonly minReadBytes: number;
  /** Made when a notification is first held: an idle connection never holds one. */
  private held: HeldNotifications | undefined;
  /** The session's final offset in `epoch`, once it is known to be completed. */
  private finalOffset: number | undefined;
  private completeSent = false;

  constructor(
    private readonly deps: CursorDeps,
    limits: WindowLimits,
    start: { epoch: string; offset: number; head: number; finalOffset?: number },
  ) {
    this.epoch = start.epoch;
    this.nextOffset = start.offset;
    this.knownHead = start.head;
    if (start.finalOffset !== undefined) this.setFinal(start.finalOffset);
    this.window = new FlowWindow(limits, start.offset - 1);
    this.minReadMessages = Math.max(1, Math.floor(limits.messages / MIN_READ_SHARE));
    this.minReadBytes = Math.max(1, Math.floor(limits.bytes / MIN_READ_SHARE));
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

  /**
   * No more deliveries. What this turn already took from the window still goes out first, so
   * a notice that follows (session ended, drain) comes after every message before it.
   */
  stop(): void {
    this.flush();
    this.stopped = true;
    clearTimeout(this.retryTimer);
  }

  /**
   * The session was deleted: send what this connection was told of and has room for, from the
   * live notifications it holds (the stream is gone, and a read in flight will fail), then stop.
   * What `session_ended` may promise rests on this (docs/protocol.md, "Deletion").
   */
  finish(): void {
    if (!this.stopped && this.deps.mayDeliver()) {
      for (const slice of [...(this.held?.from(this.nextOffset) ?? [])]) {
        if (!this.window.fits(slice.data.length, slice.bytes)) break;
        this.send({ epoch: this.epoch, from: slice.from, data: slice.data }, slice.bytes);
      }
    }
    this.stop();
  }

  onLive(notification: LiveNotification): void {
    if (this.stopped) return;
    if (notification.kind === 'resync') {
      this.mustRead = true;
      this.pump();
      return;
    }
    if (notification.kind === 'completed') {
      // In another epoch the read tells what is true now; in this one the stream before the
      // completion is already announced or being read, so the cursor knows where to stop.
      if (notification.epoch === this.epoch) this.setFinal(notification.finalOffset);
      else this.mustRead = true;
      this.pump();
      this.maybeComplete();
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
      (this.held ??= new HeldNotifications()).hold(notification, this.window.room());
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

  /** Take a batch from the window now; it goes out with the rest of this turn's (see flush). */
  private send(batch: BatchPayload, bytes: number): void {
    this.window.recordSent(batch.from + batch.data.length - 1, bytes);
    this.nextOffset = batch.from + batch.data.length;
    this.held?.forget(this.nextOffset);
    const pending = this.pending;
    if (pending && pending.epoch === batch.epoch && pending.from + pending.count === batch.from) {
      pending.chunks.push(batch.data);
      pending.count += batch.data.length;
      pending.bytes += bytes;
    } else {
      this.flush();
      this.pending = {
        epoch: batch.epoch,
        from: batch.from,
        chunks: [batch.data],
        count: batch.data.length,
        bytes,
      };
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
    if (!this.full && this.windowFull()) {
      this.full = true;
      this.deps.onWindowFull?.();
    }
  }

  /** Send what this turn took from the window, as one frame. */
  private flush(): void {
    const pending = this.pending;
    if (!pending || this.stopped) return;
    this.pending = undefined;
    const data =
      pending.chunks.length === 1 ? (pending.chunks[0] as readonly unknown[]) : pending.chunks.flat();
    this.deps.sendBatch({ epoch: pending.epoch, from: pending.from, data }, pending.bytes);
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
          if (!this.worthReading(room)) break;
          this.mustRead = false;
          const result = await this.deps.read(this.nextOffset, room.messages, Math.max(room.bytes, 1));
          if (this.stopped) return;
          this.apply(result);
        }
      } while (this.readAgain && !this.stopped);
      this.maybeComplete();
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

  /** A read is worth a script call when the window has a fair share free, or nothing in flight. */
  private worthReading(room: { messages: number; bytes: number }): boolean {
    if (room.messages === 0) return false;
    if (this.window.messagesInFlight === 0) return true;
    return room.messages >= this.minReadMessages && room.bytes >= this.minReadBytes;
  }

  private setFinal(finalOffset: number): void {
    this.finalOffset = finalOffset;
    this.knownHead = Math.max(this.knownHead, finalOffset);
  }

  /** Everything up to the final offset was sent: flush it, then tell the connection, once. */
  private maybeComplete(): void {
    const finalOffset = this.finalOffset;
    if (finalOffset === undefined || this.completeSent || this.stopped) return;
    if (this.nextOffset <= finalOffset || !this.deps.mayDeliver()) return;
    this.completeSent = true;
    this.flush();
    this.deps.onComplete?.({ epoch: this.epoch, finalOffset });
  }

  private apply(result: ReadResult): void {
    this.knownHead = Math.max(result.head, result.epoch === this.epoch ? this.knownHead : 0);
    const reset = decideAfterRead({ epoch: this.epoch }, result);
    if (reset) {
      if (reset.newEpoch !== this.epoch) {
        this.held?.clear();
        this.finalOffset = undefined;
      }
      this.flush(); // what was sent before the reset arrives before it
      this.deps.sendReset(reset);
      this.epoch = reset.newEpoch;
      this.knownHead = result.head;
      this.nextOffset = reset.resumeFrom;
      this.window.restart(reset.resumeFrom - 1);
    }
    // The read is the truth about completion too: a notification missed (paused, resubscribed)
    // cannot leave a client waiting for an end that already came.
    if (result.finalOffset !== undefined) this.setFinal(result.finalOffset);
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
