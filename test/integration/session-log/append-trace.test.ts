import { describe, expect, it } from 'vitest';
import { ErrorCode, HoldfastError } from '@holdfast/protocol';
import type { AppendTrace } from '@holdfast/session-log';
import { useOwnRedisServer, uniqueId } from '../../helpers/session-log-fixture.js';

const own = useOwnRedisServer();
const logs = own.logs;

describe('group commit flushes', () => {
  it('traces every append through its stages, in order, when appendTrace is set', async () => {
    const traces: AppendTrace[] = [];
    const log = await logs.open({ appendTrace: (trace) => traces.push({ ...trace }) });
    const sessions = [uniqueId(), uniqueId(), uniqueId()];
    await Promise.all(sessions.map((s) => log.createSession(s)));

    // Same tick: one flush, one script call (a standalone Redis: every session shares it).
    await Promise.all([
      ...sessions.map((s) => log.append(s, 'one')),
      log.appendBatch(sessions[0] as string, [{ data: 'a' }, { data: 'b' }]),
    ]);

    expect(traces).toHaveLength(4);
    for (const t of traces) {
      const stamps = [t.calledAt, t.enqueuedAt, t.flushStartedAt, t.sentAt, t.repliedAt, t.resolvedAt];
      expect(stamps.every((s) => s > 0)).toBe(true);
      expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
      expect(t.flushCalls).toBe(1);
    }
    expect(traces.map((t) => t.messages).sort()).toEqual([1, 1, 1, 2]);
    expect(new Set(traces.map((t) => t.sessionId))).toEqual(new Set(sessions));
  });

  it('answers each caller of a flush from its own call: one failing session fails only its callers', async () => {
    const log = await logs.open();
    const live = [uniqueId(), uniqueId()];
    const missing = uniqueId();
    await Promise.all(live.map((s) => log.createSession(s)));

    // One flush, one script call; the middle session is not found, and fails alone.
    const [first, failed, last] = await Promise.allSettled([
      log.append(live[0] as string, 'x'),
      log.append(missing, 'x'),
      log.append(live[1] as string, 'x'),
    ]);

    expect(first).toMatchObject({ status: 'fulfilled', value: { offset: 1 } });
    expect(last).toMatchObject({ status: 'fulfilled', value: { offset: 1 } });
    expect(failed.status).toBe('rejected');
    const error = (failed as PromiseRejectedResult).reason as HoldfastError;
    expect(error).toBeInstanceOf(HoldfastError);
    expect(error.code).toBe(ErrorCode.SessionNotFound);
  });

  it('keeps per-session order across flushes when several are in flight', async () => {
    const log = await logs.open({ groupCommit: { maxInFlight: 4, maxMessagesPerCall: 3 } });
    const sessionId = uniqueId();
    await log.createSession(sessionId);

    // Appends spread over many ticks, so flushes overlap; and calls split at 3 messages.
    const pending: Array<Promise<{ offset: number }>> = [];
    for (let tick = 0; tick < 50; tick++) {
      for (let i = 0; i < 7; i++) pending.push(log.append(sessionId, tick * 7 + i));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const offsets = (await Promise.all(pending)).map((r) => r.offset);

    expect(offsets).toEqual(Array.from({ length: 350 }, (_, i) => i + 1));
    const page = await log.read(sessionId, { from: 1, limit: 1000 });
    expect(page.entries.map((e) => e.data)).toEqual(Array.from({ length: 350 }, (_, i) => i));
  });
});
