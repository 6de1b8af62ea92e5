/**
 * Measurement, not a test: what synchronous replication (replicationWait, HOLDFAST_REPLICATION_WAIT)
 * costs an append. One process, a local Redis Cluster of 3 masters and 3 replicas (AOF
 * everysec), two session logs on it: one without WAIT, one with `WAIT 1 <timeoutMs>`. At each
 * concurrency, `producers` closed loops each append 100-byte messages to their own session
 * (spread over the shards), group commit as in production; the two logs alternate within each
 * repeat so they share the machine's noise.
 *
 * Prints, per concurrency, mode and repeat: appends/s, p50 and p99 append latency (ms), and
 * replication timeouts (none expected on a healthy cluster).
 *
 *   node --conditions=source --import tsx bench/probes/replication-wait.ts \
 *     [seconds=5] [producers=1,16,128] [repeats=2] [timeoutMs=500]
 */
import { ErrorCode, isHoldfastError } from '@holdfast/protocol';
import { SessionLog } from '@holdfast/session-log';
import { RedisCluster } from '@holdfast/testing';
import { newHistogram, percentiles } from '../lib/histogram.js';
import { loadAverage } from '../lib/proc-stats.js';
import { sleep } from '../lib/stats.js';

const seconds = Number(process.argv[2] ?? 5);
const concurrencies = (process.argv[3] ?? '1,16,128').split(',').map(Number);
const repeats = Number(process.argv[4] ?? 2);
const timeoutMs = Number(process.argv[5] ?? 500);
const WARMUP_MS = 1000;
const payload = 'x'.repeat(100);

interface Mode {
  readonly name: string;
  readonly log: SessionLog;
}

async function measure(mode: Mode, producers: number, rep: number): Promise<void> {
  const ids = Array.from(
    { length: producers },
    (_, i) => `rw-${mode.name.replace(/\W+/g, '')}-${producers}-${rep}-${i}`,
  );
  for (const id of ids) await mode.log.createSession(id, { retention: { maxMessages: 1000, maxAgeMs: 0 } });
  const histogram = newHistogram();
  let measuring = false;
  let stop = false;
  let appended = 0;
  let timeouts = 0;
  const loop = async (id: string): Promise<void> => {
    while (!stop) {
      const startedAt = performance.now();
      try {
        await mode.log.append(id, payload);
      } catch (error) {
        if (!isHoldfastError(error, ErrorCode.ReplicationTimeout)) throw error;
        timeouts += 1;
        continue;
      }
      if (!measuring) continue;
      appended += 1;
      histogram.recordValue(Math.max(1, Math.round((performance.now() - startedAt) * 1000)));
    }
  };
  const loops = ids.map((id) => loop(id));
  await sleep(WARMUP_MS);
  measuring = true;
  const startedAt = performance.now();
  await sleep(seconds * 1000);
  measuring = false;
  const elapsed = (performance.now() - startedAt) / 1000;
  const count = appended;
  stop = true;
  await Promise.all(loops);
  const p = percentiles(histogram);
  const ms = (micros: number): string => (micros / 1000).toFixed(2);
  console.log(
    `| ${producers} | ${mode.name} | ${rep} | ${Math.round(count / elapsed).toLocaleString('en-US')} | ${ms(p.p50)} | ${ms(p.p99)} | ${timeouts} |`,
  );
  histogram.destroy();
}

const cluster = await RedisCluster.start({ masters: 3, replicasPerMaster: 1, appendfsync: 'everysec' });
await cluster.waitReplicasLinked();
const url = `redis+cluster://${cluster.nodesEnv}`;
const modes: Mode[] = [
  { name: 'off', log: new SessionLog({ redis: url, keyPrefix: 'rwoff' }) },
  {
    name: `WAIT 1 ${timeoutMs}`,
    log: new SessionLog({ redis: url, keyPrefix: 'rwwait', replicationWait: { replicas: 1, timeoutMs } }),
  },
];
try {
  await Promise.all(modes.map((mode) => mode.log.ready()));
  console.log(
    `cluster 3+3 (AOF everysec), closed loops, 100-byte messages, ${seconds} s windows; load ${loadAverage()}`,
  );
  console.log('| producers | replication | repeat | appends/s | p50 ms | p99 ms | replication timeouts |');
  console.log('| ---: | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const producers of concurrencies) {
    for (let rep = 1; rep <= repeats; rep++) {
      for (const mode of modes) await measure(mode, producers, rep);
    }
  }
  console.log(`load at end ${loadAverage()}`);
} finally {
  await Promise.all(modes.map((mode) => mode.log.close()));
  await cluster.destroy();
}
