import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { ErrorCode, isHoldfastError } from '@holdfast/protocol';
import { SessionLog, clusterSlotOf, type ReplicationWait } from '@holdfast/session-log';
import { RedisCluster, waitFor, type ClusterNodeRole } from '@holdfast/testing';
import { uniqueId } from '../../helpers/session-log-fixture.js';
import { settleSession, type Acked } from './failover-books.js';

// How many acknowledged appends an unplanned failover loses, without and with synchronous
// replication, on a real 3-master + 3-replica cluster. On loopback a replica trails its master
// by microseconds, so a plain kill -9 rarely catches an acknowledged append in flight (the
// failover test's run lost none); a replica that lags is the case that loses writes. So the
// victim's replica is frozen (SIGSTOP) while appends continue, the master is killed, the
// replica resumed and promoted, and every acknowledged append is looked for afterwards.
// Without WAIT the master acknowledges what the replica never got, and it is lost (new epoch,
// never silent); with WAIT those appends fail with replication_timeout, nothing acknowledged
// is lost.

const SESSIONS = 12;
const RETRY_PAUSE_MS = 20;
/** Appends to the victim while its replica is frozen are this large, to build the lag fast. */
const LARGE = 'x'.repeat(192 * 1024);

interface Tracked {
  readonly id: string;
  readonly onVictim: boolean;
  readonly firstEpoch: string;
  readonly acked: Acked[];
  failed: number;
  replicationTimeouts: number;
  ackedAfterRecovery: number;
  /** The last append error, for the report of a session that does not recover. */
  lastError?: string;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Replication data the master produced that its replica has not confirmed (INFO replication:
 * master_repl_offset minus the replica's acknowledged offset).
 */
async function replicationLagBytes(master: Redis): Promise<number> {
  const info = await master.info('replication');
  const produced = Number(/^master_repl_offset:(\d+)/m.exec(info)?.[1]);
  const confirmed = Number(/^slave0:.*offset=(\d+)/m.exec(info)?.[1]);
  return produced - confirmed;
}

/**
 * What the frozen replica's kernel and the dead master's kernel can still deliver after the
 * kill is bounded by socket buffers (a few MB here); beyond this much lag the rest lives only
 * in the master's memory, which a kill -9 loses.
 */
const LAG_BEYOND_SOCKET_BUFFERS = 48 * 1024 * 1024;

describe.each([
  { mode: 'without WAIT, lagging replica', wait: undefined, lag: true },
  { mode: 'with WAIT 1:300, lagging replica', wait: { replicas: 1, timeoutMs: 300 }, lag: true },
  { mode: 'with WAIT 1:300, plain kill -9', wait: { replicas: 1, timeoutMs: 300 }, lag: false },
] as Array<{ mode: string; wait: ReplicationWait | undefined; lag: boolean }>)(
  'a failover $mode',
  ({ mode, wait, lag }) => {
    let cluster: RedisCluster;
    let log: SessionLog;

    beforeAll(async () => {
      cluster = await RedisCluster.start({ masters: 3, replicasPerMaster: 1 });
      log = new SessionLog({
        redis: `redis+cluster://${cluster.nodesEnv}`,
        keyPrefix: uniqueId('fw'),
        commandTimeoutMs: 2_000,
        ...(wait ? { replicationWait: wait } : {}),
      });
      await log.ready();
    }, 60_000);

    afterAll(async () => {
      await log?.close();
      await cluster?.destroy();
    });

    it('counts acknowledged appends lost (with WAIT: none)', async () => {
      const prefix = log.options.keyPrefix;
      const ids = Array.from({ length: SESSIONS }, (_, i) => uniqueId(`w${i}x`));
      const victimSlot = clusterSlotOf(log.keys(ids[0]!).meta);
      const victim = await cluster.masterOf(victimSlot);
      const replica = (await cluster.roles()).find((r) => r.role === 'replica' && r.masterId === victim.id);
      if (!replica) throw new Error('the victim has no replica');
      const serves = (role: ClusterNodeRole, id: string): boolean => {
        const slot = clusterSlotOf(log.keys(id).meta);
        return role.slots.some(([from, to]) => slot >= from && slot <= to);
      };
      const tracked: Tracked[] = [];
      for (const id of ids) {
        const epoch = await createSessionReplicated(log, id);
        tracked.push({
          id,
          onVictim: serves(victim, id),
          firstEpoch: epoch,
          acked: [],
          failed: 0,
          replicationTimeouts: 0,
          ackedAfterRecovery: 0,
        });
      }
      expect(prefix).toBeTruthy();
      const onVictim = tracked.filter((t) => t.onVictim);
      expect(onVictim.length).toBeGreaterThan(0);

      let stop = false;
      let frozen = false;
      let recovered = false;
      let ackedWhileFrozen = 0;
      const producers = tracked.map(async (t) => {
        for (let n = 1; !stop; n++) {
          try {
            const large = frozen && t.onVictim;
            const result = await log.append(t.id, large ? { n, pad: LARGE } : { n });
            t.acked.push({ epoch: result.epoch, offset: result.offset, n });
            if (frozen && t.onVictim) ackedWhileFrozen += 1;
            if (recovered) t.ackedAfterRecovery += 1;
          } catch (error) {
            t.failed += 1;
            t.lastError = error instanceof Error ? error.message : String(error);
            if (isHoldfastError(error, ErrorCode.ReplicationTimeout)) t.replicationTimeouts += 1;
            await pause(RETRY_PAUSE_MS);
          }
        }
      });

      await waitFor(() => tracked.every((t) => t.acked.length >= 20), {
        what: 'every producer to have appends acknowledged before the replica lags',
        timeoutMs: 20_000,
      });
      const masterAdmin = victim.server.client();
      if (lag) await replica.server.pause();
      frozen = lag;
      if (!lag) {
        // A plain kill -9 under load: whatever is in flight at that moment.
      } else if (wait) {
        // Every append to the victim now waits for a replica that cannot answer.
        await waitFor(() => onVictim.reduce((sum, t) => sum + t.replicationTimeouts, 0) >= 5, {
          what: 'appends to the frozen shard to fail with replication_timeout',
          timeoutMs: 20_000,
        });
      } else {
        // The master acknowledges what its replica never received, past the socket buffers.
        await waitFor(async () => (await replicationLagBytes(masterAdmin)) > LAG_BEYOND_SOCKET_BUFFERS, {
          what: 'the master to hold more replication data than the sockets to its frozen replica can',
          timeoutMs: 30_000,
        });
        const mark = ackedWhileFrozen;
        await waitFor(() => ackedWhileFrozen >= mark + 5, {
          what: 'more appends acknowledged by the master alone',
          timeoutMs: 20_000,
        });
      }
      masterAdmin.disconnect();
      const killedAt = Date.now();
      await victim.server.kill();
      frozen = false;
      if (lag) await replica.server.resume();
      await waitFor(
        async () => (await cluster.masterOf(victimSlot).catch(() => undefined))?.server === replica.server,
        {
          what: 'the lagging replica to take over',
          timeoutMs: 30_000,
        },
      );
      await cluster.waitHealthy();
      const promotionMs = Date.now() - killedAt;
      // The old master comes back as the new master's replica: with WAIT the shard takes writes
      // again only then, since its new master has no replica until it does.
      await victim.server.restart();
      await cluster.waitReplicasLinked();
      recovered = true;
      await waitFor(() => tracked.every((t) => t.ackedAfterRecovery >= 10), {
        what: 'every session, the failed shard included, to take appends again',
        timeoutMs: 30_000,
      }).catch((error: Error) => {
        // Which sessions did not recover, and why: a loaded host, or a client that never did.
        const behind = tracked
          .filter((t) => t.ackedAfterRecovery < 10)
          .map(
            (t) =>
              `${t.id}${t.onVictim ? ' (failed shard)' : ''}: ${t.ackedAfterRecovery} since, last error ${t.lastError ?? '-'}`,
          );
        throw new Error(`${error.message}; behind: ${behind.join('; ')}`);
      });
      stop = true;
      await Promise.all(producers);

      let ackedTotal = 0;
      let ackedLost = 0;
      let rewinds = 0;
      for (const t of tracked) {
        const books = await settleSession(log, t.id, t.acked, { limit: 200, maxBytes: 16 * 1024 * 1024 });
        ackedTotal += books.acked;
        ackedLost += books.lost;
        rewinds += books.rewinds;
      }
      const figures = {
        mode,
        sessions: SESSIONS,
        sessionsOnFailedShard: onVictim.length,
        timeToPromotionMs: promotionMs,
        appendsAcknowledged: ackedTotal,
        acknowledgedWhileReplicaFrozen: ackedWhileFrozen,
        acknowledgedButLost: ackedLost,
        appendsFailed: tracked.reduce((sum, t) => sum + t.failed, 0),
        replicationTimeouts: tracked.reduce((sum, t) => sum + t.replicationTimeouts, 0),
        silentRewinds: rewinds,
      };
      console.log(`failover figures: ${JSON.stringify(figures)}`);
      expect(rewinds).toBe(0);
      if (wait) {
        expect(ackedLost).toBe(0);
        expect(ackedWhileFrozen).toBe(0);
      } else if (lag) {
        // The scenario does lose acknowledged appends without WAIT: the zero above means something.
        expect(ackedLost).toBeGreaterThan(0);
      }
    }, 180_000);
  },
);

/**
 * Create a session as a client of WAIT must: a create the replica did not confirm in time
 * (`replication_timeout`, seen in CI on a loaded host before any fault) may have happened, so it
 * is asked again, and `session_exists` on a retry means the first one did.
 */
async function createSessionReplicated(log: SessionLog, id: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await log.createSession(id)).epoch;
    } catch (error) {
      if (attempt > 1 && isHoldfastError(error, ErrorCode.SessionExists)) return (await log.info(id)).epoch;
      if (!isHoldfastError(error, ErrorCode.ReplicationTimeout) || attempt >= 20) throw error;
    }
  }
}
