import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@holdfast/protocol';
import { partitionOf } from '@holdfast/session-log';
import { commandCalls, countScriptCalls } from '../../helpers/command-stats.js';
import { startOneNodeCluster } from '../../helpers/one-node-cluster.js';
import { useOwnRedisServer, uniqueId } from '../../helpers/session-log-fixture.js';

// Each test has its own redis-server: they count every command Redis runs.
const own = useOwnRedisServer();
const logs = own.logs;

describe('appends of many sessions in one script call per partition', () => {
  it('carries every session of a partition queued in a flush in one call, with one TIME', async () => {
    const log = await logs.open({ partitions: 1 });
    const sessions = Array.from({ length: 50 }, () => uniqueId());
    await Promise.all(sessions.map((s) => log.createSession(s)));
    await own.server.client().config('RESETSTAT');

    const results = await Promise.all(sessions.map((s, i) => log.append(s, { i })));

    const calls = await commandCalls(own.server);
    expect(calls('evalsha') + calls('eval')).toBe(1);
    expect(calls('time')).toBe(1);
    // Per one-message append: HMGET, XADD, HSET head, SPUBLISH (housekeeping is due at most once a second).
    expect(calls('xadd')).toBe(50);
    expect(calls('spublish')).toBe(50);
    expect(results.every((r) => r.offset === 1 && !r.duplicate)).toBe(true);
    for (const [i, s] of sessions.entries()) {
      expect((await log.read(s, { from: 1 })).entries.map((e) => e.data)).toEqual([{ i }]);
    }
  });

  it('on a standalone Redis, carries sessions of every partition in one call', async () => {
    const partitions = 4;
    const log = await logs.open({ partitions });
    const sessions = Array.from({ length: 40 }, () => uniqueId());
    await Promise.all(sessions.map((s) => log.createSession(s)));
    expect(new Set(sessions.map((s) => partitionOf(s, partitions))).size).toBeGreaterThan(1);
    await own.server.client().config('RESETSTAT');

    await Promise.all(sessions.map((s) => log.append(s, 'x')));

    const calls = await commandCalls(own.server);
    expect(calls('evalsha') + calls('eval')).toBe(1);
    expect(calls('xadd')).toBe(40);
  });

  it('on a Redis in cluster mode, makes one call per partition that has appends, never mixing partitions', async () => {
    // One node serving every slot: a plain connection to it still gets CROSSSLOT for a call
    // whose keys span slots, so calls must keep to one partition (one hash tag).
    const node = await startOneNodeCluster();
    try {
      const partitions = 4;
      const log = await logs.open({ partitions, redis: node.url });
      const sessions = Array.from({ length: 40 }, () => uniqueId());
      await Promise.all(sessions.map((s) => log.createSession(s)));
      const used = new Set(sessions.map((s) => partitionOf(s, partitions)));
      const callsSince = await countScriptCalls(node);

      const results = await Promise.all(sessions.map((s) => log.append(s, 'x')));

      expect(results.every((r) => r.offset === 1)).toBe(true);
      // Every call succeeded on a node that refuses calls spanning slots: none mixed partitions.
      expect(await callsSince()).toBe(used.size);
    } finally {
      await logs.closeAll();
      await node.destroy();
    }
  });

  it('keeps each session in order when the per-call limits split a partition over several calls', async () => {
    const log = await logs.open({ partitions: 1, groupCommit: { maxMessagesPerCall: 3 } });
    const sessions = Array.from({ length: 5 }, () => uniqueId());
    await Promise.all(sessions.map((s) => log.createSession(s)));
    await own.server.client().config('RESETSTAT');

    const results = await Promise.all(
      sessions.map((s) => Promise.all(Array.from({ length: 7 }, (_, i) => log.append(s, i)))),
    );

    const calls = await commandCalls(own.server);
    expect(calls('evalsha') + calls('eval')).toBeGreaterThanOrEqual(Math.ceil(35 / 3));
    for (const [k, s] of sessions.entries()) {
      expect(results[k]!.map((r) => r.offset)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect((await log.read(s, { from: 1 })).entries.map((e) => e.data)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    }
  });

  it('answers each session of a call on its own: a missing, a completed and a broken session fail alone', async () => {
    const log = await logs.open({ partitions: 1 });
    const [fine, missing, completed, broken] = [uniqueId(), uniqueId(), uniqueId(), uniqueId()];
    for (const s of [fine, completed, broken]) await log.createSession(s);
    await log.completeSession(completed);
    // A log key of the wrong type makes the XADD of that session fail inside the call.
    await own.server.client().del(log.keys(broken).log);
    await own.server.client().set(log.keys(broken).log, 'not a stream');
    await own.server.client().config('RESETSTAT');

    const outcomes = await Promise.allSettled([
      log.append(fine, 1),
      log.append(missing, 1),
      log.append(completed, 1),
      log.append(broken, 1),
      log.append(fine, 2),
    ]);

    const calls = await commandCalls(own.server);
    expect(calls('evalsha') + calls('eval')).toBe(1);
    expect(outcomes[0]).toMatchObject({ status: 'fulfilled', value: { offset: 1 } });
    expect(outcomes[4]).toMatchObject({ status: 'fulfilled', value: { offset: 2 } });
    expect(outcomes[1]).toMatchObject({ status: 'rejected', reason: { code: ErrorCode.SessionNotFound } });
    expect(outcomes[2]).toMatchObject({ status: 'rejected', reason: { code: ErrorCode.SessionCompleted } });
    expect(outcomes[3]).toMatchObject({ status: 'rejected', reason: expect.any(Error) });
    expect(String((outcomes[3] as PromiseRejectedResult).reason)).toMatch(/WRONGTYPE/);
  });
});
