/**
 * Redis command latency as the session log sees it: every script call it runs outside the group
 * commit (reads, acks, leases, inbox steps, info), timed from send to reply, by script and
 * outcome. Appends are timed per flush by group-commit-metrics.ts. Registered on the registry the
 * host hands in (SessionLogOptions.metricsRegistry); several logs may share it.
 */
import { Counter, type Histogram, type Registry } from 'prom-client';
import { histogram } from './group-commit-metrics.js';

export class ScriptMetrics {
  readonly seconds: Histogram<'script' | 'outcome'>;
  /** Script calls sent again because their slot was migrating (slot-migration-retry.ts). */
  readonly slotMigrationRetries: Counter;

  constructor(registry: Registry) {
    this.seconds = histogram(registry, {
      name: 'holdfast_session_log_script_seconds',
      help: 'Time of one session-log script call from send to reply, by script and outcome (ok or error)',
      labelNames: ['script', 'outcome'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    });
    const name = 'holdfast_session_log_slot_retries_total';
    const existing = registry.getSingleMetric(name);
    this.slotMigrationRetries =
      existing instanceof Counter
        ? existing
        : new Counter({
            name,
            help: 'Script calls (appends included) sent again because Redis answered TRYAGAIN: their slot was being migrated',
            registers: [registry],
          });
  }
}
