/**
 * Lease claims of many connections in one script call (claim-n.lua): what an edge accepts in
 * one event-loop turn. Each claim must be answered exactly as one claim alone is answered, in the
 * order the claims were asked.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@holdfast/protocol';
import { CLAIM_BATCH, partitionOf } from '@holdfast/session-log';
import { countScriptCalls, scriptCalls } from '../../helpers/command-stats.js';
import { startOneNodeCluster } from '../../helpers/one-node-cluster.js';
import { useOwnRedisServer, uniqueId } from '../../helpers/session-log-fixture.js';

// Each test has its own redis-server: they count every command Redis runs.
const own = useOwnRedisServer();
const logs = own.logs;

describe('lease claims batched across connections (claim-n.lua)', () => {
  it('claims for every connection of a turn in one call, in the order asked', async () => {
    const log = await logs.open({ partitions: 4 });
    const sessions = Array.from({ length: 30 }, () => uniqueId());
    await Promise.all(sessions.map((s) => log.createSession(s)));
    await own.server.client().config('RESETSTAT');

    // Each session: three connections of one consumer in one turn, then one of another.
    const claims = sessions.map((s) =>
      Promise.all([
        log.claimLease(s, 'phone', 'c1', 5000),
        log.claimLease(s, 'phone', 'c2', 5000),
        log.claimLease(s, 'phone', 'c3', 5000),
        log.claimLease(s, 'laptop', 'c4', 5000),
      ]),
    );
    const answers = await Promise.all(claims);

    expect(await scriptCalls(own.server)).toBe(Math.ceil((sessions.length * 4) / CLAIM_BATCH));
    for (const [k, s] of sessions.entries()) {
      expect(answers[k]).toEqual([
        { generation: 1, previousHolder: undefined },
        { generation: 2, previousHolder: 'c1' },
        { generation: 3, previousHolder: 'c2' },
        { generation: 1, previousHolder: undefined },
      ]);
      const info = await log.info(s);
      expect(info.connected).toEqual({ phone: true, laptop: true });
      // The newest claim holds the lease: a renewal with its generation is confirmed.
      expect(await log.renewLease(s, 'phone', 3, 5000)).toBe(3);
    }
  });

  it('answers each claim on its own: superseded, missing, ended and broken sessions fail alone', async () => {
    const log = await logs.open({ partitions: 1 });
    const [fine, ended, broken] = [uniqueId(), uniqueId(), uniqueId()];
    for (const s of [fine, ended, broken]) await log.createSession(s);
    await log.endSession(ended);
    await own.server.client().del(log.keys(broken).meta);
    await own.server.client().set(log.keys(broken).meta, 'not a hash');
    await own.server.client().config('RESETSTAT');

    const outcomes = await Promise.allSettled([
      log.claimLease(fine, 'phone', 'newer', 5000, { instance: 'tab1', attempt: 2 }),
      log.claimLease(fine, 'phone', 'older', 5000, { instance: 'tab1', attempt: 1 }),
      log.claimLease(uniqueId(), 'phone', 'x', 5000),
      log.claimLease(ended, 'phone', 'x', 5000),
      log.claimLease(broken, 'phone', 'x', 5000),
      log.claimLease(fine, 'laptop', 'other', 5000),
    ]);

    expect(await scriptCalls(own.server)).toBe(1);
    expect(outcomes[0]).toMatchObject({ status: 'fulfilled', value: { generation: 1 } });
    expect(outcomes[1]).toMatchObject({ status: 'rejected', reason: { code: ErrorCode.Superseded } });
    expect(outcomes[2]).toMatchObject({ status: 'rejected', reason: { code: ErrorCode.SessionNotFound } });
    expect(outcomes[3]).toMatchObject({ status: 'rejected', reason: { code: ErrorCode.SessionEnded } });
    expect(String((outcomes[4] as PromiseRejectedResult).reason)).toMatch(/WRONGTYPE/);
    expect(outcomes[5]).toMatchObject({ status: 'fulfilled', value: { generation: 1 } });
    // The refused older attempt changed nothing: the newer one still holds the lease.
    expect(await log.renewLease(fine, 'phone', 1, 5000)).toBe(1);
  });

  it('names no previous holder once it released the lease: its connection closed, nobody to tell', async () => {
    const log = await logs.open();
    const sessionId = uniqueId();
    await log.createSession(sessionId);

    const first = await log.claimLease(sessionId, 'phone', 'c1', 5000);
    await log.releaseLease(sessionId, 'phone', first.generation);
    const second = await log.claimLease(sessionId, 'phone', 'c2', 5000);
    // A holder that did not release (a stalled or lost edge, its lease expired or not) is named.
    const third = await log.claimLease(sessionId, 'phone', 'c3', 1);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const fourth = await log.claimLease(sessionId, 'phone', 'c4', 5000);

    expect(second).toEqual({ generation: 2, previousHolder: undefined });
    expect(third).toEqual({ generation: 3, previousHolder: 'c2' });
    expect(fourth).toEqual({ generation: 4, previousHolder: 'c3' });
  });

  it('on a Redis in cluster mode, never mixes partitions in a call', async () => {
    const node = await startOneNodeCluster();
    try {
      const partitions = 4;
      const log = await logs.open({ partitions, redis: node.url });
      const sessions = Array.from({ length: 30 }, () => uniqueId());
      await Promise.all(sessions.map((s) => log.createSession(s)));
      const used = new Set(sessions.map((s) => partitionOf(s, partitions)));
      const callsSince = await countScriptCalls(node);

      const answers = await Promise.all(sessions.map((s) => log.claimLease(s, 'phone', 'h', 5000)));

      expect(answers.every((a) => a.generation === 1)).toBe(true);
      // Every call succeeded on a node that refuses calls spanning slots: none mixed partitions.
      expect(await callsSince()).toBe(used.size);
    } finally {
      await logs.closeAll();
      await node.destroy();
    }
  });
});
