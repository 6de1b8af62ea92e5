/**
 * Measurement, not a test: what one Redis shard costs per append, for the capacity model
 * (docs/scaling.md). One process appends closed loop (`inflight` appends outstanding, each to a
 * random one of `sessions` sessions, 100-byte payloads, group commit as in production) through
 * SessionLog, first to a standalone redis-server, then to a local Redis Cluster of 3 masters and
 * 3 replicas (AOF everysec everywhere), targets alternating within each repeat so they share
 * the machine's noise.
 *
 * Prints per target and repeat: appends/s, Redis CPU (user + sys, INFO cpu) per append summed
 * over the masters and over the replicas, each master's share, and the producer's own CPU per
 * append. On a shared two-core machine the wall-clock rate is bound by the producer and the
 * neighbours; the CPU per append is what the model scales (appends/s per core = 1e6 / µs).
 *
 *   node --conditions=source --import tsx bench/probes/shard-throughput.ts \
 *     [seconds=5] [sessions=1000] [inflight=2000] [repeats=2]
 */
import { Redis } from 'ioredis';
import { SessionLog } from '@holdfast/session-log';
import { RedisCluster } from '@holdfast/testing';
import { loadAverage } from '../lib/proc-stats.js';
import { BenchRedis } from '../lib/redis.js';

const seconds = Number(process.argv[2] ?? 5);
const sessions = Number(process.argv[3] ?? 1000);
const inflight = Number(process.argv[4] ?? 2000);
const repeats = Number(process.argv[5] ?? 2);
const payload = 'x'.repeat(100);

interface Target {
  readonly name: string;
  readonly url: string;
  /** Admin links to the masters and replicas, for INFO cpu. */
  readonly masters: () => Promise<Redis[]>;
  readonly replicas: () => Promise<Redis[]>;
}

/** used_cpu_user + used_cpu_sys of a Redis process, in µs. */
async function redisCpuMicros(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string): number => Number(new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1] ?? 0);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
}

async function sumCpu(links: Redis[]): Promise<number[]> {
  return Promise.all(links.map((link) => redisCpuMicros(link)));
}

async function measure(target: Target, rep: number): Promise<void> {
  const log = new SessionLog({ redis: target.url });
  await log.ready();
  const ids = Array.from(
    { length: sessions },
    (_, i) => `shard-${rep}-${target.name.replace(/\W+/g, '')}-${i}`,
  );
  for (const id of ids) await log.createSession(id, { retention: { maxMessages: 1000, maxAgeMs: 0 } });
  const masters = await target.masters();
  const replicas = await target.replicas();
  let appended = 0;
  let stop = false;
  const loop = async (): Promise<void> => {
    while (!stop) {
      await log.append(ids[Math.floor(Math.random() * ids.length)] as string, payload);
      appended += 1;
    }
  };
  // One second of warm-up, then the window.
  const loops = Array.from({ length: inflight }, () => loop());
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const startCount = appended;
  const startMasters = await sumCpu(masters);
  const startReplicas = await sumCpu(replicas);
  const startSelf = process.cpuUsage();
  const startedAt = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const count = appended - startCount;
  const elapsed = (performance.now() - startedAt) / 1000;
  const self = process.cpuUsage(startSelf);
  const masterCpu = (await sumCpu(masters)).map((end, i) => end - (startMasters[i] as number));
  const replicaCpu = (await sumCpu(replicas)).map((end, i) => end - (startReplicas[i] as number));
  stop = true;
  await Promise.all(loops);
  await log.close();
  for (const link of [...masters, ...replicas]) link.disconnect();
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  const perAppend = (micros: number): string => (micros / count).toFixed(1);
  const shares = masterCpu.map((m) => `${((100 * m) / sum(masterCpu)).toFixed(0)}%`).join(' / ');
  console.log(
    `| ${target.name} | ${rep} | ${Math.round(count / elapsed).toLocaleString('en-US')} | ${perAppend(sum(masterCpu))} | ${masters.length > 1 ? shares : '-'} | ${replicas.length ? perAppend(sum(replicaCpu)) : '-'} | ${perAppend(self.user + self.system)} |`,
  );
}

const standalone = await BenchRedis.start('everysec');
const cluster = await RedisCluster.start({ masters: 3, replicasPerMaster: 1, appendfsync: 'everysec' });
await cluster.waitReplicasLinked();
const rolesOf = async (role: 'master' | 'replica'): Promise<Redis[]> =>
  (await cluster.roles())
    .filter((r) => r.role === role)
    .map((r) => new Redis({ host: r.server.host, port: r.server.port }));
const targets: Target[] = [
  {
    name: 'standalone',
    url: standalone.url,
    masters: () => Promise.resolve([new Redis(standalone.url)]),
    replicas: () => Promise.resolve([]),
  },
  {
    name: 'cluster 3+3',
    url: `redis+cluster://${cluster.nodesEnv}`,
    masters: () => rolesOf('master'),
    replicas: () => rolesOf('replica'),
  },
];
try {
  console.log(
    `${sessions} sessions, ${inflight} appends in flight, ${seconds} s windows, 100-byte messages; load ${loadAverage()}`,
  );
  console.log(
    "| target | repeat | appends/s | Redis µs/append (masters) | masters' shares | replicas µs/append | producer µs/append |",
  );
  console.log('| --- | ---: | ---: | ---: | --- | ---: | ---: |');
  for (let rep = 1; rep <= repeats; rep++) {
    for (const target of targets) await measure(target, rep);
  }
  console.log(`load at end ${loadAverage()}`);
} finally {
  await cluster.destroy();
  await standalone.destroy();
}
