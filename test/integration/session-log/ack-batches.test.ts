/**
 * Acks of many sessions in one script call (ack-n.lua): what an edge's connections send within
 * a few milliseconds (ACK_LINGER_MS). Each must be answered exactly as one ack alone is
 * answered, and none may be left unwritten when the log closes.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@holdfast/protocol';
import { ACK_BATCH, partitionOf } from '@holdfast/session-log';
import { countScriptCalls, scriptCalls } from '../../helpers/command-stats.js';
import { startOneNodeCluster } from '../../helpers/one-node-cluster.js';
import { useOwnRedisServer, uniqueId } from '../../helpers/session-log-fixture.js';

// Each test has its own redis-server: they count every command Redis runs.
const own = useOwnRedisServer();
const logs = own.logs;

describe('acks batched across sessions (ack-n.lua)', () => {
  it('stores the acks of a turn in one call, each monotonic', async () => {
    const log = await logs.open({ partitions: 4 });
    const sessions = Array.from({ length: 40 }, () => uniqueId());
    const epochs = new Map<string, string>();
    for (const s of sessions) {
      epochs.set(s, (await log.createSession(s)).epoch);
      await log.appendBatch(s, [{ data: 1 }, { data: 2 }, { data: 3 }]);
    }
    await own.server.client().config('RESETSTAT');

    const answers = await Promise.all(
      sessions.map((s) =>
        Promise.all([
          log.ack(s, { epoch: epochs.get(s)!, offset: 2 }),
          log.ack(s, { epoch: epochs.get(s)!, offset: 1 }),
          log.ack(s, { epoch: epochs.get(s)!, offset: 3, consumerId: 'laptop' }),
        ]),
      ),
    );

    expect(await scriptCalls(own.server)).toBe(Math.ceil((sessions.length * 3) / ACK_BATCH));
    for (const [k, s] of sessions.entries()) {
      expect(answers[k]!.map((a) => a.ackedOffset)).toEqual([2, 2, 3]);
      expect((await log.info(s)).acks).toEqual({ default: 2, laptop: 3 });
    }
  });

  it('gathers acks that arrive in different turns within the linger into one call', async () => {
    const log = await logs.open({ partitions: 1 });
    const sessions = Array.from({ length: 6 }, () => uniqueId());
    const epochs = await Promise.all(sessions.map(async (s) => (await log.createSession(s)).epoch));
    await Promise.all(sessions.map((s) => log.append(s, 'x')));
    await own.server.client().config('RESETSTAT');

    // One ack per turn, as connections ack in their own socket reads: each a setImmediate apart,
    // all well within the linger (ack-batches.ts ACK_LINGER_MS).
    const acked: Array<Promise<{ ackedOffset: number }>> = [];
    for (const [i, s] of sessions.entries()) {
      acked.push(log.ack(s, { epoch: epochs[i]!, offset: 1 }));
      await new Promise((resolve) => setImmediate(resolve));
    }

    expect((await Promise.all(acked)).map((a) => a.ackedOffset)).toEqual(sessions.map(() => 1));
    expect(await scriptCalls(own.server)).toBe(1);
  });

  it('writes every ack still waiting when the log closes, before its QUIT', async () => {
    const keyPrefix = uniqueId('t');
    const log = await logs.open({ partitions: 1, keyPrefix });
    const s = uniqueId();
    const { epoch } = await log.createSession(s);
    // More acks than the flushes allowed in flight carry (4 × ACK_BATCH): some wait for a slot.
    const count = ACK_BATCH * 4 + 88;
    await log.appendBatch(
      s,
      Array.from({ length: count }, (_, i) => ({ data: i })),
    );

    const acked = Array.from({ length: count }, (_, i) => log.ack(s, { epoch, offset: i + 1 }));
    await log.close(); // at once: none has waited out its linger

    expect((await Promise.all(acked)).map((a) => a.ackedOffset)).toEqual(
      Array.from({ length: count }, (_, i) => i + 1),
    );
    const reader = await logs.open({ partitions: 1, keyPrefix });
    expect((await reader.info(s)).acks).toEqual({ default: count });
  });

  it('answers each ack on its own: fenced, other epoch, beyond the head, missing and broken fail alone', async () => {
    const log = await logs.open({ partitions: 1 });
    const [fine, broken] = [uniqueId(), uniqueId()];
    const { epoch } = await log.createSession(fine);
    await log.createSession(broken);
    await log.appendBatch(fine, [{ data: 1 }, { data: 2 }]);
    await log.claimLease(fine, 'phone', 'c1', 5000);
    await log.claimLease(fine, 'phone', 'c2', 5000);
    await own.server.client().del(log.keys(broken).meta);
    await own.server.client().set(log.keys(broken).meta, 'not a hash');
    await own.server.client().config('RESETSTAT');

    const outcomes = await Promise.allSettled([
      log.ack(fine, { epoch, offset: 1, consumerId: 'phone', leaseGeneration: 2 }),
      log.ack(fine, { epoch, offset: 2, consumerId: 'phone', leaseGeneration: 1 }),
      log.ack(fine, { epoch: 'another', offset: 1 }),
      log.ack(fine, { epoch, offset: 3 }),
      log.ack(uniqueId(), { epoch, offset: 1 }),
      log.ack(broken, { epoch, offset: 1 }),
      log.ack(fine, { epoch, offset: 2 }),
    ]);

    expect(await scriptCalls(own.server)).toBe(1);
    expect(outcomes[0]).toMatchObject({ status: 'fulfilled', value: { ackedOffset: 1 } });
    expect(outcomes[1]).toMatchObject({ status: 'rejected', reason: { code: ErrorCode.Replaced } });
    expect(outcomes[2]).toMatchObject({ status: 'rejected', reason: { code: ErrorCode.EpochMismatch } });
    expect(outcomes[3]).toMatchObject({ status: 'rejected', reason: { code: ErrorCode.AckBeyondHead } });
    expect(outcomes[4]).toMatchObject({ status: 'rejected', reason: { code: ErrorCode.SessionNotFound } });
    expect(String((outcomes[5] as PromiseRejectedResult).reason)).toMatch(/WRONGTYPE/);
    expect(outcomes[6]).toMatchObject({ status: 'fulfilled', value: { ackedOffset: 2 } });
    expect((await log.info(fine)).acks).toEqual({ phone: 1, default: 2 });
  });

  it('on a Redis in cluster mode, keeps each call to one partition', async () => {
    const node = await startOneNodeCluster();
    try {
      const partitions = 4;
      const log = await logs.open({ partitions, redis: node.url });
      const sessions = Array.from({ length: 40 }, () => uniqueId());
      const epochs = await Promise.all(sessions.map(async (s) => (await log.createSession(s)).epoch));
      await Promise.all(sessions.map((s) => log.append(s, 'x')));
      const callsSince = await countScriptCalls(node);

      const acked = await Promise.all(sessions.map((s, i) => log.ack(s, { epoch: epochs[i]!, offset: 1 })));

      expect(acked.every((a) => a.ackedOffset === 1)).toBe(true);
      // Every call succeeded on a node that refuses calls spanning slots: none mixed partitions.
      expect(await callsSince()).toBe(new Set(sessions.map((s) => partitionOf(s, partitions))).size);
    } finally {
      await logs.closeAll();
      await node.destroy();
    }
  });
});
