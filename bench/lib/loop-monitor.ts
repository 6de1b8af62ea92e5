import {
  constants,
  monitorEventLoopDelay,
  PerformanceObserver,
  type IntervalHistogram,
} from 'node:perf_hooks';

/** What held up one process's event loop during a window: its delay, and GC pauses by kind. */
export interface LoopStats {
  /** Event-loop delay (perf_hooks, 1 ms resolution: a timer that should fire every ms), ms. */
  readonly delayP50Ms: number;
  readonly delayP99Ms: number;
  readonly delayMaxMs: number;
  /** GC pauses in the window: count, summed and longest, ms; `major` = mark-compact. */
  readonly gcCount: number;
  readonly gcTotalMs: number;
  readonly gcMaxMs: number;
  readonly gcMajorCount: number;
}

/**
 * Event-loop delay and GC pauses of this process over a window (start, then read). Both run
 * inside the measured process, so they cost it a little CPU: a 1 ms timer and one callback per
 * GC, the same for every system measured.
 */
export class LoopMonitor {
  private delay: IntervalHistogram = monitorEventLoopDelay({ resolution: 1 });
  private gcCount = 0;
  private gcTotalMs = 0;
  private gcMaxMs = 0;
  private gcMajorCount = 0;
  private readonly observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      this.gcCount += 1;
      this.gcTotalMs += entry.duration;
      this.gcMaxMs = Math.max(this.gcMaxMs, entry.duration);
      const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) this.gcMajorCount += 1;
    }
  });

  constructor() {
    this.observer.observe({ entryTypes: ['gc'] });
    this.delay.enable();
  }

  /** Start a new window. */
  reset(): void {
    this.delay.reset();
    this.gcCount = 0;
    this.gcTotalMs = 0;
    this.gcMaxMs = 0;
    this.gcMajorCount = 0;
  }

  /** The window so far. */
  read(): LoopStats {
    const ms = (ns: number): number => (Number.isFinite(ns) ? ns / 1e6 : NaN);
    return {
      delayP50Ms: ms(this.delay.percentile(50)),
      delayP99Ms: ms(this.delay.percentile(99)),
      delayMaxMs: ms(this.delay.max),
      gcCount: this.gcCount,
      gcTotalMs: this.gcTotalMs,
      gcMaxMs: this.gcMaxMs,
      gcMajorCount: this.gcMajorCount,
    };
  }

  stop(): void {
    this.delay.disable();
    this.observer.disconnect();
  }
}
