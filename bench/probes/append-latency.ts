/**
 * Measurement, not a test: where an append's latency goes on the Node side. One process
 * appends open-loop (each message stamped with its intended send time, as the bench does) to
 * `sessions` sessions on its own redis-server (AOF, appendfsync everysec), one variant at a
 * time, variants alternating within each repeat so they share the machine's noise:
 *
 * - `sessionlog`: SessionLog.append with its per-stage trace on (append-trace.ts);
 * - `untraced`: SessionLog.append on a second log without the trace (what the trace costs);
 * - `inflight16`: SessionLog.append with up to 16 flushes in flight (groupCommit.maxInFlight);
 * - `evalsha`: the same append script through a plain ioredis defineCommand, one call per
 *   message, no group commit (what the script alone costs the client);
 * - `xadd`: a raw ioredis XADD per message (the floor).
 *
 * Prints, per variant and repeat, p50/p99 of each stage, the event-loop delay and GC pauses.
 *
 *   node --conditions=source --import tsx bench/probes/append-latency.ts \
 *     [seconds=4] [rate=5000] [sessions=100] [repeats=3] [variants=sessionlog,untraced,inflight16,evalsha,xadd]
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { SessionLog, sessionKeys, type AppendTrace } from '@holdfast/session-log';
import { LoopMonitor } from '../lib/loop-monitor.js';
import { BenchRedis } from '../lib/redis.js';
import { sleep } from '../lib/stats.js';
import { StageTable, summaryTable } from './stage-table.js';

const seconds = Number(process.argv[2] ?? 4);
const rate = Number(process.argv[3] ?? 5000);
const sessions = Number(process.argv[4] ?? 100);
const repeats = Number(process.argv[5] ?? 3);
const only = (process.argv[6] ?? 'sessionlog,untraced,inflight16,evalsha,xadd').split(',');
const WARMUP_MS = 1000;
const payload = 'x'.repeat(100);

const redis = await BenchRedis.start('everysec');
let stages: StageTable | undefined;
const record = (trace: AppendTrace): void => stages?.recordTrace(trace);
const traced = new SessionLog({ redis: redis.url, appendTrace: record });
const untraced = new SessionLog({ redis: redis.url });
/** The same path with flushes overlapping (groupCommit.maxInFlight 16 rather than 1). */
const overlapped = new SessionLog({
  redis: redis.url,
  groupCommit: { maxInFlight: 16 },
  appendTrace: record,
});
const logs = [traced, untraced, overlapped];
await Promise.all(logs.map((log) => log.ready()));
const raw = new Redis(redis.url);
const lua = (file: string): string =>
  readFileSync(new URL(`../../shared/session-log/src/lua/${file}`, import.meta.url), 'utf8');
raw.defineCommand('probeAppend', { numberOfKeys: 5, lua: `${lua('lib.lua')}\n${lua('append-n.lua')}` });
const runId = /^run_id:(\S+)/m.exec(await raw.info('server'))?.[1] ?? '';
const ids = Array.from({ length: sessions }, (_, i) => `probe-${i}`);
const keys = ids.map((id) => sessionKeys('hf', id));
for (const id of ids) await traced.createSession(id, { retention: { maxMessages: 10_000, maxAgeMs: 0 } });
const json = JSON.stringify(payload);

type Send = (session: number) => Promise<unknown>;
const variants: Record<string, Send> = {
  sessionlog: (s) => traced.append(ids[s] as string, payload),
  untraced: (s) => untraced.append(ids[s] as string, payload),
  inflight16: (s) => overlapped.append(ids[s] as string, payload),
  evalsha: (s) => {
    const k = keys[s] as (typeof keys)[number];
    const call = (raw as unknown as { probeAppend: (...args: Array<string | number>) => Promise<unknown> })
      .probeAppend;
    return call.call(
      raw,
      k.meta,
      k.log,
      k.tomb,
      k.idsA,
      k.idsB,
      runId,
      '0',
      300_000,
      604_800_000,
      `c${s}`,
      k.live,
      1,
      '',
      json,
    );
  },
  xadd: (s) => raw.xadd(`probe-raw:{${s}}`, 'MAXLEN', '~', 10_000, '*', 'd', payload),
};

const monitor = new LoopMonitor();

/** One open-loop window of one variant; the first second is warm-up, not recorded. */
async function phase(name: string, send: Send): Promise<StageTable> {
  const table = new StageTable(name);
  let cpuBefore = process.cpuUsage();
  let recorded = 0;
  const start = performance.now();
  const interval = 1000 / rate;
  let index = 0;
  let inFlight = 0;
  let warm = false;
  while (performance.now() - start < WARMUP_MS + seconds * 1000) {
    if (!warm && performance.now() - start >= WARMUP_MS) {
      warm = true;
      stages = table;
      monitor.reset();
      cpuBefore = process.cpuUsage();
    }
    const due = Math.floor((performance.now() - start) / interval);
    while (index < due) {
      const intended = start + index * interval;
      const recording = warm;
      index += 1;
      inFlight += 1;
      const called = performance.now();
      if (recording) {
        recorded += 1;
        table.record('intended → append call', called - intended);
      }
      send(index % sessions).then(
        () => {
          inFlight -= 1;
          if (!recording) return;
          const done = performance.now();
          table.record('append call → caller resumed', done - called);
          table.record('intended → acknowledged', done - intended);
        },
        (error: unknown) => {
          inFlight -= 1;
          console.error(name, error);
        },
      );
    }
    await sleep(1);
  }
  stages = undefined;
  table.loop = monitor.read();
  const cpu = process.cpuUsage(cpuBefore);
  table.cpuMicrosPerMessage = (cpu.user + cpu.system) / recorded;
  while (inFlight > 0) await sleep(5);
  return table;
}

const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(
  `append-latency probe: ${rate} msg/s open loop, ${sessions} sessions, ${seconds} s windows, load ${loadavg()}`,
);
const tables = new Map<string, StageTable[]>();
for (let rep = 0; rep < repeats; rep++) {
  for (const name of only) {
    const send = variants[name];
    if (!send) throw new Error(`unknown variant ${name}; known: ${Object.keys(variants).join(',')}`);
    const table = await phase(name, send);
    console.log(`\n${table.render()} (repeat ${rep + 1})`);
    tables.set(name, [...(tables.get(name) ?? []), table]);
  }
}
console.log(`\n${summaryTable(tables)}`);
console.log(`\nload at end ${loadavg()}`);
monitor.stop();
await Promise.all(logs.map((log) => log.close()));
raw.disconnect();
await redis.destroy();
