import type { BenchChild } from '../lib/ipc.js';
import { BenchRedis } from '../lib/redis.js';
import { startClients, startEdge, startProducer, startSocketIo, stopAll } from '../lib/systems.js';
import type { BenchContext } from './context.js';
import { settledMemory } from './memory-probe.js';
import { RowBuilder } from './row-builder.js';

/**
 * idle-memory: N clients connect and stay idle; the server's RSS and heap (after GC) with
 * them, minus the same before any connected, per connection. A fresh server per N.
 */
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
          const row = new RowBuilder('idle-memory', peer, 'idle', { connections: count });
          row.add({
            rssKiBPerConnection: ((after.rssMiB - before.rssMiB) * 1024) / count,
            heapKiBPerConnection: ((after.heapMiB - before.heapMiB) * 1024) / count,
            rssMiB: after.rssMiB,
            heapMiB: after.heapMiB,
          });
          ctx.rows.push(row.build());
          progress.stepDone(
            `${(((after.rssMiB - before.rssMiB) * 1024) / count).toFixed(1)} KiB RSS, ${(((after.heapMiB - before.heapMiB) * 1024) / count).toFixed(1)} KiB heap per connection`,
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
