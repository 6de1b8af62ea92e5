import { summarize } from '../lib/stats.js';
import type { Row } from '../results.js';

/** Collects repeated measurements of one row and turns them into medians and ranges. */
export class RowBuilder {
  private readonly values = new Map<string, number[]>();
  readonly notes: string[] = [];

  constructor(
    readonly bench: string,
    readonly peer: string,
    readonly pattern: string,
    readonly params: Record<string, string | number>,
  ) {}

  add(figures: object): void {
    for (const [name, value] of Object.entries(figures)) {
      if (typeof value !== 'number') continue;
      const list = this.values.get(name) ?? [];
      list.push(value);
      this.values.set(name, list);
    }
  }

  get runs(): number {
    return Math.max(0, ...[...this.values.values()].map((v) => v.length));
  }

  build(): Row {
    const metrics: Row['metrics'] = {};
    for (const [name, list] of this.values) metrics[name] = summarize(list);
    return {
      bench: this.bench,
      peer: this.peer,
      pattern: this.pattern,
      params: this.params,
      metrics,
      ...(this.notes.length ? { notes: this.notes } : {}),
    };
  }
}

/** Loss and duplicates are summed over repeats, not medians: one lost message anywhere counts. */
export function totals(row: Row, names: readonly string[]): Row {
  const metrics = { ...row.metrics };
  for (const name of names) {
    const m = metrics[name];
    if (!m) continue;
    const sum = m.runs.reduce((a, b) => a + b, 0);
    metrics[name] = { median: sum, min: sum, max: sum, runs: m.runs };
  }
  return { ...row, metrics };
}
