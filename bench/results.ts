import type { Summary } from './lib/stats.js';

/** One row of a benchmark table: a peer (system + producer pattern) under one condition. */
export interface Row {
  readonly bench: string;
  /** The system: holdfast, socket.io, socket.io-recovery, redis-raw. */
  readonly peer: string;
  /** The producer pattern (see bench/systems/producer-driver.ts). */
  readonly pattern: string;
  /** The condition: sessions, rate, backlog, fsync… (what this row is compared across peers by). */
  readonly params: Record<string, string | number>;
  /** Figures, each the median and range over the repeats. */
  readonly metrics: Record<string, Summary>;
  readonly notes?: string[];
}

export interface SuiteResult {
  readonly profile: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly command: string;
  readonly machine: Record<string, string | number>;
  readonly placement: Record<string, string>;
  /** Whether Holdfast ran compiled (dist/, as in production) or from TypeScript sources. */
  readonly code?: 'compiled' | 'source';
  /** What the load clients connected with (absent in results from before the option: socket.io-client). */
  readonly loadClient?: string;
  readonly rows: Row[];
  /** Benchmarks that failed (the others ran): their error, first lines. */
  readonly failures: Array<{ bench: string; error: string }>;
}
