import type { BenchChild } from '../lib/ipc.js';
import { BenchRedis } from '../lib/redis.js';
import { startClients, startEdge, startProducer, startSocketIo, stopAll } from '../lib/systems.js';
import type { BenchContext } from './context.js';
import { settledMemory } from './memory-probe.js';
import { RowBuilder } from './row-builder.js';

/** Heartbeats must not end the stall: it is a slow client, not a dead one. */
const STALL_PING_TIMEOUT_MS = 600_000;

/**
 * slow-consumer: one client connects, then its process is SIGSTOPped (it reads nothing and
 * acks nothing) while the backlog grows to each size; the server's RSS and heap (after GC)
 * at each size. Holdfast appends in batches of 1,000; plain Socket.IO emits per message.
 * Heartbeat timeouts are raised on both so the stalled client stays connected.
 */
export async function slowConsumer(ctx: BenchContext): Promise<void> {
  const { profile, progress } = ctx;
  const backlogs = profile.slowBacklogs;
  progress.begin('slow-consumer', backlogs.length * 2);
  const redis = await BenchRedis.start('everysec', ctx.systems.placement.redis);
  const children: BenchChild[] = [];
  try {
    const producer = await startProducer(redis.url, ctx.systems, Math.max(...backlogs) + 1000);
    children.push(producer);
    await producer.call('create', { prefix: 'slow', count: 1, keep: Math.max(...backlogs) + 1000 });
    const edge = await startEdge('edge-slow', redis.url, ctx.systems, {
      PING_TIMEOUT_MS: String(STALL_PING_TIMEOUT_MS),
    });
    const plain = await startSocketIo('plain', redis.url, ctx.systems, {
      PING_TIMEOUT_MS: String(STALL_PING_TIMEOUT_MS),
    });
    children.push(edge.child, plain.child);
    const systems = [
      {
        peer: 'holdfast',
        pattern: 'appendBatch of 1,000',
        server: edge.child,
        connect: { system: 'holdfast', url: edge.url, count: 1, sessionIds: ['slow0'] },
        publish: (n: number) => producer.call('backlog', { sessions: 1, perSession: n, batch: 1000 }),
      },
      {
        peer: 'socket.io',
        pattern: 'emit',
        server: plain.child,
        connect: { system: 'plain', url: plain.url, count: 1 },
        publish: (n: number) => plain.child.call('backlog', { session: 0, count: n }),
      },
    ] as const;
    for (const s of systems) {
      const clients = await startClients(`clients-stalled-${s.peer}`, ctx.systems);
      children.push(clients);
      await clients.call('connect', s.connect);
      clients.signal('SIGSTOP');
      let published = 0;
      for (const backlog of backlogs) {
        progress.step(`${s.peer} · backlog ${backlog.toLocaleString('en-US')}`);
        if (backlog > published) await s.publish(backlog - published);
        published = backlog;
        const memory = await settledMemory(s.server);
        const row = new RowBuilder('slow-consumer', s.peer, s.pattern, { backlog });
        row.add(memory);
        ctx.rows.push(row.build());
        progress.stepDone(`RSS ${memory.rssMiB.toFixed(1)} MiB, heap ${memory.heapMiB.toFixed(1)} MiB`);
      }
      clients.signal('SIGCONT');
      await stopAll([clients]);
    }
  } finally {
    await stopAll(children);
    await redis.destroy();
  }
}
