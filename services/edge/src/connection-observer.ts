/**
 * What the edge's metrics need to know about one connection, kept beside it so the connection
 * only reports events: the highest head heard of (for its lag), whether its window is full,
 * and when each recent live entry became known (for delivery latency).
 */
import type { BatchPayload } from '@holdfast/protocol';
import type { LiveNotification } from '@holdfast/session-log';
import type { EdgeMetrics } from './metrics.js';

/** Live notifications remembered per connection; older ones are delivered or read again. */
const NOTED_RANGES = 64;

interface NotedRange {
  readonly from: number;
  readonly end: number;
  readonly at: number;
}

export class ConnectionObserver {
  private head = 0;
  private acked = 0;
  private full = false;
  /** Made on the first live notification: an idle connection hears none. */
  private noted: NotedRange[] | undefined;

  constructor(private readonly metrics: EdgeMetrics) {}

  /** head - acked: messages this connection's client has not acknowledged yet. */
  get lag(): number {
    return Math.max(0, this.head - this.acked);
  }

  get stalled(): boolean {
    return this.full;
  }

  started(head: number, acked: number): void {
    this.head = Math.max(this.head, head);
    this.acked = acked;
  }

  onLive(notification: LiveNotification): void {
    if (notification.kind !== 'entries') return;
    const end = notification.from + notification.count - 1;
    this.head = Math.max(this.head, end);
    // From the entries' stored time (Redis's clock, so it assumes clocks kept in step, as NTP
    // does), or, from an older script without it, their arrival: the stored time plus the hop.
    const noted = (this.noted ??= []);
    noted.push({ from: notification.from, end, at: notification.storedAt ?? Date.now() });
    if (noted.length > NOTED_RANGES) noted.shift();
  }

  onBatch(batch: BatchPayload): void {
    const last = batch.from + batch.data.length - 1;
    this.head = Math.max(this.head, last);
    this.metrics.messagesDelivered.inc(batch.data.length);
    const noted = this.noted;
    if (!noted || noted.length === 0) return;
    const now = Date.now();
    for (const range of noted) {
      const overlap = Math.min(range.end, last) - Math.max(range.from, batch.from) + 1;
      const seconds = Math.max(0, now - range.at) / 1000;
      for (let i = 0; i < overlap; i++) this.metrics.deliveryLatency.observe(seconds);
    }
    while (noted.length > 0 && (noted[0]?.end ?? Infinity) <= last) noted.shift();
  }

  onAck(offset: number): void {
    this.acked = Math.max(this.acked, offset);
  }

  /** A reset starts the count again in a new epoch. */
  onReset(resumeFrom: number): void {
    if (this.noted) this.noted.length = 0;
    this.head = resumeFrom - 1;
    this.acked = resumeFrom - 1;
  }

  onWindowFull(): void {
    this.full = true;
  }

  onWindowOpen(): void {
    this.full = false;
  }
}
