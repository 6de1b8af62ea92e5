import type { BenchChild } from '../lib/ipc.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { BenchRedis, commandDelta } from '../lib/redis.js';
import { startClients, startEdge, startProducer, startSocketIo, stopAll } from '../lib/systems.js';
import type { BenchContext } from './context.js';
import { settledMemory } from './memory-probe.js';
import { RowBuilder } from './row-builder.js';

/**
 * idle-memory: N clients connect and stay idle; the server's RSS and heap (after GC) with
 * them, minus the same before any connected, per connection. A fresh server per N. Then the
 * Redis work the idle connections cause, over IDLE_REDIS_WINDOW_MS: script calls and commands
 * (those inside scripts included) per second.
 */
/** Three lease renewal rounds of an edge at the default LEASE_MS (15 s; a round every 5 s). */
const IDLE_REDIS_WINDOW_MS = 15_000;

export async function idleMemory(ctx: BenchContext): Promise<void> {
  const { profile, progress } = ctx;
  progress.begin('idle-memory', profile.idleConnections.length * 2);
  const most = Math.max(...profile.idleConnections);
  const redis = await BenchRedis.start('everysec', ctx.systems.placement.redis);
  const producer = await startProducer(redis.url, ctx.systems);
  try {
    await producer.call('create', { prefix: 'idle', count: most });
    const sessionIds = Array.from({ length: most }, (_, i) => `idle${i}`);
    for (const count of profile.idleConnections) {
      for (const peer of ['holdfast', 'socket.io'] as const) {
        progress.step(`${peer} · ${count.toLocaleString('en-US')} idle connections`);
        const children: BenchChild[] = [];
        try {
          const server =
            peer === 'holdfast'
              ? await startEdge('edge-idle', redis.url, ctx.systems)
              : await startSocketIo('plain', redis.url, ctx.systems);
          children.push(server.child);
          const clients = await startClients(`clients-idle-${peer}`, ctx.systems);
          children.push(clients);
          const before = await settledMemory(server.child);
          await clients.call('connect', {
            system: peer === 'holdfast' ? 'holdfast' : 'plain',
            url: server.url,
            count,
            sessionIds,
          });
          const after = await settledMemory(server.child);
          const callsBefore = await redis.commandCalls();
          await sleep(IDLE_REDIS_WINDOW_MS);
          const idleWork = commandDelta(callsBefore, await redis.commandCalls());
          const perSecond = (n: number): number => n / (IDLE_REDIS_WINDOW_MS / 1000);
          const row = new RowBuilder('idle-memory', peer, 'idle', { connections: count });
          row.add({
            rssKiBPerConnection: ((after.rssMiB - before.rssMiB) * 1024) / count,
            heapKiBPerConnection: ((after.heapMiB - before.heapMiB) * 1024) / count,
            rssMiB: after.rssMiB,
            heapMiB: after.heapMiB,
            redisScriptCallsPerSecond: perSecond(idleWork.scripts),
            redisCommandsPerSecond: perSecond(idleWork.total),
          });
          ctx.rows.push(row.build());
          progress.stepDone(
            `${(((after.rssMiB - before.rssMiB) * 1024) / count).toFixed(1)} KiB RSS, ${(((after.heapMiB - before.heapMiB) * 1024) / count).toFixed(1)} KiB heap per connection; Redis ${perSecond(idleWork.scripts).toFixed(1)} script calls/s, ${perSecond(idleWork.total).toFixed(0)} commands/s`,
          );
        } finally {
          await stopAll(children);
        }
      }
    }
  } finally {
    await stopAll([producer]);
    await redis.destroy();
  }
}
