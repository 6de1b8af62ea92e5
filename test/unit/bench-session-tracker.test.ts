import { describe, expect, it } from 'vitest';
import { SessionTracker } from '../../bench/load/session-tracker.js';
import { makePayload, MESSAGE_BYTES, parsePayload } from '../../bench/lib/payload.js';
import { nowMicros } from '../../bench/lib/stats.js';

describe('bench payloads and loss/duplicate accounting', () => {
  it('makes 100-byte payloads that carry their sequence number and intended send time', () => {
    const payload = makePayload(41, 123_456_789);
    expect(payload).toHaveLength(MESSAGE_BYTES);
    expect(parsePayload(payload)).toEqual({ seq: 41, intendedMicros: 123_456_789 });
  });

  it('counts gaps and duplicates per session by sequence number', () => {
    const tracker = new SessionTracker();
    const now = nowMicros();
    for (const seq of [0, 1, 2]) tracker.record(0, makePayload(seq, now));
    tracker.record(0, makePayload(1, now)); // a duplicate
    tracker.record(0, makePayload(5, now)); // 3 and 4 skipped
    tracker.record(1, makePayload(0, now)); // sessions are independent
    const snapshot = tracker.snapshot();
    expect(snapshot).toMatchObject({ delivered: 5, duplicates: 1, gaps: 2 });
    expect(tracker.next.slice(0, 2)).toEqual([6, 1]);
    expect(snapshot.latency.count).toBe(5);
  });

  it('measures latency from the intended send time, not the arrival of the previous message', () => {
    const tracker = new SessionTracker();
    tracker.record(0, makePayload(0, nowMicros() - 250_000)); // meant to go 250 ms ago
    const { latency } = tracker.snapshot();
    expect(latency.p50).toBeGreaterThanOrEqual(250_000);
    expect(latency.p50).toBeLessThan(60_000_000);
  });

  it('keeps sequence expectations across a reset, so runs that follow still count exactly', () => {
    const tracker = new SessionTracker();
    tracker.record(0, makePayload(0, nowMicros()));
    tracker.reset();
    tracker.record(0, makePayload(0, nowMicros()));
    expect(tracker.snapshot()).toMatchObject({ delivered: 0, duplicates: 1, gaps: 0 });
  });
});
