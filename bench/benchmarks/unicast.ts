import type { BenchContext } from './context.js';
import { connectPeers, measureDelivery, startDeliveryPeers, type DeliveryPeer } from './delivery-peers.js';
import { RowBuilder, totals } from './row-builder.js';

const LOSS = ['lost', 'duplicates', 'errors'];

function label(p: DeliveryPeer): string {
  return `${p.peer} (${p.pattern})`;
}

/**
 * unicast-max: every session gets its own stream of 100-byte messages, closed loop (at most
 * `cap` messages undelivered), as fast as each system goes. Holdfast rows: one message per
 * append call with many in flight (group commit), calls of 16 messages, and the worst case, one awaited append at
 * a time. Peers alternate within every repeat.
 */
export async function unicastMax(ctx: BenchContext): Promise<void> {
  const { profile, progress } = ctx;
  const peersPerRun = 5;
  progress.begin(
    'unicast-max',
    profile.fsyncs.length * profile.unicastSessions.length * profile.repeats * peersPerRun,
  );
  for (const fsync of profile.fsyncs) {
    for (const sessions of profile.unicastSessions) {
      const setup = await startDeliveryPeers(ctx, fsync, sessions, [
        'emit',
        'concurrent',
        'batch16',
        'awaited',
      ]);
      try {
        await connectPeers(setup, sessions);
        const builders = setup.peers.map(
          (p) => new RowBuilder('unicast-max', p.peer, p.pattern, { sessions, fsync }),
        );
        const cap = Math.max(20_000, sessions * 50);
        for (let rep = 0; rep < profile.repeats; rep++) {
          for (const [i, p] of setup.peers.entries()) {
            progress.step(
              `${fsync} · ${sessions} sessions · ${label(p)} · run ${rep + 1}/${profile.repeats}`,
            );
            const figures = await measureDelivery(ctx, setup, p, { pattern: p.pattern, sessions, cap });
            builders[i]?.add(figures);
            progress.stepDone(
              `${Math.round(figures.msgPerSec).toLocaleString('en-US')} msg/s, lost ${figures.lost}, dup ${figures.duplicates}`,
            );
          }
        }
        for (const b of builders) ctx.rows.push(totals(b.build(), LOSS));
      } finally {
        await setup.stop();
      }
    }
  }
}

/**
 * unicast-latency: open loop at fixed total rates over the profile's sessions, each message
 * stamped with its intended send time; p50/p99/p99.9 from an HdrHistogram at the clients.
 * A peer that cannot keep a rate (p99 over 1 s, or the producer's backlog limit hit) is not
 * run at higher rates.
 */
export async function unicastLatency(ctx: BenchContext): Promise<void> {
  const { profile, progress } = ctx;
  const sessions = profile.latencySessions;
  const fsync = 'everysec';
  const setup = await startDeliveryPeers(ctx, fsync, sessions, ['emit', 'concurrent'], true, true);
  progress.begin('unicast-latency', profile.latencyRates.length * profile.repeats * setup.peers.length);
  try {
    await connectPeers(setup, sessions);
    const givenUp = new Set<DeliveryPeer>();
    for (const rate of profile.latencyRates) {
      const builders = setup.peers.map(
        (p) => new RowBuilder('unicast-latency', p.peer, p.pattern, { sessions, fsync, rate }),
      );
      for (let rep = 0; rep < profile.repeats; rep++) {
        for (const [i, p] of setup.peers.entries()) {
          progress.step(
            `${rate.toLocaleString('en-US')} msg/s · ${label(p)} · run ${rep + 1}/${profile.repeats}`,
          );
          if (givenUp.has(p)) {
            progress.stepDone('skipped: saturated at a lower rate');
            continue;
          }
          const figures = await measureDelivery(ctx, setup, p, { pattern: p.pattern, sessions, rate });
          builders[i]?.add(figures);
          if (figures.saturated || figures.p99Ms > 1000) givenUp.add(p);
          progress.stepDone(
            `p50 ${figures.p50Ms.toFixed(2)} ms, p99 ${figures.p99Ms.toFixed(2)} ms, p99.9 ${figures.p999Ms.toFixed(2)} ms, ${Math.round(figures.msgPerSec).toLocaleString('en-US')} msg/s`,
          );
        }
      }
      for (const b of builders) if (b.runs > 0) ctx.rows.push(totals(b.build(), LOSS));
    }
  } finally {
    await setup.stop();
  }
}
