/**
 * Redis command latency as the session log sees it: every script call it runs outside the group
 * commit (reads, acks, leases, inbox steps, info), timed from send to reply, by script and
 * outcome. Appends are timed per flush by group-commit-metrics.ts. Registered on the registry the
 * host hands in (SessionLogOptions.metricsRegistry); several logs may share it.
 */
import { Histogram, type Registry } from 'prom-client';

const NAME = 'holdfast_session_log_script_seconds';

export class ScriptMetrics {
  readonly seconds: Histogram<'script' | 'outcome'>;

  constructor(registry: Registry) {
    const existing = registry.getSingleMetric(NAME);
    this.seconds =
      existing instanceof Histogram
        ? (existing as Histogram<'script' | 'outcome'>)
        : new Histogram({
            name: NAME,
            help: 'Time of one session-log script call from send to reply, by script and outcome (ok or error)',
            labelNames: ['script', 'outcome'],
            buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
            registers: [registry],
          });
  }
}
