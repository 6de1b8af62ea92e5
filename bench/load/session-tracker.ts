import { parsePayload } from '../lib/payload.js';
import { newHistogram, percentiles, type Percentiles } from '../lib/histogram.js';
import { nowMicros } from '../lib/stats.js';

export interface TrackerSnapshot {
  readonly delivered: number;
  readonly duplicates: number;
  /** Messages skipped over (a later sequence number arrived first): lost unless redelivered. */
  readonly gaps: number;
  readonly latency: Percentiles;
}

/**
 * What the load clients received, for every session: delivered count, duplicates and gaps by
 * per-session sequence number, and latency from each message's intended send time in an
 * HdrHistogram (microseconds), so a stalled producer or server shows up in the tail.
 */
export class SessionTracker {
  /** Next sequence number expected per session. */
  readonly next: number[] = [];
  private delivered = 0;
  private duplicates = 0;
  private gaps = 0;
  private histogram = newHistogram();

  record(session: number, payload: string): void {
    const { seq, intendedMicros } = parsePayload(payload);
    const expected = this.next[session] ?? 0;
    if (seq < expected) {
      this.duplicates += 1;
      return;
    }
    if (seq > expected) this.gaps += seq - expected;
    this.next[session] = seq + 1;
    this.delivered += 1;
    this.histogram.recordValue(Math.max(1, nowMicros() - intendedMicros));
  }

  get deliveredCount(): number {
    return this.delivered;
  }

  /** Start counting afresh (sequence expectations are kept: they span runs). */
  reset(): void {
    this.delivered = 0;
    this.duplicates = 0;
    this.gaps = 0;
    this.histogram = newHistogram();
  }

  snapshot(): TrackerSnapshot {
    return {
      delivered: this.delivered,
      duplicates: this.duplicates,
      gaps: this.gaps,
      latency: percentiles(this.histogram),
    };
  }
}
