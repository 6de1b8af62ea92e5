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

async function expectCode(promise: Promise<unknown>, code: string): Promise<HoldfastError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HoldfastError);
  expect((error as HoldfastError).code).toBe(code);
  return error as HoldfastError;
}

describe('append', () => {
  it('assigns contiguous offsets to 20 concurrent producers x 1,000 appends, keeping each producer in order', async () => {
    const log = await logs.open();
    const sessionId = uniqueId();
    const { epoch } = await log.createSession(sessionId);
    const producers = 20;
    const perProducer = 1000;

    // Each producer awaits nothing between appends, so group commit sees real concurrency.
    const results = await Promise.all(
      Array.from({ length: producers }, (_, p) =>
        Promise.all(Array.from({ length: perProducer }, (_, i) => log.append(sessionId, { p, i }))),
      ),
    );

    const offsets = results.flat().map((r) => r.offset);
    expect(new Set(results.flat().map((r) => r.epoch))).toEqual(new Set([epoch]));
    expect(offsets.length).toBe(producers * perProducer);
    expect(new Set(offsets).size).toBe(offsets.length);
    expect(Math.min(...offsets)).toBe(1);
    expect(Math.max(...offsets)).toBe(producers * perProducer);
    for (const producerResults of results) {
      const own = producerResults.map((r) => r.offset);
      expect(own).toEqual([...own].sort((a, b) => a - b));
    }

    // The log holds each message at the offset its producer was told.
    const byOffset = new Map<number, unknown>();
    for (let from = 1; from <= producers * perProducer;) {
      const page = await log.read(sessionId, { from, limit: 5000 });
      for (const entry of page.entries) byOffset.set(entry.offset, entry.data);
      from = page.entries.at(-1)!.offset + 1;
    }
    results.forEach((producerResults, p) =>
      producerResults.forEach((r, i) => expect(byOffset.get(r.offset)).toEqual({ p, i })),
    );
  });

  // Counts script calls in one server's INFO commandstats: a standalone-only measurement.
  it.skipIf(TOPOLOGY === 'cluster')(
    'coalesces concurrent appends into few script calls (group commit)',
    async () => {
      const log = await logs.open();
      const sessions = Array.from({ length: 50 }, () => uniqueId());
      await Promise.all(sessions.map((s) => log.createSession(s)));
      const admin = server.client();
      await admin.config('RESETSTAT');

      await Promise.all(sessions.flatMap((s) => Array.from({ length: 40 }, (_, i) => log.append(s, i))));

      const stats = await admin.info('commandstats');
      const calls = (name: string): number =>
        Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
      const scriptCalls = calls('evalsha') + calls('eval');
      // 2,000 appends: one call per session per pipeline, not one per message.
      expect(scriptCalls).toBeGreaterThan(0);
      expect(scriptCalls).toBeLessThanOrEqual(sessions.length * 2);
      for (const s of sessions) expect((await log.info(s)).head).toBe(40);
    },
  );

  it('is idempotent by message id: a repeat returns the original offset and writes nothing', async () => {
    const log = await logs.open();
    const sessionId = uniqueId();
    await log.createSession(sessionId);
    const first = await log.append(sessionId, 'hello', { id: 'msg-1' });
    await log.append(sessionId, 'other');
    const again = await log.append(sessionId, 'hello, changed', { id: 'msg-1' });
    expect(first).toMatchObject({ offset: 1, duplicate: false });
    expect(again).toEqual({ ...first, duplicate: true });

    // Within one batch, and across concurrent retries of the same id.
    const batch = await log.appendBatch(sessionId, [
      { data: 'x', id: 'msg-2' },
      { data: 'x again', id: 'msg-2' },
      { data: 'y', id: 'msg-1' },
    ]);
    expect(batch.map((r) => [r.offset, r.duplicate])).toEqual([
      [3, false],
      [3, true],
      [1, true],
    ]);
    const retries = await Promise.all(
      Array.from({ length: 10 }, () => log.append(sessionId, 'z', { id: 'msg-3' })),
    );
    expect(new Set(retries.map((r) => r.offset))).toEqual(new Set([4]));

    const read = await log.read(sessionId, { from: 1 });
    expect(read.entries.map((e) => e.data)).toEqual(['hello', 'other', 'x', 'z']);
  });

  it('forgets message ids after the dedupe window', async () => {
    const log = await logs.open({ dedupeWindowMs: 100 });
    const sessionId = uniqueId();
    await log.createSession(sessionId);
    const first = await log.append(sessionId, 'a', { id: 'once' });
    expect(first.duplicate).toBe(false);
    // Ids are remembered for one to two windows; keep re-appending until it is forgotten.
    const later = await waitFor(
      async () => {
        const r = await log.append(sessionId, 'a', { id: 'once' });
        return r.duplicate ? undefined : r;
      },
      { timeoutMs: 5000, intervalMs: 25, what: 'message id to leave the dedupe window' },
    );
    expect(later.offset).toBe(2);
  });

  it('publishes each append, batch included, as one notification on the live channel', async () => {
    const log = await logs.open();
    const sessionId = uniqueId();
    const { epoch } = await log.createSession(sessionId);
    const subscriber = server.client();
    const received: string[] = [];
    subscriber.on('smessage', (_channel: string, message: string) => received.push(message));
    await subscriber.ssubscribe(log.keys(sessionId).live);

    await log.appendBatch(sessionId, [
      { data: { t: 'delta', text: 'he' } },
      { data: { t: 'delta', text: 'llo' } },
    ]);
    await log.append(sessionId, 'done');

    await waitFor(() => received.length >= 2, { what: 'two notifications' });
    // `t`: when Redis stored the entries (its clock), the start of the edge's delivery latency.
    const storedAt = expect.any(Number) as unknown;
    expect(received.map((m) => JSON.parse(m) as unknown)).toEqual([
      {
        e: epoch,
        o: 1,
        n: 2,
        t: storedAt,
        d: [
          { t: 'delta', text: 'he' },
          { t: 'delta', text: 'llo' },
        ],
      },
      { e: epoch, o: 3, n: 1, t: storedAt, d: ['done'] },
    ]);
    const [first] = received.map((m) => JSON.parse(m) as { t: number });
    expect(Math.abs(first!.t - Date.now())).toBeLessThan(60_000);
  });

  it('rejects bad ids and payloads with typed errors and writes nothing', async () => {
    const log = await logs.open({ maxPayloadBytes: 1024 });
    const sessionId = uniqueId();
    await log.createSession(sessionId);

    for (const bad of ['', 'a*b', 'a{b}', 'a:b', 'a\nb', 'x'.repeat(10_000), 'caf\u00e9', '\ud800']) {
      await expectCode(log.append(bad, 1), ErrorCode.InvalidSessionId);
      await expectCode(log.append(sessionId, 1, { id: bad }), ErrorCode.InvalidMessageId);
      await expectCode(
        log.ack(sessionId, { epoch: 'e', offset: 0, consumerId: bad }),
        ErrorCode.InvalidConsumerId,
      );
    }
    await expectCode(log.append(sessionId, 'x'.repeat(2000)), ErrorCode.PayloadTooLarge);
    await expectCode(log.append(sessionId, undefined), ErrorCode.InvalidPayload);
    await expectCode(log.append(sessionId, 10n), ErrorCode.InvalidPayload);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expectCode(log.append(sessionId, cyclic), ErrorCode.InvalidPayload);
    // One bad message fails the whole batch.
    await expectCode(
      log.appendBatch(sessionId, [{ data: 'fine' }, { data: 'x'.repeat(2000) }]),
      ErrorCode.PayloadTooLarge,
    );
    await expectCode(log.appendBatch(sessionId, []), ErrorCode.InvalidPayload);
    await expectCode(
      log.appendBatch(
        sessionId,
        Array.from({ length: 1001 }, () => ({ data: 1 })),
      ),
      ErrorCode.BatchTooLarge,
    );
    await expectCode(log.read(sessionId, { from: -1 }), ErrorCode.InvalidOffset);
    await expectCode(log.read(sessionId, { from: 1.5 }), ErrorCode.InvalidOffset);

    expect((await log.info(sessionId)).head).toBe(0);
    // Multi-byte characters count as their UTF-8 bytes.
    await expectCode(log.append(sessionId, '\u{1F600}'.repeat(300)), ErrorCode.PayloadTooLarge);
  });

  it('fails appends to unknown sessions without creating them', async () => {
    const log = await logs.open();
    const sessionId = uniqueId();
    await expectCode(log.append(sessionId, 1), ErrorCode.SessionNotFound);
    await expectCode(log.info(sessionId), ErrorCode.SessionNotFound);
    expect(await server.keys(`${log.options.keyPrefix}:{*`)).toEqual([]);
  });
});
