/**
 * The group commit's metrics, registered on a prom-client registry the host hands in (the API's,
 * or one the producer library gives its host app to mount at /metrics). Several session logs may
 * share a registry: the second finds the first's metrics there and adds to them.
 */
import { Histogram, type Registry } from 'prom-client';

export class GroupCommitMetrics {
  readonly batchMessages: Histogram;
  readonly flushSeconds: Histogram;

  constructor(registry: Registry) {
    this.batchMessages = histogram(registry, {
      name: 'holdfast_session_log_append_batch_messages',
      help: 'Messages per group-commit flush (one Redis round trip, every session that had appends waiting)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096],
    });
    this.flushSeconds = histogram(registry, {
      name: 'holdfast_session_log_append_flush_seconds',
      help: 'Time of one group-commit flush, from sending the append scripts to their replies',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    });
  }
}

/** The histogram `config.name` on `registry`: the one already there (another log's), or a new one. */
export function histogram<Label extends string = string>(
  registry: Registry,
  config: { name: string; help: string; buckets: number[]; labelNames?: readonly Label[] },
): Histogram<Label> {
  const existing = registry.getSingleMetric(config.name);
  if (existing instanceof Histogram) return existing as Histogram<Label>;
  return new Histogram<Label>({ ...config, registers: [registry] });
}
