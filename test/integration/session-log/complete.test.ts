import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, HoldfastError } from '@holdfast/protocol';
import { waitFor } from '@holdfast/testing';
import { startTestRedis, type TestRedis } from '../../helpers/test-redis.js';
import { sessionLogFactory, uniqueId } from '../../helpers/session-log-fixture.js';

let server: TestRedis;
const logs = sessionLogFactory(() => server);

beforeAll(async () => {
  server = await startTestRedis();
});
afterEach(() => logs.closeAll());
afterAll(() => server.destroy());

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (error: unknown) => (error instanceof HoldfastError ? error.code : String(error)),
  );
}

describe('completeSession', () => {
  it('ends appends with session_completed while everything up to the final offset stays readable', async () => {
    const log = await logs.open();
    const sessionId = uniqueId();
    const { epoch } = await log.createSession(sessionId);
    for (let i = 1; i <= 3; i++) await log.append(sessionId, { i });

    const completed = await log.completeSession(sessionId);
    expect(completed).toMatchObject({ epoch, finalOffset: 3 });

    expect(await codeOf(log.append(sessionId, { i: 4 }))).toBe(ErrorCode.SessionCompleted);
    expect(await codeOf(log.enqueueInbound(sessionId, { id: 'm1', data: {}, consumerId: 'c' }))).toBe(
      ErrorCode.SessionCompleted,
    );

    // The completion entry is in the stream but never read as data.
    const read = await log.read(sessionId, { from: 1, limit: 100 });
    expect(read.entries.map((e) => e.data)).toEqual([{ i: 1 }, { i: 2 }, { i: 3 }]);
    expect(read).toMatchObject({ head: 3, finalOffset: 3, trimmed: false });
    const past = await log.read(sessionId, { from: 4 });
    expect(past.entries).toEqual([]);
    expect(past.finalOffset).toBe(3);

    const info = await log.info(sessionId);
    expect(info).toMatchObject({ head: 3, length: 3, finalOffset: 3, completedAt: completed.completedAt });
  });

  it('is idempotent: a second completion returns the first one unchanged', async () => {
    const log = await logs.open();
    const sessionId = uniqueId();
    await log.createSession(sessionId);
    await log.append(sessionId, 'a');
    const first = await log.completeSession(sessionId);
    const second = await log.completeSession(sessionId, { completedRetentionMs: 5 });
    expect(second).toEqual(first);
  });

  it('reads of an open session report no final offset; a session completed empty has final offset 0', async () => {
    const log = await logs.open();
    const sessionId = uniqueId();
    await log.createSession(sessionId);
    expect((await log.read(sessionId, { from: 1 })).finalOffset).toBeUndefined();
    expect((await log.info(sessionId)).completedAt).toBeUndefined();
    expect((await log.completeSession(sessionId)).finalOffset).toBe(0);
    expect((await log.read(sessionId, { from: 1 })).finalOffset).toBe(0);
    expect((await log.info(sessionId)).length).toBe(0);
  });

  it('is atomic with concurrent appends: each append lands at or before the final offset, or fails with session_completed', async () => {
    const log = await logs.open();
    for (let round = 0; round < 5; round++) {
      const sessionId = uniqueId();
      await log.createSession(sessionId);
      const appends = Array.from({ length: 300 }, (_, i) =>
        log.append(sessionId, { i }).then(
          (result) => ({ offset: result.offset }),
          (error: unknown) => ({ code: (error as HoldfastError).code }),
        ),
      );
      const completion = log.completeSession(sessionId);
      const outcomes = await Promise.all(appends);
      const { finalOffset } = await completion;

      const landed = outcomes.flatMap((o) => ('offset' in o ? [o.offset] : []));
      const refused = outcomes.filter((o) => 'code' in o);
      for (const o of refused) expect(o).toEqual({ code: ErrorCode.SessionCompleted });
      expect(landed.length + refused.length).toBe(300);
      expect(landed.length).toBe(finalOffset);
      expect(Math.max(0, ...landed)).toBe(finalOffset);

      const read = await log.read(sessionId, { from: 1, limit: 1000 });
      expect(read.entries.map((e) => e.offset)).toEqual(landed.sort((a, b) => a - b));
    }
  });

  it('refuses a missing or deleted session with the usual codes', async () => {
    const log = await logs.open();
    expect(await codeOf(log.completeSession(uniqueId()))).toBe(ErrorCode.SessionNotFound);
    const sessionId = uniqueId();
    await log.createSession(sessionId);
    await log.endSession(sessionId);
    expect(await codeOf(log.completeSession(sessionId))).toBe(ErrorCode.SessionEnded);
  });

  it('names the fix for a bad completed retention', async () => {
    const log = await logs.open();
    const sessionId = uniqueId();
    await log.createSession(sessionId);
    await expect(log.completeSession(sessionId, { completedRetentionMs: 0 })).rejects.toThrow(
      /completedRetentionMs must be an integer >= 1/,
    );
    await expect(log.createSession(uniqueId(), { completedRetentionMs: -1 })).rejects.toThrow(
      /completedRetentionMs/,
    );
  });

  it('a completed session expires after its completed retention, even with an idle expiry of 0, then reads as ended', async () => {
    const log = await logs.open({ idleTtlMs: 0 });
    const sessionId = uniqueId();
    await log.createSession(sessionId, { completedRetentionMs: 300 });
    await log.append(sessionId, 'a');
    await log.completeSession(sessionId);
    expect((await log.read(sessionId, { from: 1 })).entries).toHaveLength(1);
    await waitFor(async () => (await codeOf(log.read(sessionId, { from: 1 }))) === ErrorCode.SessionEnded, {
      timeoutMs: 5000,
    });
    const redis = server.client();
    const keys = log.keys(sessionId);
    expect(await redis.exists(keys.meta, keys.log, keys.idsA, keys.idsB)).toBe(0);
  });

  it('activity after completion (acks, leases, connections) does not extend the completed retention', async () => {
    const log = await logs.open({ idleTtlMs: 60_000 });
    const sessionId = uniqueId();
    await log.createSession(sessionId);
    const { epoch } = await log.append(sessionId, 'a');
    await log.completeSession(sessionId, { completedRetentionMs: 2000 });
    const redis = server.client();
    const keys = log.keys(sessionId);
    const lease = await log.claimLease(sessionId, 'c1', 'conn-1');
    await log.touch(sessionId);
    await log.ack(sessionId, { epoch, offset: 1, consumerId: 'c1' });
    await log.renewLease(sessionId, 'c1', lease.generation, 15_000);
    for (const key of [keys.meta, keys.log]) {
      const ttl = await redis.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(2000);
    }
  });

  it('age trimming still works on a completed session and keeps the final offset', async () => {
    const log = await logs.open({ retention: { maxAgeMs: 200 } });
    const sessionId = uniqueId();
    await log.createSession(sessionId);
    await log.append(sessionId, 'a');
    await log.append(sessionId, 'b');
    await log.completeSession(sessionId);
    await waitFor(
      async () => {
        await log.enforceRetention(sessionId);
        return (await log.read(sessionId, { from: 1 })).entries.length === 0;
      },
      { timeoutMs: 5000 },
    );
    const read = await log.read(sessionId, { from: 1 });
    expect(read).toMatchObject({ head: 2, finalOffset: 2, trimmed: true, firstAvailable: 3 });
  });
});
