import type { AppendTrace } from '@holdfast/session-log';
import type { Histogram } from 'hdr-histogram-js';
import { newHistogram } from '../lib/histogram.js';
import type { LoopStats } from '../lib/loop-monitor.js';
import { summarize } from '../lib/stats.js';

/** The stages of an append's trace, in order (append-trace.ts), as named in the table. */
const TRACE_STAGES: ReadonlyArray<[string, keyof AppendTrace, keyof AppendTrace]> = [
  ['call → enqueued', 'calledAt', 'enqueuedAt'],
  ['enqueued → flush started', 'enqueuedAt', 'flushStartedAt'],
  ['flush started → script sent', 'flushStartedAt', 'sentAt'],
  ['script sent → reply', 'sentAt', 'repliedAt'],
  ['reply → caller resolved', 'repliedAt', 'resolvedAt'],
];

/** Per-stage latency histograms (µs) of one probe window, printed as a table in ms. */
export class StageTable {
  private readonly stages = new Map<string, Histogram>();
  private readonly flushCalls = newHistogram();
  loop: LoopStats | undefined;
  /** CPU time of the whole probe process per message sent in the window (user + system). */
  cpuMicrosPerMessage = NaN;

  constructor(readonly name: string) {}

  /** p50 and p99 of one stage, ms (NaN when not recorded). */
  percentilesMs(stage: string): { p50: number; p99: number } {
    const h = this.stages.get(stage);
    if (!h) return { p50: NaN, p99: NaN };
    return { p50: h.getValueAtPercentile(50) / 1000, p99: h.getValueAtPercentile(99) / 1000 };
  }

  record(stage: string, ms: number): void {
    let histogram = this.stages.get(stage);
    if (!histogram) {
      histogram = newHistogram();
      this.stages.set(stage, histogram);
    }
    histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  recordTrace(trace: AppendTrace): void {
    for (const [stage, from, to] of TRACE_STAGES) {
      this.record(`  ${stage}`, (trace[to] as number) - (trace[from] as number));
    }
    this.flushCalls.recordValue(trace.flushCalls);
  }

  render(): string {
    const ms = (us: number): string => (us / 1000).toFixed(2).padStart(7);
    const lines = [`${this.name}`, `${'stage'.padEnd(34)}     p50     p99   p99.9     max`];
    for (const [stage, h] of this.stages) {
      lines.push(
        `${stage.padEnd(34)} ${ms(h.getValueAtPercentile(50))} ${ms(h.getValueAtPercentile(99))} ${ms(h.getValueAtPercentile(99.9))} ${ms(h.maxValue)}`,
      );
    }
    if (this.flushCalls.totalCount > 0) {
      lines.push(
        `script calls per flush: p50 ${this.flushCalls.getValueAtPercentile(50)}, p99 ${this.flushCalls.getValueAtPercentile(99)}`,
      );
    }
    lines.push(`process CPU ${this.cpuMicrosPerMessage.toFixed(1)} µs per message`);
    const loop = this.loop;
    if (loop) {
      lines.push(
        `event-loop delay p50 ${loop.delayP50Ms.toFixed(2)} p99 ${loop.delayP99Ms.toFixed(2)} max ${loop.delayMaxMs.toFixed(1)} ms; ` +
          `GC ${loop.gcCount} pauses (${loop.gcMajorCount} major), total ${loop.gcTotalMs.toFixed(1)} ms, longest ${loop.gcMaxMs.toFixed(2)} ms`,
      );
    }
    return lines.join('\n');
  }
}

/** Medians (and ranges) over repeats of each variant's end-to-end acknowledgement and costs. */
export function summaryTable(tables: ReadonlyMap<string, readonly StageTable[]>): string {
  const fmt = (values: number[], digits = 2): string => {
    const s = summarize(values);
    return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
  };
  const lines = [
    '| variant | acked p50 ms | acked p99 ms | CPU µs/msg | GC pauses | loop delay p99 ms |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const [name, runs] of tables) {
    const acked = runs.map((t) => t.percentilesMs('intended → acknowledged'));
    lines.push(
      `| ${name} | ${fmt(acked.map((a) => a.p50))} | ${fmt(acked.map((a) => a.p99))} | ` +
        `${fmt(
          runs.map((t) => t.cpuMicrosPerMessage),
          1,
        )} | ${fmt(
          runs.map((t) => t.loop?.gcCount ?? NaN),
          0,
        )} | ` +
        `${fmt(runs.map((t) => t.loop?.delayP99Ms ?? NaN))} |`,
    );
  }
  return lines.join('\n');
}
