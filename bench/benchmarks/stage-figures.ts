import type { BenchChild } from '../lib/ipc.js';
import type { LoopStats } from '../lib/loop-monitor.js';
import type { ProcessStages } from '../lib/stages.js';

/**
 * The latency stage table's figures for one Holdfast measurement: each process's stages
 * (producer: intended → append call, and the append trace; edge: intended → notified and →
 * frame written) and each process's event-loop delay and GC pauses, flattened into row metrics
 * (`stage:<name>:p50Ms`, `loop:<process>:delayP99Ms`, …) so repeats get medians like any
 * other figure. The clients' end-to-end latency is the row's own p50/p99.
 */
export async function collectStages(p: {
  producer: BenchChild;
  edge?: BenchChild;
  clients: BenchChild;
}): Promise<Record<`stage:${string}` | `loop:${string}`, number>> {
  const [producer, edge, clientsLoop] = await Promise.all([
    p.producer.call<ProcessStages>('stages'),
    p.edge ? p.edge.call<ProcessStages>('stages') : undefined,
    p.clients.call<LoopStats>('loop'),
  ]);
  const figures: Record<string, number> = {};
  for (const part of [producer, edge]) {
    for (const [name, stage] of Object.entries(part?.stages ?? {})) {
      figures[`stage:${name}:p50Ms`] = stage.p50 / 1000;
      figures[`stage:${name}:p99Ms`] = stage.p99 / 1000;
    }
  }
  const loops: Array<[string, LoopStats | undefined]> = [
    ['producer', producer.loop],
    ['edge', edge?.loop],
    ['clients', clientsLoop],
  ];
  for (const [name, loop] of loops) {
    if (!loop) continue;
    figures[`loop:${name}:delayP50Ms`] = loop.delayP50Ms;
    figures[`loop:${name}:delayP99Ms`] = loop.delayP99Ms;
    figures[`loop:${name}:delayMaxMs`] = loop.delayMaxMs;
    figures[`loop:${name}:gcPauses`] = loop.gcCount;
    figures[`loop:${name}:gcTotalMs`] = loop.gcTotalMs;
    figures[`loop:${name}:gcMaxMs`] = loop.gcMaxMs;
  }
  return figures;
}
