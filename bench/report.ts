import type { Row, SuiteResult } from './results.js';
export function formatTables(result: SuiteResult): string {
  return result.rows
    .map(
      (r) =>
        `${r.bench} ${r.peer} ${r.pattern} ${JSON.stringify(r.params)} ${Object.entries(r.metrics)
          .map(([k, v]) => `${k}=${v.median.toFixed(2)}`)
          .join(' ')}`,
    )
    .join('\n');
}
export type { Row };
