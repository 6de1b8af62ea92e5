import { CpuMeter } from '../lib/proc-stats.js';
import { BenchRedis, commandDelta } from '../lib/redis.js';
import { nowMicros, sleep } from '../lib/stats.js';
import { startProducer, stopAll } from '../lib/systems.js';
import type { Pattern, RunCounts } from '../systems/producer-driver.js';
import type { BenchContext } from './context.js';
import { RowBuilder, totals } from './row-builder.js';

interface Variant {
  readonly peer: 'holdfast' | 'redis-raw';
  readonly sink: 'holdfast' | 'raw';
  readonly pattern: Pattern;
}

/**
 * Like with like: one awaited call at a time on both sides; Holdfast's concurrent appends
 * (group commit) and batches of 16 against raw pipelines of 64 XADDs. Both keep the same
 * stream length (Holdfast's retention, the raw side's MAXLEN ~).
 */
const VARIANTS: Variant[] = [
  { peer: 'holdfast', sink: 'holdfast', pattern: 'awaited' },
  { peer: 'redis-raw', sink: 'raw', pattern: 'awaited' },
  { peer: 'holdfast', sink: 'holdfast', pattern: 'concurrent' },
  { peer: 'holdfast', sink: 'holdfast', pattern: 'batch16' },
  { peer: 'redis-raw', sink: 'raw', pattern: 'pipeline64' },
];

/**
 * persist-floor: the append path alone, no edge and no clients. Appends acknowledged per
 * second at the producer, Redis CPU and commands per message (all commands Redis ran,
 * including those inside scripts, and separately the script calls sent).
 */
export async function persistFloor(ctx: BenchContext): Promise<void> {
  const { profile, progress } = ctx;
  const sessions = profile.persistSessions;
  progress.begin('persist-floor', profile.fsyncs.length * profile.repeats * VARIANTS.length);
  for (const fsync of profile.fsyncs) {
    const redis = await BenchRedis.start(fsync, ctx.systems.placement.redis);
    const producer = await startProducer(redis.url, ctx.systems);
    try {
      await producer.call('create', { prefix: 'p', count: sessions });
      const builders = VARIANTS.map(
        (v) => new RowBuilder('persist-floor', v.peer, v.pattern, { sessions, fsync }),
      );
      for (let rep = 0; rep < profile.repeats; rep++) {
        for (const [i, v] of VARIANTS.entries()) {
          progress.step(`${fsync} · ${v.peer} (${v.pattern}) · run ${rep + 1}/${profile.repeats}`);
          await producer.call('start', { sink: v.sink, pattern: v.pattern, sessions });
          await sleep(profile.warmMs);
          const meter = new CpuMeter({ producer: producer.pid, redis: redis.pid });
          const cmd0 = await redis.commandCalls();
          const c0 = await producer.call<RunCounts>('counts', { sink: v.sink });
          meter.start();
          const t0 = nowMicros();
          await sleep(profile.measureMs);
          const c1 = await producer.call<RunCounts>('counts', { sink: v.sink });
          const cpu = meter.stop();
          const seconds = (nowMicros() - t0) / 1e6;
          const cmd1 = await redis.commandCalls();
          const final = await producer.call<RunCounts>('stop', { sink: v.sink });
          const acked = c1.acked - c0.acked;
          const commands = commandDelta(cmd0, cmd1);
          const figures = {
            msgPerSec: acked / seconds,
            producerCpuUsPerMsg: (cpu.producer ?? 0) / acked,
            redisCpuUsPerMsg: (cpu.redis ?? 0) / acked,
            redisCmdsPerMsg: commands.total / acked,
            scriptCallsPerMsg: commands.scripts / acked,
            errors: final.errors,
          };
          builders[i]?.add(figures);
          progress.stepDone(
            `${Math.round(figures.msgPerSec).toLocaleString('en-US')} msg/s, ${figures.redisCmdsPerMsg.toFixed(2)} Redis commands/msg${final.firstError ? `, error: ${final.firstError}` : ''}`,
          );
        }
      }
      for (const b of builders) ctx.rows.push(totals(b.build(), ['errors']));
    } finally {
      await stopAll([producer]);
      await redis.destroy();
    }
  }
}
