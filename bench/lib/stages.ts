import type { Histogram } from 'hdr-histogram-js';
import { newHistogram, percentiles, type Percentiles } from './histogram.js';
import { LoopMonitor, type LoopStats } from './loop-monitor.js';

/** One process's share of the per-message stage table: its stages, and its event loop. */
export interface ProcessStages {
  /** Stage name → latency percentiles, µs. */
  readonly stages: Record<string, Percentiles>;
  readonly loop: LoopStats;
}

/**
 * Per-stage latency histograms (µs) of one bench process and its event-loop monitor, reset
 * together when the measurement window starts and read together at its end.
 */
export class StageRecorder {
  private histograms = new Map<string, Histogram>();
  private readonly monitor = new LoopMonitor();

  record(stage: string, micros: number): void {
    let h = this.histograms.get(stage);
    if (!h) {
      h = newHistogram();
      this.histograms.set(stage, h);
    }
    h.recordValue(Math.max(1, Math.round(micros)));
  }

  reset(): void {
    this.histograms = new Map();
    this.monitor.reset();
  }

  read(): ProcessStages {
    const stages: Record<string, Percentiles> = {};
    for (const [name, h] of this.histograms) stages[name] = percentiles(h);
    return { stages, loop: this.monitor.read() };
  }
}

/** The intended send times (monotonic µs) of every bench payload quoted in `text`. */
export function intendedTimes(text: string): number[] {
  const times: number[] = [];
  // A payload is "<seq>:<intended µs>:<padding>" (lib/payload.ts), quoted in JSON.
  for (const match of text.matchAll(/"\d+:(\d+):/g)) times.push(Number(match[1]));
  return times;
}
