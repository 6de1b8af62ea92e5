import { describe, expect, it } from 'vitest';
import { sustains } from '../../bench/benchmarks/token-streams.js';
import { makePayload, parsePayload } from '../../bench/lib/payload.js';
import type { Row } from '../../bench/results.js';
import { runTokenStreams, type TokenStreamHost } from '../../bench/systems/token-streams.js';

interface Sent {
  readonly session: number;
  readonly intended: number;
  readonly bytes: number;
}

/**
 * The token-stream schedule's promises to the benchmark: one send in flight per session (an
 * agent awaits each append), every token stamped with an intended time that only moves forward
 * within its session, sizes in the configured range, and every session streaming.
 */
describe('token-stream schedule', () => {
  it('keeps one send in flight per session, in intended order, within the size range', async () => {
    const sessions = 40;
    const sent: Sent[] = [];
    const inFlight = new Map<number, number>();
    let maxInFlight = 0;
    let running = true;
    const host: TokenStreamHost = {
      running: () => running,
      // A host stalled long enough (a loaded machine) is saturated: the run stops, and what was
      // sent must still hold every property below.
      saturate: () => {
        running = false;
      },
      send: async (session, intended, bytes) => {
        const now = (inFlight.get(session) ?? 0) + 1;
        inFlight.set(session, now);
        maxInFlight = Math.max(maxInFlight, now);
        sent.push({ session, intended, bytes });
        // Acknowledged after the schedule's current tick: a session's next due token (one per
        // millisecond below) waits behind this one, never beside it.
        await Promise.resolve();
        inFlight.set(session, (inFlight.get(session) ?? 1) - 1);
        if (sent.length >= 2_000) running = false;
      },
    };
    // Fast tokens and short pauses so a test sees thousands of them in well under a second.
    await runTokenStreams(host, sessions, {
      msgPerSec: 1_000,
      minBytes: 30,
      maxBytes: 90,
      replyMs: [20, 60],
      pauseMs: [5, 20],
      seed: 3,
    });
    expect(sent.length).toBeGreaterThan(sessions);
    expect(maxInFlight).toBe(1);
    const last = new Map<number, number>();
    for (const s of sent) {
      expect(s.intended).toBeGreaterThanOrEqual(last.get(s.session) ?? 0);
      last.set(s.session, s.intended);
      expect(s.bytes).toBeGreaterThanOrEqual(30);
      expect(s.bytes).toBeLessThanOrEqual(90);
    }
  });

  it('pads a message to the size asked for, never cutting its head', () => {
    expect(makePayload(7, 123_456, 150)).toHaveLength(150);
    const tiny = makePayload(7, 123_456, 5);
    expect(parsePayload(tiny)).toEqual({ seq: 7, intendedMicros: 123_456 });
  });
});

describe('token-streams: whether a system sustained a session count', () => {
  const row = (p99Runs: number[], lost = 0, saturatedRuns: number[] = p99Runs.map(() => 0)): Row => {
    const summary = (runs: number[]) => {
      const sorted = [...runs].sort((a, b) => a - b);
      return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, max: sorted.at(-1)!, runs };
    };
    return {
      bench: 'token-streams',
      peer: 'holdfast',
      pattern: 'tokens',
      params: { sessions: 500, fsync: 'everysec' },
      metrics: {
        p99Ms: summary(p99Runs),
        lost: { median: lost, min: lost, max: lost, runs: [lost] },
        saturated: summary(saturatedRuns),
      },
    };
  };

  it('judges the median p99 of the repeats, so one noisy repeat does not stop a system', () => {
    expect(sustains(row([39, 45, 128]))).toBe(true);
    expect(sustains(row([45, 52, 60]))).toBe(false);
  });

  it('fails a count with any loss or any saturated repeat, whatever the p99', () => {
    expect(sustains(row([5, 6, 7], 1))).toBe(false);
    expect(sustains(row([5, 6, 7], 0, [0, 1, 0]))).toBe(false);
  });
});
