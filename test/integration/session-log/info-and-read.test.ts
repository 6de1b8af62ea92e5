import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@holdfast/protocol';
import { partitionOf, START_BATCH, type SessionLog } from '@holdfast/session-log';
import { RedisServer, waitFor } from '@holdfast/testing';
import { countScriptCalls, scriptCalls } from '../../helpers/command-stats.js';
import { startOneNodeCluster } from '../../helpers/one-node-cluster.js';
import { useOwnRedisServer, uniqueId } from '../../helpers/session-log-fixture.js';

// Each test has its own redis-server: they count every command Redis runs.
const own = useOwnRedisServer();
const logs = own.logs;

async function sessionsWith(log: SessionLog, count: number, messages: number): Promise<string[]> {
  const sessions = Array.from({ length: count }, () => uniqueId());
  for (const s of sessions) {
    await log.createSession(s);
    await log.appendBatch(
      s,
      Array.from({ length: messages }, (_, i) => ({ data: { s, i } })),
    );
  }
  return sessions;
}

describe('a session’s info with its first read, batched across sessions (start-n.lua)', () => {
  it('answers each session as info and read would, in one call for the sessions of a turn', async () => {
    const log = await logs.open({ partitions: 4 });
    const sessions = await sessionsWith(log, 20, 10);
    await log.ack(sessions[0]!, { epoch: (await log.info(sessions[0]!)).epoch, offset: 4 });
    await own.server.client().config('RESETSTAT');

    const answers = await Promise.all(
      sessions.map((s) => log.infoAndRead(s, { from: 3, limit: 5, maxBytes: 1024 })),
    );

    expect(await scriptCalls(own.server)).toBe(1);
    for (const [k, s] of sessions.entries()) {
      const { info, read } = answers[k]!;
      const expected = await log.info(s);
      expect({ ...info, lastActiveAt: 0 }).toEqual({ ...expected, lastActiveAt: 0 });
      expect(read).toEqual(await log.read(s, { from: 3, limit: 5, maxBytes: 1024 }));
      expect(read!.entries.map((e) => e.offset)).toEqual([3, 4, 5, 6, 7]);
    }
    expect(answers[0]!.info.acks).toEqual({ default: 4 });
  });

  it('reads nothing unless asked, and keeps a read’s bounds: bytes, the head, a trimmed start', async () => {
    const log = await logs.open();
    const [plain, trimmed] = await sessionsWith(log, 2, 10);
    await own.server.client().xtrim(log.keys(trimmed!).log, 'MINID', '6-0');

    const [noRead, beyond, bytes, gap] = await Promise.all([
      log.infoAndRead(plain!),
      log.infoAndRead(plain!, { from: 11, limit: 100, maxBytes: 1 << 20 }),
      log.infoAndRead(plain!, { from: 1, limit: 100, maxBytes: 1 }),
      log.infoAndRead(trimmed!, { from: 2, limit: 100, maxBytes: 1 << 20 }),
    ]);

    expect(noRead.read).toBeUndefined();
    expect(noRead.info.head).toBe(10);
    expect(beyond.read).toMatchObject({ head: 10, entries: [], trimmed: false });
    // At least one entry whatever its size, and no more once over the bytes.
    expect(bytes.read!.entries.map((e) => e.offset)).toEqual([1]);
    expect(gap.info.firstAvailable).toBe(6);
    expect(gap.read).toMatchObject({ firstAvailable: 6, trimmed: true });
    expect(gap.read!.entries[0]!.offset).toBe(6);
  });

  it('fails a missing, an ended and a broken session alone', async () => {
    const log = await logs.open({ partitions: 1 });
    const [fine, ended, broken] = await sessionsWith(log, 3, 2);
    await log.endSession(ended!);
    await own.server.client().del(log.keys(broken!).log);
    await own.server.client().set(log.keys(broken!).log, 'not a stream');
    await own.server.client().config('RESETSTAT');

    const read = { from: 1, limit: 10, maxBytes: 1024 };
    const outcomes = await Promise.allSettled([
      log.infoAndRead(fine!, read),
      log.infoAndRead(uniqueId(), read),
      log.infoAndRead(ended!, read),
      log.infoAndRead(broken!, read),
    ]);

    expect(await scriptCalls(own.server)).toBe(1);
    expect(outcomes[0]).toMatchObject({ status: 'fulfilled', value: { info: { head: 2 } } });
    expect(outcomes[1]).toMatchObject({ status: 'rejected', reason: { code: ErrorCode.SessionNotFound } });
    expect(outcomes[2]).toMatchObject({ status: 'rejected', reason: { code: ErrorCode.SessionEnded } });
    expect(String((outcomes[3] as PromiseRejectedResult).reason)).toMatch(/WRONGTYPE/);
  });

  it('splits a storm into calls of at most START_BATCH sessions', async () => {
    const log = await logs.open();
    const sessions = await sessionsWith(log, START_BATCH + 10, 1);
    await own.server.client().config('RESETSTAT');

    const answers = await Promise.all(
      sessions.map((s) => log.infoAndRead(s, { from: 1, limit: 1, maxBytes: 64 })),
    );

    expect(await scriptCalls(own.server)).toBe(2);
    expect(answers.every((a) => a.read?.entries.length === 1)).toBe(true);
  });

  it('reports the epoch a restart rotated to in both the info and the read', async () => {
    const own = await RedisServer.start({ appendfsync: 'everysec' });
    try {
      const log = await logs.open({ redis: own.url });
      const sessionId = uniqueId();
      const { epoch } = await log.createSession(sessionId);
      await log.appendBatch(sessionId, [{ data: 1 }, { data: 2 }]);
      await own.restart();
      await waitFor(
        () =>
          log.touch(sessionId).then(
            () => true,
            () => false,
          ),
        { timeoutMs: 15_000, what: 'the session log to reconnect' },
      );

      const { info, read } = await log.infoAndRead(sessionId, { from: 1, limit: 10, maxBytes: 1024 });

      expect(info.epoch).not.toBe(epoch);
      expect(read!.epoch).toBe(info.epoch);
      expect((await log.info(sessionId)).epoch).toBe(info.epoch);
    } finally {
      await logs.closeAll();
      await own.destroy();
    }
  });

  it('on a Redis in cluster mode, never mixes partitions in a call', async () => {
    const node = await startOneNodeCluster();
    try {
      const partitions = 4;
      const log = await logs.open({ partitions, redis: node.url });
      const sessions = await sessionsWith(log, 30, 3);
      const used = new Set(sessions.map((s) => partitionOf(s, partitions)));
      const callsSince = await countScriptCalls(node);

      const answers = await Promise.all(
        sessions.map((s) => log.infoAndRead(s, { from: 2, limit: 10, maxBytes: 1024 })),
      );

      expect(answers.every((a) => a.read?.entries.map((e) => e.offset).join() === '2,3')).toBe(true);
      // Every call succeeded on a node that refuses calls spanning slots: none mixed partitions.
      expect(await callsSince()).toBe(used.size);
    } finally {
      await logs.closeAll();
      await node.destroy();
    }
  });
});
