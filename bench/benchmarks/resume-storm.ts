import type { BenchChild } from '../lib/ipc.js';
import { CpuMeter, listenOverflows } from '../lib/proc-stats.js';
import { BenchRedis } from '../lib/redis.js';
import { nowMicros, sleep } from '../lib/stats.js';
import { startClients, startEdge, startProducer, startSocketIo, stopAll } from '../lib/systems.js';
import type { TrackerSnapshot } from '../load/session-tracker.js';
import type { BenchContext } from './context.js';
import { handshakeFloor } from './handshake-floor.js';
import { RowBuilder, totals } from './row-builder.js';

/** Setup appends go in batches this large (the session log's maximum). */
const BACKLOG_BATCH = 1000;
/** The XRANGE floor reads this many entries per call, like an edge filling a 1,000-message window. */
const XRANGE_COUNT = 1000;

/**
 * resume-storm: every session's client disconnects, each session misses `missed` messages,
 * then all clients reconnect at once to the other edge, resuming from their last offset.
 * Time until every client has every message; replay rate; loss and duplicates by sequence
 * number (must be 0). The floor: XRANGE over the same logs, pipelined across sessions. The
 * handshake floor: the same clients storming a plain Socket.IO server with nothing to replay
 * (handshake-floor.ts), the part of the catch-up time no WebSocket server avoids.
 */
export async function resumeStorm(ctx: BenchContext): Promise<void> {
  const { profile, progress } = ctx;
  const sessions = profile.resumeSessions;
  const repeatsFor = (missed: number): number => (missed >= 20_000 ? 1 : profile.repeats);
  progress.begin(
    'resume-storm',
    profile.resumeMissed.reduce((sum, m) => sum + repeatsFor(m) * 3, 0),
  );
  for (const missed of profile.resumeMissed) {
    const redis = await BenchRedis.start('everysec', ctx.systems.placement.redis);
    const children: BenchChild[] = [];
    try {
      // The plain server idles through the Holdfast storms (and the edges through its own).
      const [producer, edgeA, edgeB, clients, plain] = await Promise.all([
        startProducer(redis.url, ctx.systems, missed),
        startEdge('edge-a', redis.url, ctx.systems),
        startEdge('edge-b', redis.url, ctx.systems),
        startClients('clients-resume', ctx.systems),
        startSocketIo('plain', redis.url, ctx.systems),
      ]);
      const edges = [edgeA, edgeB];
      children.push(producer, edgeA.child, edgeB.child, clients, plain.child);
      await producer.call('create', { prefix: 'r', count: sessions, keep: missed });
      const sessionIds = Array.from({ length: sessions }, (_, i) => `r${i}`);
      await clients.call('connect', { system: 'holdfast', url: edges[0]?.url, count: sessions, sessionIds });
      const params = { sessions, missed, fsync: 'everysec' };
      const hf = new RowBuilder('resume-storm', 'holdfast', 'reconnect to another edge', params);
      const floor = new RowBuilder(
        'resume-storm',
        'redis-raw',
        `XRANGE COUNT ${XRANGE_COUNT}, pipelined`,
        params,
      );
      for (let rep = 0; rep < repeatsFor(missed); rep++) {
        const target = edges[(rep + 1) % 2];
        if (!target) throw new Error('no edge');
        progress.step(
          `${missed.toLocaleString('en-US')} missed × ${sessions} sessions · backlog + XRANGE floor · run ${rep + 1}`,
        );
        await clients.call('disconnect');
        await producer.call('backlog', { sessions, perSession: missed, batch: BACKLOG_BATCH });
        const read = await producer.call<{ entries: number; seconds: number }>('xrange', {
          sessions,
          count: XRANGE_COUNT,
        });
        floor.add({ replayMsgPerSec: read.entries / read.seconds, entries: read.entries });
        progress.stepDone(
          `XRANGE ${Math.round(read.entries / read.seconds).toLocaleString('en-US')} entries/s`,
        );

        progress.step(
          `${missed.toLocaleString('en-US')} missed × ${sessions} sessions · holdfast storm · run ${rep + 1}`,
        );
        await clients.call('reset');
        const sent = await producer.call<number[]>('sent', { sink: 'holdfast' });
        const retries0 = await clients.call<number>('handshakeRetries');
        const meter = new CpuMeter({ edge: target.child.pid, redis: redis.pid, clients: clients.pid });
        meter.start();
        const overflows0 = listenOverflows();
        const t0 = nowMicros();
        // Awaited after the catch-up loop; its failure must not go unhandled meanwhile.
        let reconnectError: unknown;
        const reconnected = clients
          .call('reconnect', { url: target.url })
          .catch((error: unknown) => (reconnectError = error));
        const timeoutMs = Math.max(60_000, (sessions * missed) / 10);
        let lost = 0;
        for (;;) {
          const received = await clients.call<number[]>('received');
          lost = sent.reduce((sum, n, s) => sum + Math.max(0, n - (received[s] ?? 0)), 0);
          if (lost === 0 || reconnectError !== undefined || nowMicros() - t0 > timeoutMs * 1000) break;
          await sleep(20);
        }
        const seconds = (nowMicros() - t0) / 1e6;
        const cpu = meter.stop();
        const overflows = listenOverflows() - overflows0;
        await reconnected;
        if (reconnectError !== undefined) throw reconnectError;
        const snap = await clients.call<TrackerSnapshot>('snapshot');
        const handshakeRetries = (await clients.call<number>('handshakeRetries')) - retries0;
        const total = sessions * missed;
        hf.add({
          catchUpSeconds: seconds,
          replayMsgPerSec: snap.delivered / seconds,
          edgeCpuUsPerMsg: (cpu.edge ?? 0) / snap.delivered,
          redisCpuUsPerMsg: (cpu.redis ?? 0) / snap.delivered,
          // The load clients share the machine: their handshakes and reads take CPU from the edge.
          clientsCpuUsPerMsg: (cpu.clients ?? 0) / snap.delivered,
          lost,
          duplicates: snap.duplicates,
          expected: total,
          // Distinct messages received (duplicates not counted): the report's derived replay rate
          // divides them by the catch-up time net of the handshake floor.
          delivered: snap.delivered,
          handshakeRetries,
          listenOverflows: overflows,
        });
        progress.stepDone(
          `${seconds.toFixed(2)} s to catch up, ${Math.round(snap.delivered / seconds).toLocaleString('en-US')} msg/s, CPU s edge ${((cpu.edge ?? 0) / 1e6).toFixed(2)} · Redis ${((cpu.redis ?? 0) / 1e6).toFixed(2)} · clients ${((cpu.clients ?? 0) / 1e6).toFixed(2)}, lost ${lost}, dup ${snap.duplicates}, refused handshakes retried ${handshakeRetries}, listen overflows ${overflows}`,
        );
      }
      // After every Holdfast run, in the same load-client process: it closes the Holdfast clients.
      const handshakes = await handshakeFloor({
        progress,
        clients,
        server: plain,
        sessions,
        repeats: repeatsFor(missed),
        params,
        label: `${missed.toLocaleString('en-US')} missed × ${sessions} sessions`,
      });
      ctx.rows.push(
        totals(hf.build(), ['lost', 'duplicates', 'handshakeRetries']),
        floor.build(),
        handshakes,
      );
    } finally {
      await stopAll(children);
      await redis.destroy();
    }
  }
}
