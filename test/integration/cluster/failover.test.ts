import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveSubscriptions, SessionLog, sessionKeys, type LiveNotification } from '@holdfast/session-log';
import { RedisCluster, waitFor } from '@holdfast/testing';
import { uniqueId } from '../../helpers/session-log-fixture.js';
import { settleSession, type Acked } from './failover-books.js';

// An unplanned failover under load, on a real 3-master + 3-replica cluster: continuous appends
// to sessions on every shard and live subscribers on all of them, then kill -9 of the master
// of one shard. Replication is asynchronous, so the promoted replica may lack appends the dead
// master acknowledged. What must hold: every session of that shard starts a new epoch (clients
// get a reset), no offset is ever reused with different content within one epoch (no silent
// rewind), sessions of the other shards keep theirs, and live subscribers hear of it.

const SESSIONS = 24;
/** A producer whose append failed (the shard is failing over) tries again after this pause. */
const RETRY_PAUSE_MS = 20;

interface Tracked {
  readonly id: string;
  readonly onVictim: boolean;
  readonly firstEpoch: string;
  readonly acked: Acked[];
  readonly heard: LiveNotification[];
  failed: number;
  /** Appends acknowledged since the promotion was seen. */
  ackedAfterPromotion: number;
}

let cluster: RedisCluster;
let log: SessionLog;
let live: LiveSubscriptions;

beforeAll(async () => {
  cluster = await RedisCluster.start({ masters: 3, replicasPerMaster: 1 });
  const url = `redis+cluster://${cluster.nodesEnv}`;
  log = new SessionLog({ redis: url, keyPrefix: uniqueId('fo'), commandTimeoutMs: 2_000 });
  live = new LiveSubscriptions(url);
  await log.ready();
}, 60_000);

afterAll(async () => {
  await live?.close();
  await log?.close();
  await cluster?.destroy();
});

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('a master failover on Redis Cluster', () => {
  it('rotates the epoch of every session of the failed shard and never rewinds an offset silently', async () => {
    const prefix = log.options.keyPrefix;
    const ids = Array.from({ length: SESSIONS }, (_, i) => uniqueId(`f${i}x`));
    const victimSlot = await cluster.slotOf(sessionKeys(prefix, ids[0]!).meta);
    const victim = await cluster.masterOf(victimSlot);
    const tracked: Tracked[] = [];
    for (const id of ids) {
      const slot = await cluster.slotOf(sessionKeys(prefix, id).meta);
      const owner = await cluster.masterOf(slot);
      const { epoch } = await log.createSession(id);
      const t: Tracked = {
        id,
        onVictim: owner.server === victim.server,
        firstEpoch: epoch,
        acked: [],
        heard: [],
        failed: 0,
        ackedAfterPromotion: 0,
      };
      await live.subscribe(log.keys(id).live, (notification) => t.heard.push(notification));
      tracked.push(t);
    }
    expect(tracked.filter((t) => t.onVictim).length).toBeGreaterThan(0);
    expect(tracked.filter((t) => !t.onVictim).length).toBeGreaterThan(0);

    let stop = false;
    let promoted = false;
    const producers = tracked.map(async (t) => {
      for (let n = 1; !stop; n++) {
        try {
          const result = await log.append(t.id, { n });
          t.acked.push({ epoch: result.epoch, offset: result.offset, n });
          if (promoted) t.ackedAfterPromotion += 1;
        } catch {
          t.failed += 1;
          await pause(RETRY_PAUSE_MS);
        }
      }
    });

    await waitFor(() => tracked.every((t) => t.acked.length >= 20), {
      what: 'every producer to have appends acknowledged before the kill',
      timeoutMs: 20_000,
    });
    const killedAt = Date.now();
    await cluster.killMasterOf(victimSlot);
    const promotionMs = Date.now() - killedAt;
    promoted = true;
    await waitFor(() => tracked.every((t) => t.ackedAfterPromotion >= 10), {
      what: 'every session, the failed shard included, to take appends again',
      timeoutMs: 30_000,
    });
    const recoveredMs = Date.now() - killedAt;
    stop = true;
    await Promise.all(producers);

    let ackedTotal = 0;
    let ackedLost = 0;
    let rewinds = 0;
    for (const t of tracked) {
      const books = await settleSession(log, t.id, t.acked, { limit: 500 });
      const finalEpoch = books.epoch;
      ackedTotal += books.acked;
      ackedLost += books.lost;
      // Within the epoch in force, every acknowledged offset holds what was acknowledged.
      rewinds += books.rewinds;
      if (t.onVictim) {
        expect(finalEpoch, `session ${t.id} on the failed shard`).not.toBe(t.firstEpoch);
      } else {
        expect(finalEpoch, `session ${t.id} on a healthy shard`).toBe(t.firstEpoch);
      }
    }
    expect(rewinds).toBe(0);

    // Live subscribers of the failed shard heard of it: a resync, or the new epoch announced.
    await waitFor(
      () =>
        tracked
          .filter((t) => t.onVictim)
          .every((t) =>
            t.heard.some((h) => h.kind === 'resync' || (h.kind === 'entries' && h.epoch !== t.firstEpoch)),
          ),
      { what: 'live subscribers of the failed shard to hear of the failover', timeoutMs: 10_000 },
    );

    const onVictim = tracked.filter((t) => t.onVictim);
    const figures = {
      sessions: SESSIONS,
      sessionsOnFailedShard: onVictim.length,
      sessionsRotated: onVictim.filter((t) => t.acked.at(-1)?.epoch !== t.firstEpoch).length,
      timeToPromotionMs: promotionMs,
      timeToAppendsAgainMs: recoveredMs,
      appendsAcknowledged: ackedTotal,
      acknowledgedButLost: ackedLost,
      appendsFailedDuringFailover: tracked.reduce((sum, t) => sum + t.failed, 0),
      silentRewinds: rewinds,
    };
    console.log(`cluster failover figures: ${JSON.stringify(figures)}`);
  }, 120_000);
});
