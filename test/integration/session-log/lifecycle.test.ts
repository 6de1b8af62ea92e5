import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, HoldfastError } from '@holdfast/protocol';
import { waitFor } from '@holdfast/testing';
import { startTestRedis, TOPOLOGY, type TestRedis } from '../../helpers/test-redis.js';
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
    (e: unknown) => (e instanceof HoldfastError ? e.code : `not a HoldfastError: ${String(e)}`),
  );
}

describe('retention', () => {
  it('trims to max length and reports reads from before the first retained offset as trimmed', async () => {
    const log = await logs.open({ retention: { maxMessages: 10 } });
    const sessionId = uniqueId();
    await log.createSession(sessionId);
    await log.appendBatch(
      sessionId,
      Array.from({ length: 25 }, (_, i) => ({ data: i + 1 })),
    );

    const info = await log.info(sessionId);
    expect(info).toMatchObject({ head: 25, firstAvailable: 16, length: 10 });

    const stale = await log.read(sessionId, { from: 3 });
    expect(stale).toMatchObject({ trimmed: true, firstAvailable: 16, head: 25 });
    expect(stale.entries.map((e) => e.offset)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
    expect(stale.entries.map((e) => e.data)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);

    const fresh = await log.read(sessionId, { from: 20, limit: 3 });
    expect(fresh.trimmed).toBe(false);
    expect(fresh.entries.map((e) => e.offset)).toEqual([20, 21, 22]);

    const caughtUp = await log.read(sessionId, { from: 26 });
    expect(caughtUp).toMatchObject({ trimmed: false, entries: [] });
  });

  it('trims by age without an append when retention is enforced, and finds every session to do it', async () => {
    const log = await logs.open();
    const aging = uniqueId();
    const fresh = uniqueId();
    await log.createSession(aging, { retention: { maxAgeMs: 200 } });
    await log.createSession(fresh);
    // More than one bounded trim pass (4 x 256 entries) holds.
    for (let i = 0; i < 3; i++)
      await log.appendBatch(
        aging,
        Array.from({ length: 500 }, (_, j) => ({ data: j })),
      );
    await log.append(fresh, 'kept');

    // Nothing appends to `aging` again: only enforcement can trim it.
    await waitFor(async () => (await log.enforceRetention(aging)) === 1501, {
      timeoutMs: 5000,
      what: 'every aged message to be trimmed',
    });
    expect(await log.info(aging)).toMatchObject({ head: 1500, firstAvailable: 1501, length: 0 });
    expect(await log.enforceRetention(fresh)).toBe(1);
    expect(await log.enforceRetention(uniqueId())).toBeUndefined();

    const found: string[] = [];
    let cursor = '0';
    do {
      const page = await log.scanSessions(cursor, 10);
      found.push(...page.sessionIds);
      cursor = page.cursor;
    } while (cursor !== '0');
    expect(new Set(found)).toEqual(new Set([aging, fresh]));
  });

  it('takes per-session retention over the defaults', async () => {
    const log = await logs.open({ retention: { maxMessages: 1000 } });
    const sessionId = uniqueId();
    await log.createSession(sessionId, { retention: { maxMessages: 3, maxAgeMs: 0 } });
    await log.appendBatch(
      sessionId,
      Array.from({ length: 5 }, (_, i) => ({ data: i })),
    );
    expect(await log.info(sessionId)).toMatchObject({
      firstAvailable: 3,
      retention: { maxMessages: 3, maxAgeMs: 0 },
    });
  });

  it('trims messages older than max age', async () => {
    const log = await logs.open();
    const sessionId = uniqueId();
    await log.createSession(sessionId, { retention: { maxAgeMs: 200 } });
    await log.appendBatch(
      sessionId,
      Array.from({ length: 600 }, (_, i) => ({ data: i })),
    );
    // Age trimming runs on append: keep appending until the first batch has aged out.
    const read = await waitFor(
      async () => {
        await log.append(sessionId, 'tick');
        const r = await log.read(sessionId, { from: 1, limit: 1 });
        return r.firstAvailable > 600 ? r : undefined;
      },
      { timeoutMs: 5000, what: 'old entries to be trimmed by age' },
    );
    expect(read.trimmed).toBe(true);
    expect(read.entries[0]?.data).toBe('tick');
  });

  it('bounds reads by bytes but always returns at least one entry', async () => {
    const log = await logs.open();
    const sessionId = uniqueId();
    await log.createSession(sessionId);
    await log.appendBatch(
      sessionId,
      Array.from({ length: 5 }, () => ({ data: 'x'.repeat(100) })),
    );
    expect((await log.read(sessionId, { from: 1, maxBytes: 250 })).entries).toHaveLength(2);
    expect((await log.read(sessionId, { from: 1, maxBytes: 10 })).entries).toHaveLength(1);
  });
});

describe('ack', () => {
  it('is monotonic, bounded by the head, per consumer and epoch-checked', async () => {
    const log = await logs.open();
    const sessionId = uniqueId();
    const { epoch } = await log.createSession(sessionId);
    await log.appendBatch(
      sessionId,
      Array.from({ length: 10 }, (_, i) => ({ data: i })),
    );

    expect(await log.ack(sessionId, { epoch, offset: 5 })).toEqual({ ackedOffset: 5 });
    expect(await log.ack(sessionId, { epoch, offset: 3 })).toEqual({ ackedOffset: 5 });
    expect(await codeOf(log.ack(sessionId, { epoch, offset: 11 }))).toBe(ErrorCode.AckBeyondHead);
    expect(await codeOf(log.ack(sessionId, { epoch: 'another-epoch', offset: 1 }))).toBe(
      ErrorCode.EpochMismatch,
    );
    expect(await codeOf(log.ack(sessionId, { epoch, offset: -1 }))).toBe(ErrorCode.InvalidOffset);
    expect(await log.ack(sessionId, { epoch, offset: 10, consumerId: 'phone' })).toEqual({ ackedOffset: 10 });

    expect((await log.info(sessionId)).acks).toEqual({ default: 5, phone: 10 });
  });
});

describe('session lifecycle', () => {
  it('an ended session fails appends, reads and acks, and is never revived', async () => {
    const log = await logs.open();
    const sessionId = uniqueId();
    const { epoch } = await log.createSession(sessionId);
    await log.append(sessionId, 'before');
    await log.endSession(sessionId);

    expect(await codeOf(log.append(sessionId, 'late'))).toBe(ErrorCode.SessionEnded);
    expect(await codeOf(log.read(sessionId, { from: 1 }))).toBe(ErrorCode.SessionEnded);
    expect(await codeOf(log.ack(sessionId, { epoch, offset: 1 }))).toBe(ErrorCode.SessionEnded);
    expect(await codeOf(log.createSession(sessionId))).toBe(ErrorCode.SessionEnded);
    expect(await codeOf(log.endSession(sessionId))).toBe(ErrorCode.SessionEnded);

    // Only the tombstone is left.
    const keys = await server.keys(`${log.options.keyPrefix}:{*`);
    expect(keys).toEqual([log.keys(sessionId).tomb]);
  });

  it('refuses to create a session twice', async () => {
    const log = await logs.open();
    const sessionId = uniqueId();
    await log.createSession(sessionId);
    expect(await codeOf(log.createSession(sessionId))).toBe(ErrorCode.SessionExists);
  });

  it('expires an idle session with all its keys, leaving a tombstone that fails late appends', async () => {
    // Dedupe hashes never outlive the session: every key goes, the inbox's too.
    const log = await logs.open({ idleTtlMs: 300 });
    const sessionId = uniqueId();
    const { epoch } = await log.createSession(sessionId);
    await log.append(sessionId, 'a', { id: 'with-id' });
    await log.enqueueInbound(sessionId, { id: 'inbound-1', data: 'hello' });
    await log.ack(sessionId, { epoch, offset: 1 });
    const admin = server.client();
    const keys = log.keys(sessionId);
    expect(await admin.exists(keys.meta, keys.log, keys.tomb)).toBe(3);

    await waitFor(
      async () => {
        const left = await server.keys(`${log.options.keyPrefix}:{*`);
        return left.length === 1 && left[0] === keys.tomb;
      },
      { timeoutMs: 5000, what: 'every key but the tombstone to expire' },
    );
    expect(await codeOf(log.append(sessionId, 'late'))).toBe(ErrorCode.SessionEnded);
    expect(await admin.get(keys.tomb)).toBe('expired');
    expect(await admin.pttl(keys.tomb)).toBeGreaterThan(0);
  });

  it('counts appends, acks and touches as activity', async () => {
    const log = await logs.open({ idleTtlMs: 60_000 });
    const sessionId = uniqueId();
    const { epoch } = await log.createSession(sessionId);
    const admin = server.client();
    const { meta, log: logKey } = log.keys(sessionId);
    // A connect (touch) always refreshes the expiry, by at least the idle ttl.
    await admin.pexpire(meta, 1000);
    await log.touch(sessionId);
    expect(await admin.pttl(meta)).toBeGreaterThan(60_000);
    // Appends and acks refresh it at most once per housekeeping interval (a second here): the
    // first one after the interval does.
    for (const activity of [() => log.append(sessionId, 1), () => log.ack(sessionId, { epoch, offset: 1 })]) {
      await admin.pexpire(meta, 5000);
      await admin.pexpire(logKey, 5000);
      await waitFor(
        async () => {
          await activity();
          return (await admin.pttl(meta)) > 60_000 && (await admin.pttl(logKey)) > 60_000;
        },
        { timeoutMs: 3000, intervalMs: 50, what: 'the activity to refresh the idle expiry' },
      );
    }
  });

  it('keeps a session with steady appends, acks or an open connection alive past its idle ttl, then expires it', async () => {
    const idleTtlMs = 400;
    const log = await logs.open({ idleTtlMs });
    const sessionId = uniqueId();
    const { epoch } = await log.createSession(sessionId);
    const admin = server.client();
    const { meta } = log.keys(sessionId);
    // Activity every 50 ms for three idle ttls each: first appends, then acks alone.
    const steadily = async (activity: () => Promise<unknown>): Promise<void> => {
      const until = Date.now() + 3 * idleTtlMs;
      while (Date.now() < until) {
        await activity();
        expect(await admin.exists(meta)).toBe(1);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    await steadily(() => log.append(sessionId, 'tick'));
    await steadily(() => log.ack(sessionId, { epoch, offset: 1 }));
    // A client that stays connected with no traffic: only its edge's lease renewals.
    const { generation } = await log.claimLease(sessionId, 'default', 'conn-1', 1000);
    await steadily(() => log.renewLease(sessionId, 'default', generation, 1000));
    await waitFor(async () => (await admin.exists(meta)) === 0, {
      timeoutMs: 5000,
      what: 'the session to expire once activity stopped',
    });
  });

  it('fences acks of a connection whose consumer lease was taken by a newer one', async () => {
    const log = await logs.open();
    const sessionId = uniqueId();
    const { epoch } = await log.createSession(sessionId);
    await log.appendBatch(
      sessionId,
      Array.from({ length: 5 }, (_, i) => ({ data: i })),
    );

    const first = await log.claimLease(sessionId, 'phone', 'conn-1');
    expect(first).toEqual({ generation: 1, previousHolder: undefined });
    expect(await log.ack(sessionId, { epoch, offset: 2, consumerId: 'phone', leaseGeneration: 1 })).toEqual({
      ackedOffset: 2,
    });
    const second = await log.claimLease(sessionId, 'phone', 'conn-2');
    expect(second).toEqual({ generation: 2, previousHolder: 'conn-1' });
    expect(
      await codeOf(log.ack(sessionId, { epoch, offset: 4, consumerId: 'phone', leaseGeneration: 1 })),
    ).toBe(ErrorCode.Replaced);
    expect(await log.renewLease(sessionId, 'phone', 1, 60_000)).toBe(2);
    expect((await log.info(sessionId)).connected).toEqual({ phone: true });
    // A release by the replaced connection changes nothing; the holder's own release does.
    await log.releaseLease(sessionId, 'phone', 1);
    expect((await log.info(sessionId)).connected).toEqual({ phone: true });
    await log.releaseLease(sessionId, 'phone', 2);
    expect((await log.info(sessionId)).connected).toEqual({});
    expect(await log.ack(sessionId, { epoch, offset: 3, consumerId: 'phone', leaseGeneration: 2 })).toEqual({
      ackedOffset: 3,
    });
    // Leases are per consumer.
    expect((await log.claimLease(sessionId, 'laptop', 'conn-3')).generation).toBe(1);
    expect(await log.renewLease(uniqueId(), 'phone', 1, 1000)).toBeUndefined();
    // Presence runs out with the lease when nobody renews it (a crashed edge).
    await log.claimLease(sessionId, 'tablet', 'conn-4', 1);
    await waitFor(async () => (await log.info(sessionId)).connected.tablet === false, {
      what: 'presence to lapse',
    });
  });

  // One call carries sessions of many slots: CROSSSLOT on a cluster until the hot-path work groups
  // renewals per partition (issue 16); it also counts calls in one server's commandstats.
  it.skipIf(TOPOLOGY === 'cluster')(
    'renews many leases in one call per batch, answering each as a single renewal would',
    async () => {
      const log = await logs.open();
      const admin = server.client();
      const sessions = Array.from({ length: 300 }, () => uniqueId());
      for (const sessionId of sessions) await log.createSession(sessionId);
      const held = await Promise.all(
        sessions.map(async (sessionId) => {
          const { generation } = await log.claimLease(sessionId, 'default', `conn-${sessionId}`, 1);
          return { sessionId, consumerId: 'default', generation };
        }),
      );
      // Three that are not held any more: taken over, rolled back (a generation Redis never gave
      // out), and a session that is gone.
      await log.claimLease(sessions[0]!, 'default', 'newer', 60_000);
      const rolledBack = { ...held[1]!, generation: 9 };
      await log.endSession(sessions[2]!);
      await admin.config('RESETSTAT');

      const answers = await log.renewLeases([held[0]!, rolledBack, ...held.slice(2)], 60_000);
      expect(answers.slice(0, 3)).toEqual([2, 1, undefined]);
      expect(answers.slice(3)).toEqual(held.slice(3).map((h) => h.generation));
      // 300 leases, in two script calls (LEASE_RENEW_BATCH = 256), not 300.
      const stats = await admin.info('commandstats');
      const calls = /cmdstat_eval(?:sha)?:calls=(\d+)/g;
      let scriptCalls = 0;
      for (let m = calls.exec(stats); m; m = calls.exec(stats)) scriptCalls += Number(m[1]);
      expect(scriptCalls).toBe(2);
      // Renewed ones count as connected again (their claims lasted 1 ms); fenced ones renew nothing.
      expect((await log.info(sessions[3]!)).connected).toEqual({ default: true });
      expect((await log.info(sessions[1]!)).connected).toEqual({ default: false });
    },
  );
});
