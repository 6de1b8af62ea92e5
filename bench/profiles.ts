import type { Fsync } from './lib/redis.js';

/** Sizes and durations of one run of the suite. */
export interface Profile {
  readonly name: 'quick' | 'full' | 'smoke';
  /** Repeats of every measurement (medians and ranges are over these). */
  readonly repeats: number;
  /** Discarded before each measurement. */
  readonly warmMs: number;
  readonly measureMs: number;
  readonly fsyncs: readonly Fsync[];
  readonly unicastSessions: readonly number[];
  readonly latencyRates: readonly number[];
  readonly latencySessions: number;
  readonly resumeSessions: number;
  readonly resumeMissed: readonly number[];
  readonly slowBacklogs: readonly number[];
  readonly idleConnections: readonly number[];
  readonly persistSessions: number;
  /** token-streams: the session counts tried, smallest first (each an LLM-like stream). */
  readonly tokenSessions: readonly number[];
}

export const PROFILES: Record<Profile['name'], Profile> = {
  /** A tiny run that proves the harness works (the smoke test). */
  smoke: {
    name: 'smoke',
    repeats: 1,
    warmMs: 300,
    measureMs: 700,
    fsyncs: ['everysec'],
    unicastSessions: [10],
    latencyRates: [2_000],
    latencySessions: 10,
    resumeSessions: 10,
    resumeMissed: [100],
    slowBacklogs: [0, 2_000],
    idleConnections: [50],
    persistSessions: 10,
    tokenSessions: [20],
  },
  /**
   * The default: every benchmark at small sizes, about three minutes (issue 16). The latency
   * rates stop at 20,000 msg/s: at 50,000 the durable peers saturate and each such step waits
   * out its drain; the full profile has every rate.
   */
  quick: {
    name: 'quick',
    repeats: 1,
    warmMs: 1_000,
    measureMs: 1_500,
    fsyncs: ['everysec', 'always'],
    unicastSessions: [100],
    latencyRates: [5_000, 20_000],
    latencySessions: 100,
    resumeSessions: 200,
    resumeMissed: [100, 1_000],
    slowBacklogs: [0, 10_000, 100_000],
    idleConnections: [1_000],
    persistSessions: 1_000,
    tokenSessions: [250, 1_000],
  },
  /** The published figures (docs/benchmarks.md). */
  full: {
    name: 'full',
    repeats: 3,
    // Two seconds: the first second of traffic through a fresh edge runs unoptimised code.
    warmMs: 2_000,
    measureMs: 3_000,
    fsyncs: ['everysec', 'always'],
    unicastSessions: [100, 1_000],
    latencyRates: [5_000, 20_000, 50_000, 100_000, 200_000],
    latencySessions: 100,
    resumeSessions: 1_000,
    resumeMissed: [100, 1_000, 20_000],
    slowBacklogs: [0, 10_000, 100_000, 1_000_000],
    idleConnections: [1_000, 5_000, 10_000],
    persistSessions: 1_000,
    tokenSessions: [250, 500, 1_000, 2_000, 3_000],
  },
};

/** In the order they run: the longest (resume-storm at full size) last. */
export const BENCHMARKS = [
  'unicast-max',
  'unicast-latency',
  'token-streams',
  'persist-floor',
  'slow-consumer',
  'idle-memory',
  'resume-storm',
] as const;
export type BenchmarkName = (typeof BENCHMARKS)[number];
