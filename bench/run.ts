/**
 * The benchmark suite: Holdfast against plain Socket.IO, Socket.IO's connection state recovery
 * with the Redis Streams adapter, and raw Redis floors, in one invocation on one machine.
 *
 *   npm run bench                       # quick profile, a few minutes
 *   npm run bench -- --profile full     # the published figures (docs/benchmarks.md)
 *   npm run bench -- --only unicast-max,persist-floor
 *
 * Builds dist/ first and runs Holdfast from it, as production does (--source: from TypeScript).
 * Prints a table per benchmark with ratios to the peers and writes the results as JSON
 * (test-artifacts/bench/<profile>-<time>.json unless --out is given).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseCli } from './cli.js';
import { runSuite } from './suite.js';
import { formatTables } from './report.js';
import type { SuiteResult } from './results.js';

let options;
try {
  options = parseCli(process.argv.slice(2));
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
if (!options.source) {
  // Holdfast runs as production runs it, from dist/ (incremental: seconds when up to date).
  console.log('building dist/ (npm run build; --source skips it and runs the TypeScript sources)');
  const build = spawnSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
  if (build.status !== 0) {
    console.error('npm run build failed; fix it or run with --source');
    process.exit(2);
  }
}
const startedAt = new Date().toISOString();
const out =
  options.out ?? `test-artifacts/bench/${options.profile.name}-${startedAt.replace(/[:.]/g, '-')}.json`;
const save = (result: SuiteResult): void => {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
};
const result = await runSuite(options, `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(), save);
save(result);
console.log(formatTables(result));
for (const failure of result.failures) console.log(`\n${failure.bench} FAILED:\n${failure.error}`);
console.log(`results: ${out}`);
// Children and Redis are gone; leftover sockets (ioredis reconnect timers) must not keep us up.
process.exit(result.failures.length > 0 ? 1 : 0);
